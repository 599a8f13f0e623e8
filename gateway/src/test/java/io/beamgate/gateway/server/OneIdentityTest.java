package io.beamgate.gateway.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.beamgate.certs.HeldCertificate;
import io.beamgate.gateway.proto.ClientFrame;
import io.beamgate.gateway.proto.Error;
import io.beamgate.gateway.proto.Ping;
import io.beamgate.gateway.proto.ServerFrame;
import io.beamgate.node.LocalNode;
import io.beamgate.node.NodeConfig;
import io.beamgate.node.epmd.EpmdServer;
import io.beamgate.node.rpc.RpcServer;
import io.beamgate.node.term.Atom;
import io.beamgate.node.term.Int;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * One identity per certificate, over real TLS: a certificate that also carries alice's name as
 * a second SAN never gets alice's calls, and is refused (two URI SANs) or named, limited and
 * audited as its one name (its first DNS SAN). Rules naming what no certificate can carry keep
 * the gateway from starting and a reload from applying, with every such rule in the message.
 */
class OneIdentityTest {
  static final String POLICY = """
      version: 1
      rules:
        - id: alice
          principals: ["uri:spiffe://test/alice", "dns:alice.test"]
          calls: ["kv:put/2"]
        - id: nobody
          principals: ["dns:nobody.test"]
          calls: ["kv:count/0"]
      """;

  @TempDir Path dir;
  TestBed bed;
  EpmdServer epmd;
  LocalNode backend;
  ExecutorService pool = Executors.newCachedThreadPool();
  GatewayServer gw;
  final AtomicInteger executed = new AtomicInteger();

  @BeforeEach
  void setUp() throws Exception {
    bed = new TestBed(dir);
    bed.writePolicy(POLICY);
    epmd = EpmdServer.start(EpmdServer.Config.loopback(0));
    backend = LocalNode.start(NodeConfig.builder("kv" + Long.toHexString(System.nanoTime())
        + "@127.0.0.1").cookie(bed.cookie).epmdPort(epmd.port()).build());
    RpcServer.start(backend, pool)
        .register("kv", "put", 2, a -> {
          executed.incrementAndGet();
          return Atom.OK;
        })
        .register("kv", "count", 0, a -> Int.of(executed.get()));
    gw = GatewayServer.start(bed.writeConfig(List.of(backend.name()), epmd.port(),
        "round_robin", ""), GatewayServer.Options.DEFAULTS
        .withBackendWait(Duration.ofSeconds(5)));
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

  RawClient connect(String file, HeldCertificate.Builder b) throws Exception {
    return RawClient.connect(gw.listenAddress(), bed.client(file, b.clientAuth()));
  }

  static ClientFrame put(long id) throws Exception {
    return GatewayServerTest.call(id, "kv", "put", Int.of(1), Int.of(1));
  }

  @Test
  void twoUriSansAreRefusedAtIdentityAndNeverGetTheSecondNamesCall() throws Exception {
    // The control: alice's own certificate is allowed the call.
    try (RawClient alice = connect("alice", HeldCertificate.builder()
        .uri("spiffe://test/alice"))) {
      alice.send(put(1));
      assertEquals(Atom.OK, GatewayServerTest.result(alice.next()));
    }
    assertEquals(1, executed.get());
    try (RawClient both = connect("both", HeldCertificate.builder().commonName("alice")
        .uri("spiffe://test/nobody").uri("spiffe://test/alice"))) {
      try {
        both.send(put(2));
      } catch (Exception closedAlready) { // Netty rethrows ClosedChannelException unchecked
        // the gateway may have closed the connection before the frame went out
      }
      assertTrue(both.awaitClosed(Duration.ofSeconds(10)), "refused: the connection closes");
      assertNull(both.next(Duration.ofMillis(200)), "no answer, not even an error");
    }
    assertEquals(1, executed.get(), "the call never reached the cluster");
    GatewayServerTest.waitUntil(() -> audit().contains("2 URI SANs"));
    String refusal = audit().lines().filter(l -> l.contains("2 URI SANs")).findFirst()
        .orElseThrow();
    assertTrue(refusal.contains("\"decision\":\"denied\"")
        && refusal.contains("\"reason\":\"identity: the certificate has 2 URI SANs"
            + " [spiffe://test/nobody, spiffe://test/alice]"), refusal);
    assertFalse(refusal.contains("\"principal\""), "refused before it is anyone: " + refusal);
    assertEquals(1, audit().lines().filter(l -> l.contains("\"mfa\":\"kv:put/2\"")).count(),
        "only alice's own call is audited: " + audit());
  }

  @Test
  void aSecondDnsSanGivesNoRightsAndTheFirstIsTheOneNameAudited() throws Exception {
    try (RawClient c = connect("dns-both", HeldCertificate.builder().commonName("alice")
        .dns("nobody.test").dns("alice.test"))) {
      c.send(ClientFrame.newBuilder().setId(1).setPing(Ping.getDefaultInstance()).build());
      assertEquals("nobody.test", c.next().getPong().getPrincipal());
      c.send(put(2));
      ServerFrame f = c.next();
      Error e = GatewayServerTest.error(f);
      assertEquals(Error.Code.PERMISSION_DENIED, e.getCode());
      assertTrue(e.getReason().contains("kv:put/2") && e.getReason().contains("nobody.test"),
          e::getReason);
      c.send(GatewayServerTest.call(3, "kv", "count", new io.beamgate.node.term.Term[0]));
      assertEquals(Int.of(0), GatewayServerTest.result(c.next()), "its own rule applies");
    }
    assertEquals(0, executed.get());
    GatewayServerTest.waitUntil(() -> audit().contains("\"mfa\":\"kv:count/0\""));
    for (String line : audit().lines().filter(l -> l.contains("\"mfa\"")).toList()) {
      assertTrue(line.contains("\"principal\":\"nobody.test\""), line);
      assertFalse(line.contains("alice"), line);
    }
    String denied = audit().lines().filter(l -> l.contains("\"mfa\":\"kv:put/2\""))
        .findFirst().orElseThrow();
    assertTrue(denied.contains("\"decision\":\"denied\""), denied);
  }

  @Test
  void rulesNoCertificateCanCarryStopAStartAndAreRefusedOnReloadAllAtOnce() throws Exception {
    bed.writePolicy(POLICY.replace("\"dns:alice.test\"", "\"dns:alice_test\", \"sha256:ab\""));
    GatewayServer.ReloadResult r = gw.reload();
    assertFalse(r.ok());
    assertTrue(r.message().contains("stay in force") && r.message().contains("2 problems:")
        && r.message().contains("principal rule 'dns:alice_test'")
        && r.message().contains("principal rule 'sha256:ab'"), r::message);
    try (RawClient alice = connect("alice", HeldCertificate.builder()
        .uri("spiffe://test/alice"))) {
      alice.send(put(1));
      assertEquals(Atom.OK, GatewayServerTest.result(alice.next()), "the old policy holds");
    }
    gw.close();
    gw = null;
    io.beamgate.security.yaml.ConfigException e = org.junit.jupiter.api.Assertions
        .assertThrows(io.beamgate.security.yaml.ConfigException.class,
            () -> GatewayServer.start(bed.writeConfig(List.of(backend.name()), epmd.port(),
                "round_robin", ""), GatewayServer.Options.DEFAULTS));
    assertTrue(e.getMessage().contains("policy.yaml: 2 problems:\n  ")
        && e.getMessage().contains("policy.yaml:4: principals: principal rule 'sha256:ab': 2"
            + " hex digits"), e::getMessage);
  }

  String audit() {
    try {
      return bed.auditText();
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }
}
