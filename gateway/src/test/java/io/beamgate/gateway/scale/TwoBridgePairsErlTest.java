package io.beamgate.gateway.scale;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.beamgate.gateway.server.GatewayServer;
import io.beamgate.gateway.server.TestBed;
import io.beamgate.node.testing.ErlNode;
import io.beamgate.node.testing.RealEpmd;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two gateway pairs bridging the same two clusters (docs/deployment.md, section 8): cluster
 * B's code sees cluster A under two node names, one per pair; when one pair goes down, calls
 * through its name fail as calls to a node that went down, and the other name keeps working.
 */
class TwoBridgePairsErlTest {
  static final String POLICY_A = """
      version: 1
      rules:
        - id: cluster-b
          principals: ["dns:gw-b.test"]
          calls: ["bridgekv:whoami/0", "bridgekv:echo/1"]
      """;
  static final String POLICY_B = """
      version: 1
      rules:
        - id: nobody
          principals: ["uri:spiffe://test/nobody"]
          calls: ["erlang:node/0"]
      """;

  @TempDir Path dir;
  RealEpmd epmdA;
  RealEpmd epmdB;
  ErlNode a1;
  ErlNode b1;
  final GatewayServer[] gwA = new GatewayServer[2];
  final GatewayServer[] gwB = new GatewayServer[2];
  final String[] standIn = new String[2];

  @BeforeEach
  void setUp() throws Exception {
    TestBed first = new TestBed(dir.resolve("a0"), null, "gw-a.test");
    TestBed[] bedA = {first, new TestBed(dir.resolve("a1"), first, "gw-a.test")};
    TestBed[] bedB = {new TestBed(dir.resolve("b0"), first, "gw-b.test"),
        new TestBed(dir.resolve("b1"), first, "gw-b.test")};
    Files.writeString(bedA[1].dir.resolve("cookie"), bedA[0].cookie);
    Files.writeString(bedB[1].dir.resolve("cookie"), bedB[0].cookie);
    epmdA = RealEpmd.start();
    epmdB = RealEpmd.start();
    a1 = ErlNode.startLong(ErlNode.uniqueName("a1") + "@127.0.0.1", bedA[0].cookie,
        epmdA.port());
    b1 = ErlNode.startLong(ErlNode.uniqueName("b1") + "@127.0.0.1", bedB[0].cookie,
        epmdB.port());
    Path src = Path.of(getClass().getResource("/bridgekv.erl").toURI());
    a1.evalOk("{ok, bridgekv, Bin} = compile:file(\"" + src + "\", [binary, return_errors]),"
        + " {module, bridgekv} = code:load_binary(bridgekv, \"bridgekv.erl\", Bin).");
    for (int i = 0; i < 2; i++) {
      bedA[i].writePolicy(POLICY_A);
      bedB[i].writePolicy(POLICY_B);
      gwA[i] = GatewayServer.start(bedA[i].writeConfig(List.of(a1.name()), epmdA.port(),
          "round_robin", ""), GatewayServer.Options.DEFAULTS);
      standIn[i] = ErlNode.uniqueName("clusterA" + i) + "@127.0.0.1";
      gwB[i] = GatewayServer.start(bedB[i].writeConfig(List.of(b1.name()), epmdB.port(),
          "round_robin", "bridge: {keepalive_ms: 300}\n"
              + "bridges:\n"
              + "  - name: a\n"
              + "    connect: {host: 127.0.0.1, port: " + gwA[i].listenAddress().getPort()
              + "}\n"
              + "    expect: \"dns:gw-a.test\"\n"
              + "    node_name: " + standIn[i] + "\n"
              + "    reconnect_min_ms: 50\n"
              + "    reconnect_max_ms: 300\n"), GatewayServer.Options.DEFAULTS);
    }
    for (GatewayServer g : gwB) {
      long end = System.nanoTime() + Duration.ofSeconds(15).toNanos();
      while (!Boolean.TRUE.equals(g.bridgesUp().get("a")) && System.nanoTime() < end) {
        Thread.sleep(20);
      }
      assertEquals(Boolean.TRUE, g.bridgesUp().get("a"), "bridge up");
    }
  }

  @AfterEach
  void tearDown() throws Exception {
    for (GatewayServer[] gs : List.of(gwB, gwA)) {
      for (GatewayServer g : gs) {
        if (g != null) {
          g.close();
        }
      }
    }
    a1.close();
    b1.close();
    epmdA.close();
    epmdB.close();
  }

  String onB(String exprs) throws Exception {
    return b1.evalOk("N0 = '" + standIn[0] + "', N1 = '" + standIn[1] + "', " + exprs);
  }

  @Test
  void clusterBSeesTwoNamesAndTheSurvivingOneKeepsWorking() throws Exception {
    String backend = "'" + a1.name() + "'";
    assertEquals(backend, onB("erpc:call(N0, bridgekv, whoami, [])."));
    assertEquals(backend, onB("erpc:call(N1, bridgekv, whoami, [])."));
    // pair 0 goes down: its name fails like a node that went down, the other serves
    gwB[0].close();
    gwB[0] = null;
    String r = onB("try erpc:call(N0, bridgekv, echo, [x], 3000) catch error:{erpc, R} -> R"
        + " end.");
    assertTrue(r.equals("noconnection"), "the lost pair's name: " + r);
    assertEquals("x", onB("erpc:call(N1, bridgekv, echo, [x])."));
    // code that knows both names fails over by itself
    assertEquals("x", onB("lists:foldl(fun(N, none) -> try erpc:call(N, bridgekv, echo, [x],"
        + " 3000) catch error:{erpc, _} -> none end; (_, Got) -> Got end, none, [N0, N1])."));
  }
}
