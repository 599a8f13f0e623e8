package io.beamgate.gateway.server;

import static io.beamgate.gateway.server.AdminHttpTest.sample;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.beamgate.node.LocalNode;
import io.beamgate.node.NodeConfig;
import io.beamgate.node.epmd.EpmdServer;
import io.beamgate.node.rpc.RpcServer;
import io.beamgate.node.term.Atom;
import io.beamgate.node.term.Binary;
import io.beamgate.node.term.ErlList;
import io.beamgate.node.term.Int;
import io.beamgate.node.term.Ref;
import io.beamgate.node.term.Term;
import io.beamgate.node.term.Tuple;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Bridge metrics: calls relayed over a link, and the link's queue, seen in a scrape. */
class BridgeMetricsTest {
  static final Duration WAIT = Duration.ofSeconds(5);
  @TempDir Path dir;
  TestBed bedA;
  TestBed bedB;
  EpmdServer epmd;
  LocalNode backend;
  GatewayServer gw;

  @BeforeEach
  void setUp() throws Exception {
    bedA = new TestBed(dir.resolve("a"), null, "gw-a.test");
    bedB = new TestBed(dir.resolve("b"), bedA, "gw-b.test");
    bedA.writePolicy(BridgeLinkTest.POLICY);
    epmd = EpmdServer.start(EpmdServer.Config.loopback(0));
    backend = LocalNode.start(NodeConfig.builder("kvm" + System.nanoTime() + "@127.0.0.1")
        .cookie(bedA.cookie).epmdPort(epmd.port()).build());
    RpcServer.start(backend, Executors.newCachedThreadPool())
        .register("kv", "echo", 1, a -> a.get(0));
    gw = GatewayServer.start(bedA.writeConfig(List.of(backend.name()), epmd.port(),
        "round_robin", ""), GatewayServer.Options.DEFAULTS);
  }

  @AfterEach
  void tearDown() {
    gw.close();
    backend.close();
    epmd.close();
  }

  @Test
  void callsServedForTheOtherGatewayAreCountedAndItsQueueIsSeen() throws Exception {
    String before = gw.metrics().scrape(null).body();
    assertEquals(0, sample(before, "beamgate_bridge_queued_bytes"), before);
    try (RawBridge b = RawBridge.connect(gw.listenAddress(), bedB)) {
      b.send(Tuple.of(Atom.of("hello"), Int.of(1), Binary.of("test".getBytes())));
      assertEquals(Tuple.of(Atom.of("welcome"), Int.of(1)), b.nextNonPing(WAIT));
      Ref res = new Ref(Atom.of("b1@elsewhere"), 7, new int[] {1, 2, 3});
      for (int i = 1; i <= 3; i++) {
        b.send(Tuple.of(Atom.of("call"), Int.of(i), res, Atom.of("kv"), Atom.of("echo"),
            ErlList.of(Int.of(i))));
        Term t = b.nextNonPing(WAIT);
        assertTrue(t instanceof Tuple r && r.isTagged("result", 3), String.valueOf(t));
      }
      String m = gw.metrics().scrape(null).body();
      assertEquals(3, sample(m, "beamgate_bridge_calls_total", "role=\"server\""), m);
      assertEquals(1, sample(m, "beamgate_bridge_links_up"), m);
      assertEquals(0, sample(m, "beamgate_bridge_queued_bytes"), "all sent: " + m);
      Object session = ((java.util.Map<?, ?>) ((List<?>) gw.status().get("bridges")).get(0));
      assertTrue(session.toString().contains("queued_bytes=0"), session.toString());
    }
  }
}
