package io.beamgate.gateway.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.beamgate.node.LocalNode;
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
import java.util.List;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The accepting side of a bridge link, spoken to by a bare peer: who is admitted, the greeting,
 * keepalive, the frame limit at and past it, protocol errors, and calls decided by the policy.
 * Java backends only (the real-erl behaviour is in BridgeErlTest).
 */
class BridgeLinkTest {
  static final String POLICY = """
      version: 1
      rules:
        - id: cluster-b
          principals: ["dns:gw-b.test"]
          calls: ["kv:echo/1", "kv:sleep/1", "kv:big/1", "kv:fun/0"]
          sends: [kv_server]
      """;
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
    bedA.writePolicy(POLICY);
    epmd = EpmdServer.start(EpmdServer.Config.loopback(0));
    backend = LocalNode.start(NodeConfig.builder("kvb" + System.nanoTime() + "@127.0.0.1")
        .cookie(bedA.cookie).epmdPort(epmd.port()).build());
    RpcServer.start(backend, Executors.newCachedThreadPool())
        .register("kv", "echo", 1, a -> a.get(0))
        .register("kv", "fun", 0, a -> Tuple.of(Atom.OK, new io.beamgate.node.term.ExternalFun(
            Atom.of("os"), Atom.of("cmd"), 1)))
        .register("kv", "big", 1, a -> Binary.of(new byte[(int) ((Int) a.get(0)).value()]))
        .register("kv", "sleep", 1, a -> {
          Thread.sleep(((Int) a.get(0)).value());
          return Atom.of("slept");
        });
  }

  @AfterEach
  void tearDown() {
    if (gw != null) {
      gw.close();
    }
    backend.close();
    epmd.close();
  }

  void start(String bridge) throws Exception {
    gw = GatewayServer.start(bedA.writeConfig(List.of(backend.name()), epmd.port(),
        "round_robin", bridge), GatewayServer.Options.DEFAULTS);
  }

  RawBridge greeted(TestBed as) throws Exception {
    RawBridge b = RawBridge.connect(gw.listenAddress(), as);
    b.send(Tuple.of(Atom.of("hello"), Int.of(1), Binary.of("test".getBytes())));
    assertEquals(Tuple.of(Atom.of("welcome"), Int.of(1)), b.nextNonPing(WAIT));
    return b;
  }

  @Test
  void aNamedGatewayIsWelcomedAndItsCallsAreDecidedByThePolicy() throws Exception {
    start("");
    try (RawBridge b = greeted(bedB)) {
      b.send(Atom.of("ping"));
      assertEquals(Atom.of("pong"), b.nextNonPing(WAIT));
      Ref res = new Ref(Atom.of("b1@elsewhere"), 7, new int[] {1, 2, 3});
      Pid self = new Pid(Atom.of("b1@elsewhere"), 42, 0, 7);
      // allowed: the result comes back as erpc's exit reason, the reference and pid restored
      b.send(Tuple.of(Atom.of("call"), Int.of(1), res, Atom.of("kv"), Atom.of("echo"),
          ErlList.of(Tuple.of(self, Atom.of("ok")))));
      assertEquals(Tuple.of(Atom.of("result"), Int.of(1), Tuple.of(res, Atom.of("return"),
          Tuple.of(self, Atom.of("ok")))), b.nextNonPing(WAIT));
      // denied: an erpc error naming the refusal, and an audit record
      b.send(Tuple.of(Atom.of("call"), Int.of(2), res, Atom.of("kv"), Atom.of("drop"),
          ErlList.of(Int.of(1))));
      Term denied = b.nextNonPing(WAIT);
      assertEquals(Tuple.of(Atom.of("result"), Int.of(2), Tuple.of(res, Atom.ERROR,
          Tuple.of(Atom.of("beamgate"), Atom.of("permission_denied"),
              Binary.of("no rule allows kv:drop/1 for gw-b.test".getBytes())), ErlList.NIL)),
          denied);
      awaitAudit(bedA, "\"mfa\":\"kv:drop/1\"");
      assertTrue(b.isOpen());
    }
  }

  @Test
  void aGatewayNoRuleNamesIsRefusedAtTheGreeting() throws Exception {
    start("");
    TestBed bedC = new TestBed(dir.resolve("c"), bedA, "gw-c.test");
    try (RawBridge b = RawBridge.connect(gw.listenAddress(), bedC)) {
      // its greeting, sent at once as a gateway would, is not answered
      b.send(Tuple.of(Atom.of("hello"), Int.of(1), Binary.of("c".getBytes())));
      Term t = b.nextNonPing(WAIT);
      assertEquals(Tuple.of(Atom.of("refused"), Binary.of(("no rule names gw-c.test: it may"
          + " not bridge to this cluster").getBytes())), t);
      assertTrue(b.awaitClosed(WAIT));
    }
    awaitAudit(bedA, "no rule names gw-c.test");
    Thread.sleep(200);
    assertFalse(bedA.auditText().contains("link up"), bedA.auditText());
  }

  @Test
  void anotherVersionGarbageAndUnknownMessagesCloseTheLink() throws Exception {
    start("");
    try (RawBridge b = RawBridge.connect(gw.listenAddress(), bedB)) {
      b.send(Tuple.of(Atom.of("hello"), Int.of(2), Binary.of("x".getBytes())));
      Term t = b.nextNonPing(WAIT);
      assertTrue(t instanceof Tuple r && r.isTagged("refused", 2), String.valueOf(t));
      assertTrue(b.awaitClosed(WAIT));
    }
    try (RawBridge b = greeted(bedB)) {
      b.sendRaw(new byte[] {1, 2, 3});
      assertTrue(b.awaitClosed(WAIT), "garbage closes the link");
    }
    try (RawBridge b = greeted(bedB)) {
      b.send(Tuple.of(Atom.of("launch"), Atom.of("missiles")));
      assertTrue(b.awaitClosed(WAIT), "an unknown message closes the link");
    }
    try (RawBridge b = RawBridge.connect(gw.listenAddress(), bedB)) {
      b.send(Atom.of("ping"));
      assertTrue(b.awaitClosed(WAIT), "nothing before the greeting");
    }
  }

  @Test
  void framesAtTheLimitPassAndPastItCloseTheLink() throws Exception {
    start("bridge: {max_frame_bytes: 2048}\n");
    try (RawBridge b = greeted(bedB)) {
      // a send to a pid this side never gave out: dropped, but the frame itself is fine
      Pid nobody = new Pid(Atom.of("x@y"), 1, 0, 1);
      Term head = Tuple.of(Atom.of("ctl"), Tuple.of(Int.of(2), Atom.of(""), nobody),
          Binary.of(new byte[0]));
      int overhead = io.beamgate.node.etf.EtfEncoder.encode(head).length;
      Term atLimit = Tuple.of(Atom.of("ctl"), Tuple.of(Int.of(2), Atom.of(""), nobody),
          Binary.of(new byte[2048 - overhead]));
      assertEquals(2048, io.beamgate.node.etf.EtfEncoder.encode(atLimit).length);
      b.send(atLimit);
      b.send(Atom.of("ping"));
      assertEquals(Atom.of("pong"), b.nextNonPing(WAIT));
      Term past = Tuple.of(Atom.of("ctl"), Tuple.of(Int.of(2), Atom.of(""), nobody),
          Binary.of(new byte[2049 - overhead]));
      // this side never sends a frame the other would refuse: a result too large is an error
      Ref res = new Ref(Atom.of("b1@elsewhere"), 7, new int[] {1, 2, 3});
      b.send(Tuple.of(Atom.of("call"), Int.of(1), res, Atom.of("kv"), Atom.of("big"),
          ErlList.of(Int.of(5000))));
      Term r = b.nextNonPing(WAIT);
      assertTrue(r instanceof Tuple rt && rt.get(2) instanceof Tuple reason
          && reason.get(2) instanceof Tuple e && e.isTagged("beamgate", 3)
          && e.get(1).equals(Atom.of("resource_exhausted")), String.valueOf(r));
      awaitAudit(bedA, "larger than bridge.max_frame_bytes (2048)");
      b.send(Atom.of("ping"));
      assertEquals(Atom.of("pong"), b.nextNonPing(WAIT));
      b.send(past);
      assertTrue(b.awaitClosed(WAIT), "a frame past bridge.max_frame_bytes closes the link");
      awaitAudit(bedA, "larger than bridge.max_frame_bytes (2048)");
    }
  }

  @Test
  void aSilentPeerIsClosedAfterThreeKeepalivePeriods() throws Exception {
    start("bridge: {keepalive_ms: 200}\n");
    try (RawBridge talking = greeted(bedB); RawBridge silent = greeted(bedB)) {
      long start = System.nanoTime();
      // the talking peer pings more often than 3 x 200 ms and stays; the silent one goes
      for (int i = 0; i < 10; i++) {
        talking.send(Atom.of("ping"));
        Thread.sleep(150);
      }
      assertTrue(silent.awaitClosed(WAIT));
      assertTrue(System.nanoTime() - start >= 500_000_000L, "closed too early");
      assertTrue(talking.isOpen(), "a peer that keeps talking stays");
    }
  }

  @Test
  void aGatewayThatIsNotTheExpectedOneIsNotBridgedTo() throws Exception {
    start("");
    // gateway B expects dns:gw-x.test at gateway A's address: it refuses to go on
    EpmdServer epmdB = EpmdServer.start(EpmdServer.Config.loopback(0));
    try {
      bedB.writePolicy(POLICY);
      GatewayServer b = GatewayServer.start(bedB.writeConfig(List.of("nobody@127.0.0.1"),
          epmdB.port(), "round_robin", "bridges:\n  - name: a\n"
              + "    connect: {host: localhost, port: " + gw.listenAddress().getPort() + "}\n"
              + "    expect: dns:gw-x.test\n    node_name: clusterA" + System.nanoTime()
              + "@127.0.0.1\n"), GatewayServer.Options.DEFAULTS.withBackendWait(
                  Duration.ofMillis(10)));
      try {
        long end = System.nanoTime() + WAIT.toNanos();
        while (!b.status().toString().contains("is gw-a.test, not dns:gw-x.test")
            && System.nanoTime() < end) {
          Thread.sleep(20);
        }
        assertTrue(b.status().toString().contains("is gw-a.test, not dns:gw-x.test"),
            b.status().toString());
        assertEquals(false, b.bridgesUp().get("a"));
        awaitAudit(bedB, "not dns:gw-x.test");
      } finally {
        b.close();
      }
    } finally {
      epmdB.close();
    }
  }

  @Test
  void aReloadThatDropsTheGatewaysRuleClosesItsLink() throws Exception {
    start("reload: {watch_interval_ms: 0, admin_socket: admin.sock}\n");
    try (RawBridge b = greeted(bedB)) {
      bedA.writePolicy(POLICY.replace("dns:gw-b.test", "dns:gw-z.test"));
      assertTrue(gw.reload().ok());
      assertTrue(b.awaitClosed(WAIT));
    }
    awaitAudit(bedA, "reload: no rule names gw-b.test");
  }

  @Test
  void exitTwoNeverCrossesAndLinksAndMonitorsAreBoundedPerLink() throws Exception {
    start("bridge: {max_proxies: 16}\n");
    io.beamgate.node.Mailbox kv = backend.createMailbox("kv_server");
    try (RawBridge b = greeted(bedB)) {
      Pid peerPid = new Pid(Atom.of("b1@elsewhere"), 1, 0, 7);
      // a named send reaches kv_server; its reply gives out kv_server's pid
      Pid proxyOfPeer = introduce(b, kv, peerPid);
      kv.send(proxyOfPeer, Tuple.of(Atom.of("mine"), kv.self()));
      Term reply = b.nextNonPing(WAIT);
      assertEquals(Tuple.of(Atom.of("ctl"), Tuple.of(Int.of(2), Atom.of(""), peerPid),
          Tuple.of(Atom.of("mine"), kv.self())), reply);
      // exit(KvPid, kill) from the other side: dropped and audited; a later message arrives
      b.send(Tuple.of(Atom.of("ctl"), Tuple.of(Int.of(8), peerPid, kv.self(),
          Atom.of("kill"))));
      b.send(Tuple.of(Atom.of("ctl"), Tuple.of(Int.of(2), Atom.of(""), kv.self()),
          Atom.of("after")));
      assertEquals(Atom.of("after"), kv.receive(WAIT), "no EXIT came before it");
      awaitAudit(bedA, "exit signals sent with exit/2 do not cross a bridge");
      // 16 monitors fit (bridge.max_proxies: 16); the 17th is refused with a DOWN
      for (int i = 0; i < 16; i++) {
        b.send(Tuple.of(Atom.of("ctl"), Tuple.of(Int.of(19), new Pid(Atom.of("b1@elsewhere"),
            100 + i, 0, 7), kv.self(), new Ref(Atom.of("b1@elsewhere"), 7,
            new int[] {i, 0, 0}))));
      }
      Ref last = new Ref(Atom.of("b1@elsewhere"), 7, new int[] {99, 0, 0});
      Pid watcher = new Pid(Atom.of("b1@elsewhere"), 200, 0, 7);
      b.send(Tuple.of(Atom.of("ctl"), Tuple.of(Int.of(19), watcher, kv.self(), last)));
      Term down = b.nextNonPing(WAIT);
      assertEquals(Tuple.of(Atom.of("ctl"), Tuple.of(Int.of(21), kv.self(), watcher, last,
          Tuple.of(Atom.of("beamgate"), Atom.of("resource_exhausted"), Binary.of(("this"
              + " bridge link holds 16 links and monitors (bridge.max_proxies)").getBytes())))),
          down);
      // when kv_server exits, the 16 watchers each get their DOWN ('noproc' for a monitor
      // that reaches the backend after the exit)
      kv.exit(Atom.of("bye"));
      int downs = 0;
      for (Term t; (t = b.nextNonPing(WAIT)) != null; ) { // a loaded machine is slow
        // MONITOR_P_EXIT, or PAYLOAD_MONITOR_P_EXIT (28) with the reason as its payload
        Term reason = t instanceof Tuple c && c.get(1) instanceof Tuple ctl
            ? ctl.get(0).equals(Int.of(21)) ? ctl.get(4)
            : ctl.get(0).equals(Int.of(28)) && c.arity() == 3 ? c.get(2) : null : null;
        if (Atom.of("bye").equals(reason) || Atom.of("noproc").equals(reason)) {
          downs++;
        }
        if (downs == 16) {
          break;
        }
      }
      assertEquals(16, downs);
    }
  }

  @Test
  void oneGatewayExposesTwoLinksAtOnceToJavaNodesOfItsCluster() throws Exception {
    start("");
    EpmdServer epmdB = EpmdServer.start(EpmdServer.Config.loopback(0));
    bedB.writePolicy(POLICY);
    String n1 = "viaOne" + System.nanoTime() + "@127.0.0.1";
    String n2 = "viaTwo" + System.nanoTime() + "@127.0.0.1";
    String link = "    connect: {host: localhost, port: " + gw.listenAddress().getPort() + "}\n"
        + "    expect: dns:gw-a.test\n";
    GatewayServer b = GatewayServer.start(bedB.writeConfig(List.of("nobody@127.0.0.1"),
        epmdB.port(), "round_robin", "bridges:\n  - name: one\n" + link + "    node_name: "
            + n1 + "\n  - name: two\n" + link + "    node_name: " + n2 + "\n"),
        GatewayServer.Options.DEFAULTS.withBackendWait(Duration.ofMillis(10)));
    LocalNode caller = LocalNode.start(NodeConfig.builder("bcaller" + System.nanoTime()
        + "@127.0.0.1").cookie(bedB.cookie).epmdPort(epmdB.port()).build());
    try {
      long end = System.nanoTime() + WAIT.toNanos();
      while (!b.bridgesUp().equals(java.util.Map.of("one", true, "two", true))
          && System.nanoTime() < end) {
        Thread.sleep(20);
      }
      assertEquals(java.util.Map.of("one", true, "two", true), b.bridgesUp());
      for (String n : List.of(n1, n2)) {
        Term r = caller.rpc().callAsync(n, "kv", "echo", List.of(Atom.of("hi")), WAIT)
            .get(5, java.util.concurrent.TimeUnit.SECONDS);
        assertEquals(Atom.of("hi"), r, n);
      }
      // what comes back passes the opening gateway's term guard: a fun in a result is refused
      java.util.concurrent.ExecutionException fun = org.junit.jupiter.api.Assertions.assertThrows(
          java.util.concurrent.ExecutionException.class, () -> caller.rpc().callAsync(n1, "kv",
              "fun", List.of(), WAIT).get(5, java.util.concurrent.TimeUnit.SECONDS));
      assertTrue(String.valueOf(fun.getCause()).contains("invalid_result"),
          String.valueOf(fun.getCause()));
      // a node of the wrong cookie is not let in by the stand-in node
      LocalNode stranger = LocalNode.start(NodeConfig.builder("stranger" + System.nanoTime()
          + "@127.0.0.1").cookie("not-" + bedB.cookie).epmdPort(epmdB.port()).build());
      try {
        assertFalse(stranger.ping(n1, Duration.ofSeconds(3)));
      } finally {
        stranger.close();
      }
    } finally {
      caller.close();
      b.close();
      epmdB.close();
    }
  }

  @Test
  void callsWithinTheTimeoutAnswerAndLongerOnesEndWithATimeoutError() throws Exception {
    start("bridge: {call_timeout_ms: 400}\n");
    try (RawBridge b = greeted(bedB)) {
      Ref res = new Ref(Atom.of("b1@elsewhere"), 7, new int[] {1, 2, 3});
      b.send(Tuple.of(Atom.of("call"), Int.of(1), res, Atom.of("kv"), Atom.of("sleep"),
          ErlList.of(Int.of(100))));
      assertEquals(Tuple.of(Atom.of("result"), Int.of(1), Tuple.of(res, Atom.of("return"),
          Atom.of("slept"))), b.nextNonPing(WAIT));
      long t0 = System.nanoTime();
      b.send(Tuple.of(Atom.of("call"), Int.of(2), res, Atom.of("kv"), Atom.of("sleep"),
          ErlList.of(Int.of(3000))));
      Term late = b.nextNonPing(WAIT);
      long ms = (System.nanoTime() - t0) / 1_000_000;
      assertTrue(late instanceof Tuple r && r.get(2) instanceof Tuple reason
          && reason.get(2) instanceof Tuple e && e.isTagged("beamgate", 3)
          && e.get(1).equals(Atom.of("timeout")), String.valueOf(late));
      assertTrue(ms >= 350 && ms < 2000, ms + " ms");
      awaitAudit(bedA, "\"outcome\":\"timeout\"");
    }
  }

  @Test
  void aPeerThatDoesNotReadIsSlowedDownNotCutAndLosesNothing() throws Exception {
    start("bridge: {max_queue_bytes: 4096, keepalive_ms: 60000}\n");
    try (RawBridge b = greeted(bedB)) {
      b.reading(false);
      int n = 400_000; // about 4.4 MB of pongs: more than the socket buffers hold
      byte[] ping = io.beamgate.node.etf.EtfEncoder.encode(Atom.of("ping"));
      for (int i = 0; i < n; i++) {
        b.sendRaw(ping);
      }
      long end = System.nanoTime() + WAIT.toNanos();
      while (!gw.status().toString().matches("(?s).*backpressure_pauses=[1-9].*")
          && System.nanoTime() < end) {
        Thread.sleep(20);
      }
      assertTrue(gw.status().toString().matches("(?s).*backpressure_pauses=[1-9].*"),
          gw.status().toString());
      assertTrue(b.isOpen(), "slowed down, not cut");
      b.reading(true);
      assertEquals(n, b.count(Atom.of("pong"), n, Duration.ofSeconds(60)));
    }
  }

  @Test
  void aClusterFloodingAPeerThatDoesNotReadClosesTheLinkPastTheHardLimit() throws Exception {
    start("bridge: {max_queue_bytes: 4096, max_frame_bytes: 2048, keepalive_ms: 60000}\n");
    io.beamgate.node.Mailbox kv = backend.createMailbox("kv_server");
    try (RawBridge b = greeted(bedB)) {
      Pid peerPid = new Pid(Atom.of("b1@elsewhere"), 1, 0, 7);
      Pid proxy = introduce(b, kv, peerPid);
      b.reading(false);
      // 4 x 4096 + 2048 bytes past what the sockets hold: 40 MB is far more than enough
      Term chunk = Binary.of(new byte[1000]);
      for (int i = 0; i < 40_000 && b.isOpen(); i++) {
        kv.send(proxy, chunk);
      }
      b.reading(true); // to see the end
      assertTrue(b.awaitClosed(Duration.ofSeconds(20)), "the link is closed, not grown");
    }
  }

  @Test
  void twoGatewaysBridgeBothWaysAtOnce() throws Exception {
    // cluster B has its own service; each gateway opens a link to the other
    EpmdServer epmdB = EpmdServer.start(EpmdServer.Config.loopback(0));
    LocalNode kvB = LocalNode.start(NodeConfig.builder("kvb" + System.nanoTime()
        + "@127.0.0.1").cookie(bedB.cookie).epmdPort(epmdB.port()).build());
    RpcServer.start(kvB, Executors.newCachedThreadPool())
        .register("kv", "echo", 1, a -> Tuple.of(Atom.of("from_b"), a.get(0)));
    bedB.writePolicy(POLICY.replace("dns:gw-b.test", "dns:gw-a.test"));
    int portB = io.beamgate.node.testing.RealEpmd.freePort();
    String inB = "clusterA" + System.nanoTime() + "@127.0.0.1";
    String inA = "clusterB" + System.nanoTime() + "@127.0.0.1";
    gw = GatewayServer.start(bedA.writeConfig(List.of(backend.name()), epmd.port(),
        "round_robin", "bridges:\n  - name: to-b\n    connect: {host: localhost, port: "
            + portB + "}\n    expect: dns:gw-b.test\n    node_name: " + inA + "\n"),
        GatewayServer.Options.DEFAULTS);
    String configB = "bridges:\n  - name: to-a\n    connect: {host: localhost, port: "
        + gw.listenAddress().getPort() + "}\n    expect: dns:gw-a.test\n    node_name: " + inB
        + "\n";
    GatewayServer b = GatewayServer.start(withPort(bedB.writeConfig(List.of(kvB.name()),
        epmdB.port(), "round_robin", configB), portB), GatewayServer.Options.DEFAULTS);
    LocalNode callerA = LocalNode.start(NodeConfig.builder("acaller" + System.nanoTime()
        + "@127.0.0.1").cookie(bedA.cookie).epmdPort(epmd.port()).build());
    LocalNode callerB = LocalNode.start(NodeConfig.builder("bcaller" + System.nanoTime()
        + "@127.0.0.1").cookie(bedB.cookie).epmdPort(epmdB.port()).build());
    try {
      long end = System.nanoTime() + WAIT.toNanos();
      while (!(Boolean.TRUE.equals(gw.bridgesUp().get("to-b"))
          && Boolean.TRUE.equals(b.bridgesUp().get("to-a"))) && System.nanoTime() < end) {
        Thread.sleep(20);
      }
      assertEquals(Atom.of("x"), callerB.rpc().callAsync(inB, "kv", "echo",
          List.of(Atom.of("x")), WAIT).get(5, java.util.concurrent.TimeUnit.SECONDS));
      assertEquals(Tuple.of(Atom.of("from_b"), Atom.of("y")), callerA.rpc().callAsync(inA,
          "kv", "echo", List.of(Atom.of("y")), WAIT).get(5, java.util.concurrent.TimeUnit.SECONDS));
    } finally {
      callerA.close();
      callerB.close();
      b.close();
      kvB.close();
      epmdB.close();
    }
  }

  /** {@code cfg} listening on {@code port} instead (the file is rewritten and loaded again). */
  static io.beamgate.gateway.config.GatewayConfig withPort(
      io.beamgate.gateway.config.GatewayConfig cfg, int port) throws Exception {
    String text = java.nio.file.Files.readString(cfg.file()).replaceFirst(
        "listen: \\{address: 127.0.0.1, port: \\d+\\}",
        "listen: {address: 127.0.0.1, port: " + port + "}");
    java.nio.file.Files.writeString(cfg.file(), text);
    return io.beamgate.gateway.config.GatewayConfigFile.load(cfg.file());
  }

  @Test
  void sendsByNameCountAgainstTheRulesRate() throws Exception {
    start(""); // the rule's default rate: 100 per second
    io.beamgate.node.Mailbox kv = backend.createMailbox("kv_server");
    try (RawBridge b = greeted(bedB)) {
      Pid peerPid = new Pid(Atom.of("b1@elsewhere"), 1, 0, 7);
      for (int i = 0; i < 300; i++) {
        b.send(Tuple.of(Atom.of("ctl"), Tuple.of(Int.of(6), peerPid, Atom.of(""),
            Atom.of("kv_server")), Int.of(i)));
      }
      int got = 0;
      while (kv.receive(Duration.ofMillis(500)) != null) {
        got++;
      }
      assertTrue(got >= 100 && got < 300, got + " of 300 sends arrived");
      awaitAudit(bedA, "rate limit of rule cluster-b: 100 requests per second for gw-b.test");
    }
  }

  /**
   * Sends {@code {hello, Peer}} from the other side to kv_server; returns the stand-in that
   * kv_server sees for {@code peer}.
   */
  static Pid introduce(RawBridge b, io.beamgate.node.Mailbox kv, Pid peer) throws Exception {
    b.send(Tuple.of(Atom.of("ctl"), Tuple.of(Int.of(6), peer, Atom.of(""),
        Atom.of("kv_server")), Tuple.of(Atom.of("hello"), peer)));
    Term got = kv.receive(WAIT);
    assertTrue(got instanceof Tuple h && h.isTagged("hello", 2), String.valueOf(got));
    return (Pid) ((Tuple) got).get(1);
  }

  static void awaitAudit(TestBed bed, String text) throws Exception {
    long end = System.nanoTime() + WAIT.toNanos();
    while (!bed.auditText().contains(text) && System.nanoTime() < end) {
      Thread.sleep(20);
    }
    assertTrue(bed.auditText().contains(text), bed.auditText());
  }
}
