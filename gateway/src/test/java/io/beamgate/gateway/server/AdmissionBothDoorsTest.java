package io.beamgate.gateway.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.beamgate.gateway.proto.Cast;
import io.beamgate.gateway.proto.ClientFrame;
import io.beamgate.gateway.proto.Error;
import io.beamgate.gateway.proto.Send;
import io.beamgate.gateway.proto.ServerFrame;
import io.beamgate.gateway.protocol.TermProto;
import io.beamgate.node.LocalNode;
import io.beamgate.node.Mailbox;
import io.beamgate.node.NodeConfig;
import io.beamgate.node.epmd.EpmdServer;
import io.beamgate.node.rpc.RpcServer;
import io.beamgate.node.term.Atom;
import io.beamgate.node.term.Binary;
import io.beamgate.node.term.ErlList;
import io.beamgate.node.term.Int;
import io.beamgate.node.term.Pid;
import io.beamgate.node.term.Ref;
import io.beamgate.node.term.Term;
import io.beamgate.node.term.Tuple;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every admission case through both doors — a client connection and a bridge link — held to
 * the same answers: the rule's rate for calls, casts and sends alike, the gateway's global
 * in-flight limit, code-shaped data refused in arguments and messages, names no rule may open,
 * and what only a bridge can attempt (a call id used twice, a raw spawn request).
 */
class AdmissionBothDoorsTest {
  static final String POLICY = """
      version: 1
      rules:
        - id: alice
          principals: ["uri:spiffe://test/alice"]
          calls: ["kv:echo/1", "kv:sleep/1", "kv:hit/0"]
          sends: [kv_server, init]
          limits: {rate_per_second: 5, concurrency: 100, timeout_ms: 5000}
        - id: cluster-b
          principals: ["dns:gw-b.test"]
          calls: ["kv:echo/1", "kv:sleep/1", "kv:hit/0"]
          sends: [kv_server, init]
          limits: {rate_per_second: 5, concurrency: 100, timeout_ms: 5000}
      """;
  static final Duration WAIT = Duration.ofSeconds(5);

  @TempDir Path dir;
  TestBed bedA;
  TestBed bedB;
  EpmdServer epmd;
  LocalNode backend;
  Mailbox kvServer;
  GatewayServer gw;
  final AtomicInteger hits = new AtomicInteger();
  final List<AutoCloseable> open = new ArrayList<>();

  @BeforeEach
  void setUp() throws Exception {
    bedA = new TestBed(dir.resolve("a"), null, "gw-a.test");
    bedB = new TestBed(dir.resolve("b"), bedA, "gw-b.test");
    bedA.writePolicy(POLICY);
    epmd = EpmdServer.start(EpmdServer.Config.loopback(0));
    backend = LocalNode.start(NodeConfig.builder("kvd" + System.nanoTime() + "@127.0.0.1")
        .cookie(bedA.cookie).epmdPort(epmd.port()).build());
    kvServer = backend.createMailbox("kv_server");
    RpcServer.start(backend, Executors.newCachedThreadPool())
        .register("kv", "echo", 1, a -> a.get(0))
        .register("kv", "hit", 0, a -> Int.of(hits.incrementAndGet()))
        .register("kv", "sleep", 1, a -> {
          Thread.sleep(((Int) a.get(0)).value());
          return Atom.of("slept");
        });
  }

  @AfterEach
  void tearDown() throws Exception {
    for (AutoCloseable c : open) {
      c.close();
    }
    if (gw != null) {
      gw.close();
    }
    backend.close();
    epmd.close();
  }

  void start(String extra) throws Exception {
    gw = GatewayServer.start(bedA.writeConfig(List.of(backend.name()), epmd.port(),
        "round_robin", extra), GatewayServer.Options.DEFAULTS);
  }

  RawClient client() throws Exception {
    RawClient c = RawClient.connect(gw.listenAddress(), bedA.client("alice"));
    open.add(c);
    return c;
  }

  RawBridge bridge() throws Exception {
    RawBridge b = RawBridge.connect(gw.listenAddress(), bedB);
    open.add(b);
    b.send(Tuple.of(Atom.of("hello"), Int.of(1), Binary.of("test".getBytes())));
    assertEquals(Tuple.of(Atom.of("welcome"), Int.of(1)), b.nextNonPing(WAIT));
    return b;
  }

  static final Ref RES = new Ref(Atom.of("b1@elsewhere"), 7, new int[] {1, 2, 3});
  static final Pid B_PID = new Pid(Atom.of("b1@elsewhere"), 42, 0, 7);

  static Tuple bridgeCall(long id, String f, Term... args) {
    return Tuple.of(Atom.of("call"), Int.of(id), RES, Atom.of("kv"), Atom.of(f),
        ErlList.of(args));
  }

  static Term bridgeSend(String name, Term msg) {
    return Tuple.of(Atom.of("ctl"), Tuple.of(Int.of(6), B_PID, Atom.of(""), Atom.of(name)), msg);
  }

  static ClientFrame clientCast(long id) {
    return ClientFrame.newBuilder().setId(id).setCast(Cast.newBuilder().setModule("kv")
        .setFunction("hit")).build();
  }

  static ClientFrame clientSend(long id, String name, Term msg) throws Exception {
    return ClientFrame.newBuilder().setId(id).setSend(Send.newBuilder().setName(name)
        .setMessage(TermProto.toProto(msg, 50))).build();
  }

  int countAudit(String text) throws Exception {
    String a = bedA.auditText();
    int n = 0;
    for (int i = a.indexOf(text); i >= 0; i = a.indexOf(text, i + 1)) {
      n++;
    }
    return n;
  }

  @Test
  void castsCountAgainstTheRulesRateThroughBothDoors() throws Exception {
    start("");
    RawClient c = client();
    int okClient = 0;
    for (int i = 1; i <= 20; i++) {
      c.send(clientCast(i));
      ServerFrame f = c.next(WAIT);
      if (f.hasOk()) {
        okClient++;
      } else {
        assertEquals(Error.Code.RESOURCE_EXHAUSTED, f.getError().getCode(), f.toString());
      }
    }
    assertTrue(okClient >= 4 && okClient <= 7, "client casts admitted: " + okClient);
    RawBridge b = bridge();
    for (int i = 0; i < 20; i++) {
      b.send(Tuple.of(Atom.of("cast"), Atom.of("kv"), Atom.of("hit"), ErlList.NIL));
    }
    BridgeLinkTest.awaitAudit(bedA, "\"link\":\"bridge from gw-b.test\"");
    Thread.sleep(500);
    int bridged = countAudit("\"mfa\":\"kv:hit/0\",\"decision\":\"allowed\",\"rule\":"
        + "\"cluster-b\"");
    assertTrue(bridged >= 4 && bridged <= 7, "bridged casts admitted: " + bridged + "\n"
        + bedA.auditText());
    assertTrue(countAudit("rate limit of rule cluster-b") >= 13, bedA.auditText());
  }

  @Test
  void sendsCountAgainstTheRulesRateThroughBothDoors() throws Exception {
    start("");
    RawClient c = client();
    int okClient = 0;
    for (int i = 1; i <= 20; i++) {
      c.send(clientSend(i, "kv_server", Atom.of("hello")));
      if (c.next(WAIT).hasOk()) {
        okClient++;
      }
    }
    assertTrue(okClient >= 4 && okClient <= 7, "client sends admitted: " + okClient);
    RawBridge b = bridge();
    for (int i = 0; i < 20; i++) {
      b.send(bridgeSend("kv_server", Atom.of("hello")));
    }
    Thread.sleep(800);
    int received = 0;
    while (kvServer.receive(Duration.ofMillis(200)) != null) {
      received++;
    }
    assertTrue(received >= okClient + 4 && received <= okClient + 7,
        "messages that reached kv_server: " + received + " (client: " + okClient + ")");
  }

  @Test
  void theGlobalInFlightLimitHoldsForBridgedCallsToo() throws Exception {
    start("limits: {max_in_flight: 2}\n");
    RawBridge b = bridge();
    b.send(bridgeCall(1, "sleep", Int.of(700)));
    b.send(bridgeCall(2, "sleep", Int.of(700)));
    Thread.sleep(200);
    b.send(bridgeCall(3, "sleep", Int.of(700)));
    Term third = b.nextNonPing(WAIT);
    assertTrue(third.toString().contains("resource_exhausted")
        && third.toString().contains("limits.max_in_flight"), third.toString());
    assertTrue(third.toString().contains("result, 3") || ((Tuple) third).get(1).equals(Int.of(3)),
        third.toString());
    // and the client door sees the same limit while the bridge holds both slots
    RawClient c = client();
    c.send(GatewayServerTest.call(9, "kv", "echo", Atom.OK));
    assertEquals(Error.Code.RESOURCE_EXHAUSTED, c.next(WAIT).getError().getCode());
  }

  @Test
  void codeShapedDataIsRefusedThroughBothDoors() throws Exception {
    start("");
    Tuple osCmd = Tuple.of(Atom.of("os"), Atom.of("cmd"), ErlList.of(Binary.of(
        "touch x".getBytes())));
    RawClient c = client();
    c.send(GatewayServerTest.call(1, "kv", "echo", ErlList.of(osCmd)));
    ServerFrame f = c.next(WAIT);
    assertEquals(Error.Code.PERMISSION_DENIED, f.getError().getCode(), f.toString());
    assertTrue(f.getError().getMessage().contains("{os, cmd, ...}"), f.toString());
    Tuple system = Tuple.of(Atom.of("system"), Tuple.of(Atom.of("x"), Atom.of("y")),
        Atom.of("suspend"));
    c.send(clientSend(2, "kv_server", system));
    assertEquals(Error.Code.PERMISSION_DENIED, c.next(WAIT).getError().getCode());
    RawBridge b = bridge();
    b.send(bridgeCall(1, "echo", ErlList.of(osCmd)));
    Term r = b.nextNonPing(WAIT);
    assertTrue(r.toString().contains("permission_denied") && r.toString().contains("os, cmd"),
        r.toString());
    b.send(bridgeSend("kv_server", system));
    b.send(bridgeSend("kv_server", Atom.of("plain")));
    assertEquals(Atom.of("plain"), kvServer.receive(WAIT));
    assertEquals(null, kvServer.receive(Duration.ofMillis(300)));
    assertEquals(2, countAudit("OTP system message"), bedA.auditText());
    assertEquals(0, hits.get());
  }

  @Test
  void namesThatControlTheNodeAreNeverReachedEvenWhenARuleListsThem() throws Exception {
    start("");
    RawClient c = client();
    c.send(clientSend(1, "init", Tuple.of(Atom.of("stop"), Atom.of("stop"))));
    ServerFrame f = c.next(WAIT);
    assertEquals(Error.Code.PERMISSION_DENIED, f.getError().getCode(), f.toString());
    assertTrue(f.getError().getMessage().contains("never reachable"), f.toString());
    RawBridge b = bridge();
    b.send(bridgeSend("init", Tuple.of(Atom.of("stop"), Atom.of("stop"))));
    long end = System.nanoTime() + WAIT.toNanos();
    while (countAudit("'init' is never reachable") < 2 && System.nanoTime() < end) {
      Thread.sleep(20);
    }
    assertEquals(2, countAudit("\"mfa\":\"send:init\",\"decision\":\"denied\","
        + "\"reason\":\"the process 'init' is never reachable"), bedA.auditText());
  }

  @Test
  void aCallIdUsedTwiceOnALinkClosesItAndLeaksNothing() throws Exception {
    start("");
    RawBridge b = bridge();
    b.send(bridgeCall(1, "sleep", Int.of(300)));
    b.send(bridgeCall(1, "echo", Atom.of("again")));
    assertTrue(b.awaitClosed(WAIT), "the link stays open after a call id was used twice");
    BridgeLinkTest.awaitAudit(bedA, "call id 1 is already in flight on this link");
    // the first call's slot came back: a new link's calls are admitted up to the limit
    long end = System.nanoTime() + WAIT.toNanos();
    while (gw.admission().inFlight() > 0 && System.nanoTime() < end) {
      Thread.sleep(20);
    }
    assertEquals(0, gw.admission().inFlight());
    Thread.sleep(1000); // the rate refills
    RawBridge b2 = bridge();
    b2.send(bridgeCall(5, "echo", Atom.of("after")));
    assertEquals(Tuple.of(Atom.of("result"), Int.of(5), Tuple.of(RES, Atom.of("return"),
        Atom.of("after"))), b2.nextNonPing(WAIT));
  }

  @Test
  void aRawSpawnRequestOverALinkIsRefusedAnsweredAndAudited() throws Exception {
    start("");
    RawBridge b = bridge();
    Ref req = new Ref(Atom.of("b1@elsewhere"), 7, new int[] {9, 9, 9});
    // SPAWN_REQUEST: {29, ReqId, From, GroupLeader, {M, F, A}, OptList}, args as payload
    b.send(Tuple.of(Atom.of("ctl"), Tuple.of(Int.of(29), req, B_PID, B_PID,
        Tuple.of(Atom.of("os"), Atom.of("cmd"), Int.of(1)), ErlList.NIL),
        ErlList.of(Binary.of("touch x".getBytes()))));
    Term reply = b.nextNonPing(WAIT);
    assertTrue(reply.toString().contains("notsup"), reply.toString());
    BridgeLinkTest.awaitAudit(bedA, "\"mfa\":\"spawn:os:cmd/1\"");
    assertTrue(b.isOpen());
    assertFalse(bedA.auditText().contains("\"outcome\":\"ok\""), bedA.auditText());
  }

  @Test
  void pingsAndCancelsCountAgainstTheirOwnRate() throws Exception {
    start("limits: {control_per_second: 5}\n");
    RawClient c = client();
    int pong = 0;
    int refused = 0;
    for (int i = 1; i <= 12; i++) {
      c.send(ClientFrame.newBuilder().setId(i).setPing(io.beamgate.gateway.proto.Ping
          .getDefaultInstance()).build());
      ServerFrame f = c.next(WAIT);
      if (f.hasPong()) {
        pong++;
      } else {
        assertEquals(Error.Code.RESOURCE_EXHAUSTED, f.getError().getCode(), f.toString());
        assertTrue(f.getError().getMessage().contains("limits.control_per_second"));
        refused++;
      }
    }
    assertTrue(pong >= 5 && pong <= 7 && refused >= 5, pong + " pongs, " + refused
        + " refused");
    c.send(ClientFrame.newBuilder().setId(50).setCancel(io.beamgate.gateway.proto.Cancel
        .newBuilder().setTarget(49)).build());
    assertEquals(Error.Code.RESOURCE_EXHAUSTED, c.next(WAIT).getError().getCode());
    assertEquals(1, countAudit("limits.control_per_second"), bedA.auditText());
    Thread.sleep(600); // refilled: served again
    c.send(ClientFrame.newBuilder().setId(60).setPing(io.beamgate.gateway.proto.Ping
        .getDefaultInstance()).build());
    assertTrue(c.next(WAIT).hasPong());
  }

  @Test
  void eachPrincipalSpendsAtMostItsShareOfTheAtomBudgetThroughEitherDoor() throws Exception {
    bedA.writePolicy(POLICY.replace("version: 1\n", "version: 1\natom_budget: 40\n"
        + "atom_budget_per_principal: 10\n").replace("rate_per_second: 5",
            "rate_per_second: 1000"));
    start("");
    RawClient c = client();
    int ok = 0;
    for (int i = 1; i <= 15; i++) {
      c.send(GatewayServerTest.call(i, "kv", "echo", Atom.of("alice_atom_" + i)));
      ServerFrame f = c.next(WAIT);
      if (f.hasResult()) {
        ok++;
      } else {
        assertTrue(f.getError().getMessage().contains("atom_budget_per_principal"),
            f.toString());
      }
    }
    assertEquals(10, ok);
    RawBridge b = bridge();
    int bridged = 0;
    for (int i = 1; i <= 15; i++) {
      b.send(bridgeCall(i, "echo", Atom.of("bridge_atom_" + i)));
      if (b.nextNonPing(WAIT).toString().contains("return")) {
        bridged++;
      }
    }
    assertEquals(10, bridged, "the bridge's peer has a share of its own");
    // an atom alice already brought is free for the other principal
    b.send(bridgeCall(99, "echo", Atom.of("alice_atom_1")));
    assertTrue(b.nextNonPing(WAIT).toString().contains("return"));
  }

  @Test
  void aRestartDoesNotRefillTheAtomBudget() throws Exception {
    bedA.writePolicy(POLICY.replace("version: 1\n", "version: 1\natom_budget: 6\n"
        + "atom_budget_per_principal: 6\n").replace("rate_per_second: 5",
            "rate_per_second: 1000"));
    start("");
    RawClient c = client();
    for (int i = 1; i <= 6; i++) {
      c.send(GatewayServerTest.call(i, "kv", "echo", Atom.of("kept_" + i)));
      assertTrue(c.next(WAIT).hasResult());
    }
    c.close();
    open.remove(c);
    gw.close();
    gw = GatewayServer.start(io.beamgate.gateway.config.GatewayConfigFile.load(bedA.config),
        GatewayServer.Options.DEFAULTS);
    RawClient again = client();
    again.send(GatewayServerTest.call(1, "kv", "echo", Atom.of("fresh_after_restart")));
    ServerFrame f = again.next(WAIT);
    assertTrue(f.hasError() && f.getError().getMessage().contains("atom budget exhausted"),
        f.toString());
    again.send(GatewayServerTest.call(2, "kv", "echo", Atom.of("kept_3")));
    assertTrue(again.next(WAIT).hasResult(), "an atom the cluster already holds is free");
  }
}
