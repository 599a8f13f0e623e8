package io.beamgate.gateway.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.beamgate.gateway.proto.Error;
import io.beamgate.node.LocalNode;
import io.beamgate.node.NodeConfig;
import io.beamgate.node.epmd.EpmdServer;
import io.beamgate.node.rpc.RpcServer;
import io.beamgate.node.term.Atom;
import io.beamgate.node.term.Int;
import java.net.InetAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The audit record's fields from a running gateway (issue 12, 13): the schema version first,
 * the gateway's id, one request id per request, and {@code peer} always the remote socket
 * address of the connection (no slash, no link label).
 */
class AuditFieldsTest {
  static final String POLICY = """
      version: 1
      rules:
        - id: alice
          principals: ["dns:alice.test"]
          calls: ["kv:get/1"]
      """;
  static final Pattern HEAD = Pattern.compile(
      "^\\{\"v\":1,\"time\":\"[^\"]+\",\"gateway\":\"([^\"]+)\",\"request_id\":\"([^\"]+)\",");
  static final Pattern PEER = Pattern.compile("\"peer\":\"([^\"]+)\"");

  @TempDir Path dir;
  TestBed bed;
  EpmdServer epmd;
  LocalNode backend;
  ExecutorService pool = Executors.newCachedThreadPool();
  GatewayServer gw;

  @BeforeEach
  void setUp() throws Exception {
    bed = new TestBed(dir);
    bed.writePolicy(POLICY);
    epmd = EpmdServer.start(EpmdServer.Config.loopback(0));
    backend = LocalNode.start(NodeConfig.builder("kv" + Long.toHexString(System.nanoTime())
        + "@127.0.0.1").cookie(bed.cookie).epmdPort(epmd.port()).build());
    RpcServer.start(backend, pool).register("kv", "get", 1, a -> Atom.OK);
  }

  void start(GatewayServer.Options o) throws Exception {
    gw = GatewayServer.start(bed.writeConfig(List.of(backend.name()), epmd.port(),
        "round_robin", ""), o.withBackendWait(Duration.ofSeconds(5)));
  }

  @AfterEach
  void tearDown() {
    if (gw != null) {
      gw.close();
    }
    backend.close();
    epmd.close();
    pool.shutdownNow();
  }

  /** Two requests allowed, one refused: three records, three request ids. */
  List<String> threeRequests() throws Exception {
    try (RawClient alice = RawClient.connect(gw.listenAddress(), bed.client("alice",
        io.beamgate.certs.HeldCertificate.builder().dns("alice.test").clientAuth()))) {
      alice.send(GatewayServerTest.call(1, "kv", "get", Int.of(1)));
      assertEquals(Atom.OK, GatewayServerTest.result(alice.next()));
      alice.send(GatewayServerTest.call(2, "kv", "get", Int.of(2)));
      assertEquals(Atom.OK, GatewayServerTest.result(alice.next()));
      alice.send(GatewayServerTest.call(3, "kv", "put", Int.of(1), Int.of(1)));
      assertEquals(Error.Code.PERMISSION_DENIED, GatewayServerTest.error(alice.next()).getCode());
    }
    GatewayServerTest.waitUntil(() -> requests().size() == 3);
    return requests();
  }

  List<String> requests() {
    try {
      return bed.auditText().lines().filter(l -> l.contains("\"mfa\":\"kv:")).toList();
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  @Test
  void recordsCarryTheVersionTheGatewayAndOneRequestIdEach() throws Exception {
    start(GatewayServer.Options.DEFAULTS);
    String id = InetAddress.getLocalHost().getHostName() + ":" + gw.listenAddress().getPort();
    Set<String> ids = new HashSet<>();
    for (String line : threeRequests()) {
      Matcher m = HEAD.matcher(line);
      assertTrue(m.find(), "v, time, gateway and request_id come first: " + line);
      assertEquals(id, m.group(1), "the default id is host:port: " + line);
      assertTrue(m.group(2).startsWith(id + "/"), line);
      assertTrue(ids.add(m.group(2)), "a request id used twice: " + line);
      Matcher p = PEER.matcher(line);
      assertTrue(p.find(), line);
      assertTrue(p.group(1).matches("127\\.0\\.0\\.1:\\d+"), "peer is the socket address: "
          + line);
      assertFalse(line.contains("\"link\""), "a client's record names no link: " + line);
    }
    assertEquals(3, ids.size());
  }

  @Test
  void theGatewayIdCanBeSet() throws Exception {
    start(GatewayServer.Options.DEFAULTS.withGatewayId("edge-7"));
    for (String line : threeRequests()) {
      Matcher m = HEAD.matcher(line);
      assertTrue(m.find(), line);
      assertEquals("edge-7", m.group(1), line);
      assertTrue(m.group(2).matches("edge-7/\\d+"), line);
    }
  }
}
