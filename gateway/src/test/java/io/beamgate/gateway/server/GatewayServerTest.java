package io.beamgate.gateway.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.beamgate.gateway.proto.Call;
import io.beamgate.gateway.proto.Cancel;
import io.beamgate.gateway.proto.ClientFrame;
import io.beamgate.gateway.proto.Error;
import io.beamgate.gateway.proto.Opaque;
import io.beamgate.gateway.proto.Ping;
import io.beamgate.gateway.proto.ServerFrame;
import io.beamgate.node.LocalNode;
import io.beamgate.node.NodeConfig;
import io.beamgate.node.epmd.EpmdServer;
import io.beamgate.node.rpc.RpcServer;
import io.beamgate.node.term.Atom;
import io.beamgate.node.term.Binary;
import io.beamgate.node.term.Int;
import io.beamgate.node.term.Term;
import io.beamgate.security.yaml.ConfigException;
import io.beamgate.gateway.config.GatewayConfig;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The gateway in front of Java backend nodes (a small key-value service): the request path,
 * routing, limits, frames and reloads. The same behaviours against real erl backends are in
 * GatewayErlTest.
 */
class GatewayServerTest {
  static final String POLICY = """
      version: 1
      atom_budget: 100
      rules:
        - id: kv-users
          principals: ["uri:spiffe://test/alice"]
          calls: ["kv:get/1", "kv:put/2", "kv:whoami/1", "kv:sleep/1", "kv:count/0"]
          limits: {rate_per_second: 100000, concurrency: 1000, timeout_ms: 3000}
        - id: bob-slow
          principals: ["uri:spiffe://test/bob"]
          calls: ["kv:get/1", "kv:sleep/1"]
          limits: {rate_per_second: 5, concurrency: 2, timeout_ms: 3000}
      """;

  @TempDir Path dir;
  TestBed bed;
  EpmdServer epmd;
  final List<LocalNode> backends = new ArrayList<>();
  final Map<Term, Term> store = new ConcurrentHashMap<>();
  final AtomicInteger executed = new AtomicInteger();
  final AtomicInteger running = new AtomicInteger();
  final AtomicInteger maxRunning = new AtomicInteger();
  GatewayServer gw;
  final List<RawClient> clients = new ArrayList<>();

  @BeforeEach
  void setUp() throws Exception {
    bed = new TestBed(dir);
    bed.writePolicy(POLICY);
    epmd = EpmdServer.start(EpmdServer.Config.loopback(0));
  }

  @AfterEach
  void tearDown() {
    clients.forEach(RawClient::close);
    if (gw != null) {
      gw.close();
    }
    backends.forEach(LocalNode::close);
    epmd.close();
  }

  LocalNode backend(String alive) throws Exception {
    LocalNode n = LocalNode.start(NodeConfig.builder(alive + "@127.0.0.1").cookie(bed.cookie)
        .epmdPort(epmd.port()).build());
    RpcServer.start(n, Executors.newCachedThreadPool())
        .register("kv", "get", 1, a -> store.getOrDefault(a.get(0), Atom.UNDEFINED))
        .register("kv", "put", 2, a -> {
          executed.incrementAndGet();
          store.put(a.get(0), a.get(1));
          return Atom.OK;
        })
        .register("kv", "whoami", 1, a -> Atom.of(n.name()))
        .register("kv", "fail", 1, a -> {
          throw new IllegalStateException("bad value " + a.get(0));
        })
        .register("kv", "count", 0, a -> Int.of(executed.get()))
        .register("kv", "sleep", 1, a -> {
          int now = running.incrementAndGet();
          maxRunning.accumulateAndGet(now, Math::max);
          try {
            Thread.sleep(((Int) a.get(0)).value());
          } finally {
            running.decrementAndGet();
          }
          return Atom.OK;
        });
    backends.add(n);
    return n;
  }

  GatewayServer start(String routing, String extra) throws Exception {
    List<String> names = new ArrayList<>();
    for (LocalNode n : backends) {
      names.add(n.name());
    }
    GatewayConfig cfg = bed.writeConfig(names, epmd.port(), routing, extra);
    gw = GatewayServer.start(cfg, GatewayServer.Options.DEFAULTS
        .withBackendWait(Duration.ofSeconds(5)));
    return gw;
  }

  RawClient connect(String who) throws Exception {
    RawClient c = RawClient.connect(gw.listenAddress(), bed.client(who));
    clients.add(c);
    return c;
  }

  static ClientFrame call(long id, String m, String f, Term... args) throws Exception {
    Call.Builder c = Call.newBuilder().setModule(m).setFunction(f);
    for (Term a : args) {
      c.addArgs(io.beamgate.gateway.protocol.TermProto.toProto(a, 50));
    }
    return ClientFrame.newBuilder().setId(id).setCall(c).build();
  }

  static Term result(ServerFrame f) throws Exception {
    assertEquals(ServerFrame.ResponseCase.RESULT, f.getResponseCase(), () -> f.toString());
    return io.beamgate.gateway.protocol.TermProto.fromProto(f.getResult(), "result", 50);
  }

  static Error error(ServerFrame f) {
    assertEquals(ServerFrame.ResponseCase.ERROR, f.getResponseCase(), () -> f.toString());
    return f.getError();
  }

  @Test
  void pingNamesThePrincipal() throws Exception {
    backend("kv1");
    start("round_robin", "");
    RawClient c = connect("alice");
    c.send(ClientFrame.newBuilder().setId(7).setPing(Ping.getDefaultInstance()).build());
    ServerFrame f = c.next();
    assertEquals(7, f.getId());
    assertEquals("spiffe://test/alice", f.getPong().getPrincipal());
    assertEquals(1, f.getPong().getProtocol());
  }

  @Test
  void allowedCallsReachTheBackendAndDeniedOnesDoNot() throws Exception {
    backend("kv1");
    start("round_robin", "");
    RawClient c = connect("alice");
    c.send(call(1, "kv", "put", Binary.of("k".getBytes()), Int.of(42)));
    assertEquals(Atom.OK, result(c.next()));
    c.send(call(2, "kv", "get", Binary.of("k".getBytes())));
    assertEquals(Int.of(42), result(c.next()));
    // bob may get but not put: refused before the cluster, with the reason
    RawClient b = connect("bob");
    b.send(call(3, "kv", "put", Binary.of("k".getBytes()), Int.of(0)));
    Error e = error(b.next());
    assertEquals(Error.Code.PERMISSION_DENIED, e.getCode());
    assertTrue(e.getReason().contains("kv:put/2"), e::getReason);
    // arity mismatch: kv:put/3 is not kv:put/2
    c.send(call(4, "kv", "put", Int.of(1), Int.of(2), Int.of(3)));
    assertEquals(Error.Code.PERMISSION_DENIED, error(c.next()).getCode());
    assertEquals(1, executed.get(), "denied calls never ran");
    assertEquals(Int.of(42), store.get(Binary.of("k".getBytes())));
    String audit = bed.auditText();
    assertTrue(audit.contains("\"mfa\":\"kv:put/2\"") && audit.contains("\"decision\":\"denied\""),
        audit);
    assertEquals(4, audit.lines().filter(l -> l.contains("\"mfa\":\"kv:")).count(), audit);
  }

  @Test
  void opaqueTermsAreRefusedWithTheirPath() throws Exception {
    backend("kv1");
    start("round_robin", "");
    RawClient c = connect("alice");
    io.beamgate.gateway.proto.Term fun = io.beamgate.gateway.proto.Term.newBuilder()
        .setOpaque(Opaque.newBuilder().setText("fun erlang:halt/0")).build();
    io.beamgate.gateway.proto.Term tuple = io.beamgate.gateway.proto.Term.newBuilder()
        .setTuple(io.beamgate.gateway.proto.TermTuple.newBuilder()
            .addElements(io.beamgate.gateway.protocol.TermProto.toProto(Atom.OK, 5))
            .addElements(fun)).build();
    c.send(ClientFrame.newBuilder().setId(1).setCall(Call.newBuilder().setModule("kv")
        .setFunction("put").addArgs(io.beamgate.gateway.protocol.TermProto.toProto(Int.of(1), 5))
        .addArgs(tuple)).build());
    Error e = error(c.next());
    assertEquals(Error.Code.INVALID_ARGUMENT, e.getCode());
    assertEquals("args[1]{1}", e.getPath());
    assertEquals(0, executed.get());
  }

  @Test
  void atomsBeyondTheBudgetAreRefusedAndRefusedCallsSpendNone() throws Exception {
    backend("kv1");
    bed.writePolicy(POLICY.replace("atom_budget: 100",
        "atom_budget: 3\natom_budget_per_principal: 3"));
    start("round_robin", "");
    RawClient c = connect("alice");
    for (int i = 0; i < 3; i++) {
      c.send(call(i + 1, "kv", "get", Atom.of("fresh_" + i)));
      assertEquals(Atom.UNDEFINED, result(c.next()));
    }
    c.send(call(10, "kv", "get", Atom.of("fresh_3")));
    Error e = error(c.next());
    assertEquals(Error.Code.INVALID_ARGUMENT, e.getCode());
    assertTrue(e.getReason().contains("atom budget"), e::getReason);
    // known atoms still pass
    c.send(call(11, "kv", "get", Atom.of("fresh_1")));
    assertEquals(Atom.UNDEFINED, result(c.next()));
  }

  @Test
  void hashRoutingKeepsAKeyOnOneNodeAndRoundRobinSpreads() throws Exception {
    backend("kv1");
    backend("kv2");
    backend("kv3");
    start("hash", "");
    awaitUp(3);
    RawClient c = connect("alice");
    Set<Term> nodesSeen = new HashSet<>();
    for (int k = 0; k < 20; k++) {
      Term first = null;
      for (int rep = 0; rep < 3; rep++) {
        c.send(call(k * 10 + rep + 1, "kv", "whoami", Int.of(k)));
        Term who = result(c.next());
        if (first == null) {
          first = who;
        }
        assertEquals(first, who, "key " + k + " moved");
      }
      nodesSeen.add(first);
    }
    assertEquals(3, nodesSeen.size(), "20 keys should spread over 3 nodes: " + nodesSeen);
  }

  @Test
  void roundRobinUsesEveryBackendAndSkipsADownOne() throws Exception {
    backend("kv1");
    backend("kv2");
    start("round_robin", "");
    awaitUp(2);
    RawClient c = connect("alice");
    Set<Term> seen = new HashSet<>();
    for (int i = 1; i <= 6; i++) {
      c.send(call(i, "kv", "whoami", Int.of(0)));
      seen.add(result(c.next()));
    }
    assertEquals(2, seen.size());
    backends.get(1).close();
    waitUntil(() -> gw.backends().upCount() == 1);
    for (int i = 10; i <= 15; i++) {
      c.send(call(i, "kv", "whoami", Int.of(0)));
      assertEquals(Atom.of(backends.get(0).name()), result(c.next()));
    }
    backends.get(0).close();
    waitUntil(() -> gw.backends().upCount() == 0);
    long t0 = System.nanoTime();
    c.send(call(20, "kv", "whoami", Int.of(0)));
    Error e = error(c.next());
    assertEquals(Error.Code.UNAVAILABLE, e.getCode());
    assertTrue((System.nanoTime() - t0) / 1_000_000 < 1000, "fails fast");
  }

  @Test
  void aBackendComesBackAfterARestart() throws Exception {
    LocalNode n = backend("kvr");
    String name = n.name();
    start("round_robin", "");
    awaitUp(1);
    n.close();
    backends.clear();
    waitUntil(() -> gw.backends().upCount() == 0);
    backend(name.substring(0, name.indexOf('@')));
    waitUntil(() -> gw.backends().upCount() == 1);
    RawClient c = connect("alice");
    c.send(call(1, "kv", "whoami", Int.of(0)));
    assertEquals(Atom.of(name), result(c.next()));
  }

  @Test
  void answersComeOutOfOrderAndCancelStopsTheWait() throws Exception {
    backend("kv1");
    start("round_robin", "");
    RawClient c = connect("alice");
    c.send(call(1, "kv", "sleep", Int.of(600)));
    c.send(call(2, "kv", "sleep", Int.of(10)));
    assertEquals(2, c.next().getId());
    assertEquals(1, c.next().getId());
    c.send(call(3, "kv", "sleep", Int.of(2000)));
    c.send(ClientFrame.newBuilder().setId(4).setCancel(Cancel.newBuilder().setTarget(3)).build());
    ServerFrame a = c.next();
    ServerFrame b = c.next();
    ServerFrame cancelled = a.getId() == 3 ? a : b;
    ServerFrame ok = a.getId() == 3 ? b : a;
    assertEquals(Error.Code.CANCELLED, error(cancelled).getCode());
    assertEquals(ServerFrame.ResponseCase.OK, ok.getResponseCase());
    assertNull(c.next(Duration.ofMillis(2500)), "one answer per request");
  }

  @Test
  void timeoutsAreTheSmallerOfTheRequestsAndTheRules() throws Exception {
    backend("kv1");
    start("round_robin", "");
    RawClient c = connect("alice");
    ClientFrame f = call(1, "kv", "sleep", Int.of(2000));
    c.send(f.toBuilder().setCall(f.getCall().toBuilder().setTimeoutMs(200)).build());
    long t0 = System.nanoTime();
    Error e = error(c.next());
    assertEquals(Error.Code.TIMEOUT, e.getCode());
    long ms = (System.nanoTime() - t0) / 1_000_000;
    assertTrue(ms >= 150 && ms < 1500, "timed out after " + ms + " ms");
  }

  @Test
  void ruleRateAndConcurrencyLimitsAnswerResourceExhausted() throws Exception {
    backend("kv1");
    start("round_robin", "");
    RawClient b = connect("bob");
    // concurrency 2: the third concurrent call is refused
    b.send(call(1, "kv", "sleep", Int.of(500)));
    b.send(call(2, "kv", "sleep", Int.of(500)));
    b.send(call(3, "kv", "sleep", Int.of(500)));
    Error e = error(b.next());
    assertEquals(Error.Code.RESOURCE_EXHAUSTED, e.getCode());
    assertTrue(e.getReason().contains("concurrency"), e::getReason);
    b.next();
    b.next();
    // rate 5/s: ten calls in a row get some refusals naming the rate
    int refused = 0;
    for (int i = 0; i < 10; i++) {
      b.send(call(100 + i, "kv", "get", Int.of(i)));
      ServerFrame f = b.next();
      if (f.hasError()) {
        assertTrue(f.getError().getReason().contains("rate"), f::toString);
        refused++;
      }
    }
    assertTrue(refused >= 3, "refused " + refused);
  }

  @Test
  void badFramesAreAnsweredAndCloseOnlyTheirConnection() throws Exception {
    backend("kv1");
    start("round_robin", "limits: {max_frame_bytes: 1024}\n");
    RawClient good = connect("alice");
    RawClient big = connect("alice");
    RawClient garbage = connect("alice");
    RawClient truncated = connect("alice");
    big.sendRaw(new byte[] {(byte) 0x81, 0x08}); // declares 1025 bytes
    Error e = error(big.next());
    assertEquals(Error.Code.FRAME_TOO_LARGE, e.getCode());
    assertTrue(big.awaitClosed(Duration.ofSeconds(5)));
    garbage.sendRaw(new byte[] {3, (byte) 0xFF, (byte) 0xFF, (byte) 0xFF});
    assertEquals(Error.Code.PROTOCOL_ERROR, error(garbage.next()).getCode());
    assertTrue(garbage.awaitClosed(Duration.ofSeconds(5)));
    byte[] whole = call(1, "kv", "get", Int.of(1)).toByteArray();
    byte[] cut = new byte[whole.length - 2 + 1];
    cut[0] = (byte) (whole.length - 2);
    System.arraycopy(whole, 0, cut, 1, whole.length - 2);
    truncated.sendRaw(cut);
    assertEquals(Error.Code.PROTOCOL_ERROR, error(truncated.next()).getCode());
    assertTrue(truncated.awaitClosed(Duration.ofSeconds(5)));
    // a frame at the limit is fine, and the good connection carries on
    good.send(call(5, "kv", "get", Binary.of(new byte[900])));
    assertEquals(Atom.UNDEFINED, result(good.next()));
    assertTrue(good.isOpen());
  }

  @Test
  void aPolicyThatAllowsNothingIsRefusedAtStart() throws Exception {
    backend("kv1");
    bed.writePolicy("version: 1\nrules: [{id: nothing, principals: [\"dns:x\"]}]\n");
    ConfigException e = assertThrows(ConfigException.class, () -> start("round_robin", ""));
    assertTrue(e.getMessage().contains("allows nothing"), e::getMessage);
  }

  @Test
  void aBrokenPolicyReloadKeepsTheOldOneAndAGoodOneClosesLostPrincipals() throws Exception {
    backend("kv1");
    start("round_robin", "");
    RawClient a = connect("alice");
    RawClient b = connect("bob");
    bed.writePolicy("version: 1\nrules: [ {id: x, oops: 1} ]\n");
    GatewayServer.ReloadResult r = gw.reload();
    assertFalse(r.ok());
    assertTrue(r.message().contains("stay in force"), r::message);
    a.send(call(1, "kv", "put", Int.of(1), Int.of(1)));
    assertEquals(Atom.OK, result(a.next()));
    // bob loses every rule: his connection is closed; alice keeps hers
    bed.writePolicy(POLICY.substring(0, POLICY.indexOf("  - id: bob-slow")));
    r = gw.reload();
    assertTrue(r.ok(), r::message);
    ServerFrame bye = b.next();
    assertEquals(Error.Code.CLOSING, error(bye).getCode());
    assertTrue(b.awaitClosed(Duration.ofSeconds(5)));
    a.send(call(2, "kv", "get", Int.of(1)));
    assertEquals(Int.of(1), result(a.next()));
  }

  @Test
  void theWatcherReloadsAChangedPolicyByItself() throws Exception {
    backend("kv1");
    start("round_robin", "");
    RawClient b = connect("bob");
    b.send(call(1, "kv", "put", Int.of(1), Int.of(1)));
    assertEquals(Error.Code.PERMISSION_DENIED, error(b.next()).getCode());
    bed.writePolicy(POLICY.replace("calls: [\"kv:get/1\", \"kv:sleep/1\"]",
        "calls: [\"kv:get/1\", \"kv:sleep/1\", \"kv:put/2\"]"));
    waitUntil(() -> gw.status().get("generation").equals(2));
    b.send(call(2, "kv", "put", Int.of(1), Int.of(1)));
    assertEquals(Atom.OK, result(b.next()));
  }

  @Test
  void revokingACertificateClosesItsConnectionOnReloadAndRefusesItAfter() throws Exception {
    backend("kv1");
    start("round_robin", "reload: {watch_interval_ms: 0, admin_socket: admin.sock}\n");
    TestBed.Client alice = bed.client("alice");
    RawClient a = RawClient.connect(gw.listenAddress(), alice);
    clients.add(a);
    RawClient other = connect("alice"); // another certificate of alice's, not revoked
    a.send(call(1, "kv", "get", Int.of(1)));
    assertEquals(Atom.UNDEFINED, result(a.next()));
    // alice's chain is in the cache of validated chains now; the reload's new trust manager
    // starts with an empty one, so the CRL below refuses her next handshake
    bed.ca.revoke(alice.held().certificate());
    bed.writeCrl();
    assertTrue(gw.reload().ok());
    assertEquals(Error.Code.CLOSING, error(a.next()).getCode());
    assertTrue(a.awaitClosed(Duration.ofSeconds(5)));
    other.send(call(2, "kv", "get", Int.of(1)));
    assertEquals(Atom.UNDEFINED, result(other.next()));
    RawClient again = RawClient.connect(gw.listenAddress(), alice);
    clients.add(again);
    assertTrue(again.awaitClosed(Duration.ofSeconds(5)), "a revoked certificate is refused");
    // the refusal's audit record names the certificate (serial and fingerprint)
    String serial = "\"serial\":\"" + alice.held().certificate().getSerialNumber()
        .toString(16) + "\"";
    waitUntil(() -> {
      try {
        return bed.auditText().lines().anyMatch(l -> l.contains("tls handshake")
            && l.contains(serial) && l.contains("\"fingerprint\":\""));
      } catch (java.io.IOException e) {
        throw new java.io.UncheckedIOException(e);
      }
    });
  }

  @Test
  void maxConnectionsAtAndPastTheLimit() throws Exception {
    backend("kv1");
    start("round_robin", "limits: {max_connections: 2}\n");
    RawClient a = connect("alice");
    RawClient b = connect("alice");
    a.send(ClientFrame.newBuilder().setId(1).setPing(Ping.getDefaultInstance()).build());
    assertEquals(1, a.next().getId());
    RawClient c;
    try {
      c = connect("alice");
    } catch (Exception e) {
      c = null; // refused before the handshake ended: also a refusal
    }
    assertTrue(c == null || c.awaitClosed(Duration.ofSeconds(5)), "the third is refused");
    b.close();
    waitUntil(() -> gw.status().get("connections").equals(1));
    Thread.sleep(100);
    RawClient d = connect("alice");
    d.send(ClientFrame.newBuilder().setId(2).setPing(Ping.getDefaultInstance()).build());
    assertEquals(2, d.next().getId());
  }

  @Test
  void globalInFlightAtAndPastTheLimit() throws Exception {
    backend("kv1");
    start("round_robin", "limits: {max_in_flight: 2}\n");
    RawClient a = connect("alice");
    a.send(call(1, "kv", "sleep", Int.of(400)));
    a.send(call(2, "kv", "sleep", Int.of(400)));
    a.send(call(3, "kv", "sleep", Int.of(400)));
    Error e = error(a.next());
    assertEquals(Error.Code.RESOURCE_EXHAUSTED, e.getCode());
    assertTrue(e.getReason().contains("max_in_flight"), e::getReason);
    assertEquals(ServerFrame.ResponseCase.RESULT, a.next().getResponseCase());
    assertEquals(ServerFrame.ResponseCase.RESULT, a.next().getResponseCase());
    a.send(call(4, "kv", "sleep", Int.of(1)));
    assertEquals(ServerFrame.ResponseCase.RESULT, a.next().getResponseCase());
  }

  @Test
  void aConnectionPastItsInFlightLimitIsHeldBackNotRefused() throws Exception {
    backend("kv1");
    start("round_robin", "limits: {max_in_flight_per_connection: 2}\n");
    RawClient a = connect("alice");
    for (int i = 1; i <= 6; i++) {
      a.send(call(i, "kv", "sleep", Int.of(150)));
    }
    Set<Long> ids = new HashSet<>();
    for (int i = 0; i < 6; i++) {
      ServerFrame f = a.next();
      assertEquals(ServerFrame.ResponseCase.RESULT, f.getResponseCase(), f::toString);
      ids.add(f.getId());
    }
    assertEquals(6, ids.size());
    assertTrue(maxRunning.get() <= 3, "at most about 2 in flight, saw " + maxRunning.get());
  }

  @Test
  void idleConnectionsAreClosedButNotWhileACallIsInFlight() throws Exception {
    backend("kv1");
    start("round_robin", "limits: {idle_timeout_ms: 300}\n");
    RawClient busy = connect("alice");
    RawClient idle = connect("alice");
    busy.send(call(1, "kv", "sleep", Int.of(800)));
    ServerFrame bye = idle.next();
    assertEquals(Error.Code.CLOSING, error(bye).getCode());
    assertTrue(bye.getError().getMessage().contains("idle"), bye::toString);
    assertTrue(idle.awaitClosed(Duration.ofSeconds(5)));
    assertEquals(ServerFrame.ResponseCase.RESULT, busy.next().getResponseCase());
  }

  @Test
  void aFrameExactlyAtTheLimitIsAccepted() throws Exception {
    backend("kv1");
    start("round_robin", "limits: {max_frame_bytes: 256}\n");
    RawClient a = connect("alice");
    ClientFrame f = call(1, "kv", "get", Binary.of(new byte[200]));
    int pad = 256 - f.getSerializedSize();
    f = call(1, "kv", "get", Binary.of(new byte[200 + pad]));
    assertEquals(256, f.getSerializedSize());
    a.send(f);
    assertEquals(Atom.UNDEFINED, result(a.next()));
    RawClient b = connect("alice");
    b.send(call(2, "kv", "get", Binary.of(new byte[201 + pad])));
    assertEquals(Error.Code.FRAME_TOO_LARGE, error(b.next()).getCode());
  }

  @Test
  void aClientThatLeavesWithCallsInFlightIsForgottenAndAudited() throws Exception {
    backend("kv1");
    start("round_robin", "");
    RawClient a = connect("alice");
    a.send(call(1, "kv", "sleep", Int.of(500)));
    a.send(call(2, "kv", "sleep", Int.of(500)));
    waitUntil(() -> running.get() == 2);
    a.close();
    waitUntil(() -> gw.status().get("connections").equals(0)
        && gw.status().get("in_flight").equals(0));
    assertEquals(2, bed.auditText().lines().filter(l -> l.contains("\"abandoned\"")).count(),
        bed.auditText());
  }

  @Test
  void auditRecordsOfFailedCallsHoldNoArgumentValues() throws Exception {
    backend("kv1");
    bed.writePolicy(POLICY.replace("\"kv:count/0\"", "\"kv:count/0\", \"kv:fail/1\""));
    start("round_robin", "");
    RawClient a = connect("alice");
    a.send(call(1, "kv", "fail", Binary.of("secret-token-123".getBytes())));
    Error e = error(a.next());
    assertEquals(Error.Code.BAD_RPC, e.getCode());
    assertTrue(e.getErlang().contains("secret-token-123"), "the caller sees its own error");
    String audit = bed.auditText();
    assertTrue(audit.contains("\"outcome\":\"badrpc\""), audit);
    assertFalse(audit.contains("secret-token"), audit);
  }

  @Test
  void functionNamesAllowedOnlyByAWildcardSpendTheAtomBudget() throws Exception {
    backend("kv1");
    bed.writePolicy("""
        version: 1
        atom_budget: 2
        atom_budget_per_principal: 2
        rules:
          - id: any-kv
            principals: ["uri:spiffe://test/carol"]
            calls: ["kv:*"]
        """);
    start("round_robin", "");
    RawClient c = connect("carol");
    c.send(call(1, "kv", "nosuch_1"));
    assertEquals(Error.Code.BAD_RPC, error(c.next()).getCode());
    c.send(call(2, "kv", "nosuch_2"));
    assertEquals(Error.Code.BAD_RPC, error(c.next()).getCode());
    c.send(call(3, "kv", "nosuch_3"));
    Error e = error(c.next());
    assertEquals(Error.Code.INVALID_ARGUMENT, e.getCode());
    assertTrue(e.getReason().contains("atom budget"), e::getReason);
  }

  @Test
  void aCookieOthersCanReadOrCasOthersCanWriteAreRefusedAtStart() throws Exception {
    backend("kv1");
    java.nio.file.Files.setPosixFilePermissions(dir.resolve("cookie"),
        java.nio.file.attribute.PosixFilePermissions.fromString("rw-r--r--"));
    ConfigException e = assertThrows(ConfigException.class, () -> start("round_robin", ""));
    assertTrue(e.getMessage().contains("cookie file"), e::getMessage);
    java.nio.file.Files.setPosixFilePermissions(dir.resolve("cookie"),
        java.nio.file.attribute.PosixFilePermissions.fromString("rw-------"));
    java.nio.file.Files.setPosixFilePermissions(dir.resolve("ca.pem"),
        java.nio.file.attribute.PosixFilePermissions.fromString("rw-rw-rw-"));
    e = assertThrows(ConfigException.class, () -> start("round_robin", ""));
    assertTrue(e.getMessage().contains("ca.pem"), e::getMessage);
  }

  void awaitUp(int n) throws Exception {
    waitUntil(() -> gw.backends().upCount() == n);
  }

  static void waitUntil(java.util.function.BooleanSupplier p) throws InterruptedException {
    long end = System.nanoTime() + 10_000_000_000L;
    while (!p.getAsBoolean()) {
      if (System.nanoTime() > end) {
        throw new AssertionError("condition not met within 10 s");
      }
      Thread.sleep(20);
    }
  }
}
