package io.beamgate.node.interop;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.beamgate.node.LocalNode;
import io.beamgate.node.Mailbox;
import io.beamgate.node.NodeConfig;
import io.beamgate.node.NodeListener;
import io.beamgate.node.NodeName;
import io.beamgate.node.dist.HandshakeException;
import io.beamgate.node.dist.NodeConnectException;
import io.beamgate.node.epmd.EpmdServer;
import io.beamgate.node.rpc.Rpc;
import io.beamgate.node.rpc.RpcException;
import io.beamgate.node.rpc.RpcServer;
import io.beamgate.node.term.Atom;
import io.beamgate.node.term.Int;
import io.beamgate.node.term.Pid;
import io.beamgate.node.term.Term;
import io.beamgate.node.term.TermText;
import io.beamgate.node.term.Tuple;
import io.beamgate.node.testing.ErlNode;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** A Java node and real erl nodes, in both directions, through the embedded EPMD. */
class NodeInteropTest {
  private static final String COOKIE = "interop_cookie";
  private static final Duration T = Duration.ofSeconds(10);
  private static EpmdServer epmd;
  private static ErlNode erl;
  private static LocalNode java;
  private static ExecutorService workers;

  @BeforeAll
  static void start() throws Exception {
    epmd = EpmdServer.start(EpmdServer.Config.loopback(0));
    erl = ErlNode.start(ErlNode.uniqueName("erl"), COOKIE, epmd.port());
    java = LocalNode.start(NodeConfig.builder(ErlNode.uniqueName("java")).cookie(COOKIE)
        .epmd("127.0.0.1", epmd.port()).build());
    java.createMailbox(io.beamgate.node.rpc.Echo.NAME, new io.beamgate.node.rpc.Echo());
    workers = Executors.newFixedThreadPool(2);
    RpcServer.start(java, workers)
        .register("jdemo", "add", 2, a -> Int.of(((Int) a.get(0)).value()
            + ((Int) a.get(1)).value()))
        .register("jdemo", "fail", 0, a -> {
          throw new IllegalStateException("boom");
        })
        .register("jdemo", "big", 1, a -> io.beamgate.node.term.Binary.of(
            new byte[(int) ((Int) a.get(0)).value()]));
  }

  @AfterAll
  static void stop() {
    if (java != null) {
      java.close();
    }
    if (erl != null) {
      erl.close();
    }
    if (epmd != null) {
      epmd.close();
    }
    if (workers != null) {
      workers.shutdownNow();
    }
  }

  private static Term erlTerm(String exprs) throws Exception {
    return TermText.parse(erl.evalOk(exprs));
  }

  @Test
  void javaPingsErl() {
    assertTrue(java.ping(erl.name(), T));
    assertTrue(java.connectedNodes().contains(erl.name()));
  }

  @Test
  void erlPingsJavaAndSeesItVisible() throws Exception {
    assertEquals("pong", erl.evalOk("net_adm:ping('" + java.name() + "')."));
    assertEquals("true", erl.evalOk("lists:member('" + java.name() + "', nodes())."));
  }

  @Test
  void javaSendsToErlRegisteredProcess() throws Exception {
    erl.evalOk("register(inbox, self()).");
    try (Mailbox mb = java.createMailbox()) {
      Term msg = Tuple.of(Atom.of("hello"), mb.self(), Term.list(Int.of(1), Term.binary("x")),
          Term.number(1.5));
      mb.send("inbox", erl.name(), msg);
      // Pids print as <0.N.0> in erl: compare there, with the pid checked for its node.
      assertEquals("{true," + java.name() + ",[1,<<120>>],1.5}",
          erl.evalOk("receive {hello, P, L, F} -> {is_pid(P), node(P), L, F} after 5000 ->"
              + " timeout end."));
    } finally {
      erl.evalOk("unregister(inbox).");
    }
  }

  @Test
  void erlSendsToJavaByNameAndJavaRepliesToPid() throws Exception {
    try (Mailbox mb = java.createMailbox("jbox")) {
      erl.evalOk("{jbox, '" + java.name() + "'} ! {from_erl, self(), [1,2,3], #{k => <<\"v\">>}}.");
      Term got = mb.receive(T);
      assertNotNull(got, "message from erl arrived");
      Tuple t = assertInstanceOf(Tuple.class, got);
      assertEquals(Atom.of("from_erl"), t.get(0));
      Pid erlPid = assertInstanceOf(Pid.class, t.get(1));
      assertEquals(erl.name(), erlPid.node().name());
      assertEquals(TermText.parse("#{k => <<\"v\">>}"), t.get(3));
      mb.send(erlPid, Tuple.of(Atom.of("reply"), t.get(2)));
      assertEquals("{reply,[1,2,3]}",
          erl.evalOk("receive {reply, _} = M -> M after 5000 -> timeout end."));
    }
  }

  @Test
  void aliasesBothWays() throws Exception {
    try (Mailbox mb = java.createMailbox("aliasbox")) {
      // erl makes an alias and hands it over; Java sends to it (ALIAS_SEND to erl).
      erl.evalOk("put(alias, alias()), {aliasbox, '" + java.name() + "'} ! {alias, get(alias)}.");
      Tuple got = assertInstanceOf(Tuple.class, mb.receive(T));
      io.beamgate.node.term.Ref erlAlias =
          assertInstanceOf(io.beamgate.node.term.Ref.class, got.get(1));
      mb.sendAlias(erlAlias, Atom.of("via_alias"));
      assertEquals("via_alias", erl.evalOk("receive via_alias = M -> M after 5000 -> timeout"
          + " end."));
      // Java makes an alias; erl sends to it (ALIAS_SEND to Java).
      io.beamgate.node.term.Ref mine = mb.alias();
      erl.evalOk("put(java_alias, binary_to_term(<<" + hex(mine) + ">>)).");
      erl.evalOk("get(java_alias) ! {to_alias, 42}.");
      assertEquals(TermText.parse("{to_alias, 42}"), mb.receive(T));
      mb.unalias(mine);
      erl.evalOk("get(java_alias) ! {to_alias, 43}.");
      assertEquals(null, mb.receive(Duration.ofMillis(300)), "no delivery after unalias");
    }
  }

  private static String hex(Term t) {
    byte[] b = io.beamgate.node.etf.EtfEncoder.encode(t);
    StringBuilder sb = new StringBuilder();
    for (byte x : b) {
      sb.append(sb.length() == 0 ? "" : ",").append(x & 0xFF);
    }
    return sb.toString();
  }

  @Test
  void rexCallsReturnWhatRpcCallReturnsInErl() throws Exception {
    String[][] calls = {
      {"lists", "reverse", "[[1, 2, 3]]"},
      {"lists", "seq", "[1, 10]"},
      {"erlang", "list_to_binary", "[\"abc\"]"},
      {"maps", "from_list", "[[{a, 1}, {b, <<\"two\">>}]]"},
      {"erlang", "integer_to_list", "[123456789012345678901234567890]"},
      {"erlang", "abs", "[-123456789012345678901234567890]"},
      {"erlang", "float", "[3]"},
      {"string", "uppercase", "[\"héllo\"]"},
    };
    for (String[] c : calls) {
      List<Term> args = ((io.beamgate.node.term.ErlList) TermText.parse(c[2])).elements();
      Term erlResult = erlTerm("rpc:call(node(), " + c[0] + ", " + c[1] + ", " + c[2] + ").");
      assertEquals(erlResult, Rpc.call(java, erl.name(), c[0], c[1], args, T), c[1]);
      assertEquals(erlResult, Rpc.rexCall(java, erl.name(), c[0], c[1], args, T), c[1]);
      assertEquals(erlResult, Rpc.erpcCall(java, erl.name(), c[0], c[1], args, T), c[1]);
    }
  }

  @Test
  void rexErrorsComeBackAsBadrpc() throws Exception {
    RpcException undef = assertThrows(RpcException.class,
        () -> Rpc.call(java, erl.name(), "no_such_module", "f", List.of(), T));
    assertEquals(RpcException.Kind.BADRPC, undef.kind());
    Tuple exit = assertInstanceOf(Tuple.class, undef.reason());
    assertEquals(Atom.of("EXIT"), exit.get(0));
    assertEquals(Atom.of("undef"), ((Tuple) exit.get(1)).get(0));

    // Through erpc the stack is trimmed to the call, exactly as erl's own rpc:call shows it.
    RpcException viaErpc = assertThrows(RpcException.class,
        () -> Rpc.erpcCall(java, erl.name(), "no_such_module", "f", List.of(), T));
    assertEquals(erlTerm("rpc:call(node(), no_such_module, f, [])."), viaErpc.badrpc());
    // rpc:call returns a throw's value, as a result.
    assertEquals(Atom.of("ball"),
        Rpc.call(java, erl.name(), "erlang", "throw", List.of(Atom.of("ball")), T));
    RpcException raised = assertThrows(RpcException.class,
        () -> Rpc.call(java, erl.name(), "erlang", "error", List.of(Atom.of("oops")), T));
    assertEquals(Atom.of("oops"), ((Tuple) ((Tuple) raised.reason()).get(1)).get(0));
  }

  @Test
  void thousandAsyncCallsInFlightFromOneThread() throws Exception {
    io.beamgate.node.rpc.RpcClient rpc = java.rpc();
    List<CompletableFuture<Term>> calls = new java.util.ArrayList<>();
    for (int i = 0; i < 1000; i++) {
      calls.add(rpc.callAsync(erl.name(), "erlang", "abs", List.of(Int.of(-i)), T));
    }
    for (int i = 0; i < 1000; i++) {
      assertEquals(Int.of(i), calls.get(i).get(10, TimeUnit.SECONDS));
    }
    CompletableFuture<Term> slow = rpc.callAsync(erl.name(), "timer", "sleep",
        List.of(Int.of(2000)), Duration.ofMillis(200));
    java.util.concurrent.ExecutionException e = assertThrows(
        java.util.concurrent.ExecutionException.class, () -> slow.get(5, TimeUnit.SECONDS));
    assertEquals(RpcException.Kind.TIMEOUT, ((RpcException) e.getCause()).kind());
  }

  @Test
  void rexTimeoutIsTyped() {
    RpcException e = assertThrows(RpcException.class, () -> Rpc.call(java, erl.name(), "timer",
        "sleep", List.of(Int.of(3000)), Duration.ofMillis(300)));
    assertEquals(RpcException.Kind.TIMEOUT, e.kind());
    assertEquals(TermText.parse("{badrpc, timeout}"), e.badrpc());
  }

  /** The rex protocol, as OTP's rpc module speaks it to rex (OTP 25's rpc:call uses erpc). */
  private static String rexCall(String m, String f, String args) throws Exception {
    return erl.evalOk("gen_server:call({rex, '" + java.name() + "'}, {call, " + m + ", " + f
        + ", " + args + ", group_leader()}, 5000).");
  }

  @Test
  void erlCallsJavaRpcServerThroughRex() throws Exception {
    assertEquals("42", rexCall("jdemo", "add", "[40, 2]"));
    String undef = rexCall("jdemo", "nope", "[]");
    assertTrue(undef.startsWith("{badrpc,{'EXIT',{undef,[{jdemo,nope,[],"), undef);
    String failed = rexCall("jdemo", "fail", "[]");
    assertTrue(failed.startsWith("{badrpc,{'EXIT',"), failed);
    assertTrue(failed.contains("java_exception"), failed);
  }

  @Test
  void erlRpcAndErpcCallJavaHandlers() throws Exception {
    String n = "'" + java.name() + "'";
    assertEquals("42", erl.evalOk("rpc:call(" + n + ", jdemo, add, [40, 2])."));
    assertEquals("42", erl.evalOk("erpc:call(" + n + ", jdemo, add, [40, 2])."));
    assertEquals("{badrpc,{'EXIT',{undef,[{jdemo,nope,[1],[]}]}}}",
        erl.evalOk("rpc:call(" + n + ", jdemo, nope, [1])."));
    assertEquals("{error,undef}",
        erl.evalOk("try erpc:call(" + n + ", jdemo, nope, []) catch error:{exception, R, _}"
            + " -> {error, R} end."));
    String failed = erl.evalOk("rpc:call(" + n + ", jdemo, fail, []).");
    assertTrue(failed.startsWith("{badrpc,{'EXIT',{{java_exception,"), failed);
    // results larger than a fragment: the erpc result is an exit reason, which goes as the
    // payload of PAYLOAD_MONITOR_P_EXIT (inside MONITOR_P_EXIT erts refused it as corrupted)
    for (int size : new int[] {100, 70_000, 1_000_000}) {
      assertEquals(Integer.toString(size), erl.evalOk("byte_size(erpc:call(" + n
          + ", jdemo, big, [" + size + "]))."));
    }
    assertEquals("pong", erl.evalOk("net_adm:ping(" + n + ")."), "the connection stayed up");
  }

  @Test
  void erlSpawnOfAnythingButErpcIsRefusedAndNothingRuns() throws Exception {
    long before = java.stats().get("refused_spawns");
    String r = erl.evalOk("P = self(), Ref = make_ref(), R = erlang:spawn_request('"
        + java.name() + "', erlang, send, [P, {ran, Ref}], []), receive {spawn_reply, R, error,"
        + " E} -> E; {spawn_reply, R, ok, _} -> spawned after 5000 -> timeout end.");
    assertEquals("notsup", r);
    assertEquals("timeout", erl.evalOk("receive {ran, _} -> ran after 300 -> timeout end."),
        "the side effect never happened");
    assertEquals(before + 1, java.stats().get("refused_spawns"));
    // erlang:spawn/2 with a fun: the same refusal; the fun never runs.
    erl.evalOk("P2 = self(), spawn('" + java.name() + "', fun() -> P2 ! fun_ran end).");
    assertEquals("timeout", erl.evalOk("receive fun_ran -> ran after 300 -> timeout end."));
    assertEquals(before + 2, java.stats().get("refused_spawns"));
  }

  @Test
  void erlMonitorsJavaMailboxByNameAndPid() throws Exception {
    Mailbox mb = java.createMailbox("watched");
    String n = "'" + java.name() + "'";
    erl.evalOk("put(mref, monitor(process, {watched, " + n + "})).");
    assertEquals("noproc", erl.evalOk("monitor(process, {nobody, " + n + "}), receive"
        + " {'DOWN', _, process, {nobody, _}, R} -> R after 5000 -> timeout end."));
    // A round trip so the MONITOR_P has arrived before the exit.
    assertTrue(java.ping(erl.name(), T));
    erl.evalOk("net_adm:ping(" + n + ").");
    mb.exit(Atom.of("bye"));
    String down = erl.evalOk("MRef = get(mref), receive {'DOWN', MRef, process, _, Why} -> Why"
        + " after 5000 -> timeout end.");
    assertEquals("bye", down);
  }

  @Test
  void echoReturnsEveryKindOfTermUnchanged() throws Exception {
    String n = "'" + java.name() + "'";
    String term = "{self(), make_ref(), fun() -> ok end, fun lists:map/2, hd(erlang:ports()),"
        + " #{a => [1, 2.5, <<1,2,3:4>>], \"k\" => {}}, 'h\\x{e9}llo', [1 | improper],"
        + " -123456789012345678901234567890, <<>>, [], \"string\", 1.0e300, -0.0}";
    assertEquals("true", erl.evalOk("T = " + term + ", T =:= gen_server:call({beamgate_echo, "
        + n + "}, T)."));
    assertEquals("true", erl.evalOk("T = " + term + ", R = make_ref(), {beamgate_echo, " + n
        + "} ! {self(), R, T}, receive {R, X} -> X =:= T after 5000 -> timeout end."));
  }

  @Test
  void erlRemoteCallThatPrintsDoesNotHang() throws Exception {
    assertEquals(Atom.OK, Rpc.call(java, erl.name(), "io", "format",
        List.of(Term.string("printed from erl~n"), Term.list()), T));
  }

  @Test
  void wrongCookieRefusedBothWays() throws Exception {
    try (LocalNode wrong = LocalNode.start(NodeConfig.builder(ErlNode.uniqueName("wrong"))
        .cookie("not_the_cookie").epmd("127.0.0.1", epmd.port()).build())) {
      NodeConnectException e = assertThrows(NodeConnectException.class,
          () -> wrong.connect(erl.name(), T));
      assertEquals(HandshakeException.Reason.WRONG_COOKIE, e.reason());
      assertFalse(e.getMessage().contains("not_the_cookie"));
      assertFalse(wrong.ping(erl.name(), T));

      assertEquals("pang", erl.evalOk("net_adm:ping('" + wrong.name() + "')."));
      assertFalse(wrong.connectedNodes().contains(erl.name()));
    }
  }

  @Test
  void hiddenJavaNodeIsHiddenToErl() throws Exception {
    try (LocalNode hidden = LocalNode.start(NodeConfig.builder(ErlNode.uniqueName("hid"))
        .cookie(COOKIE).hidden(true).epmd("127.0.0.1", epmd.port()).build())) {
      assertTrue(hidden.ping(erl.name(), T));
      assertEquals("false", erl.evalOk("lists:member('" + hidden.name() + "', nodes())."));
      assertEquals("true",
          erl.evalOk("lists:member('" + hidden.name() + "', nodes(hidden))."));
    }
  }

  @Test
  void longNamesBothWays() throws Exception {
    String alive = ErlNode.uniqueName("lerl");
    try (ErlNode lerl = ErlNode.startLong(alive + "@127.0.0.1", COOKIE, epmd.port());
        LocalNode ljava = LocalNode.start(NodeConfig.builder(
            new NodeName(ErlNode.uniqueName("ljava"), "127.0.0.1")).cookie(COOKIE)
            .epmd("127.0.0.1", epmd.port()).build())) {
      assertTrue(ljava.ping(lerl.name(), T));
      assertEquals("pong", lerl.evalOk("net_adm:ping('" + ljava.name() + "')."));
    }
  }

  @Test
  void callToANodeKilledMidCallEndsAsNodedown() throws Exception {
    try (ErlNode victim = ErlNode.start(ErlNode.uniqueName("midcall"), COOKIE, epmd.port())) {
      CompletableFuture<RpcException> failure = CompletableFuture.supplyAsync(() -> {
        try {
          Rpc.call(java, victim.name(), "timer", "sleep", List.of(Int.of(10_000)), T);
          return null;
        } catch (RpcException e) {
          return e;
        } catch (InterruptedException e) {
          throw new IllegalStateException(e);
        }
      });
      Thread.sleep(500);
      victim.kill();
      RpcException e = failure.get(5, TimeUnit.SECONDS);
      assertEquals(RpcException.Kind.NODEDOWN, e.kind(), e.getMessage());
      assertTrue(e.getMessage().contains("outcome is unknown"), e.getMessage());
    }
  }

  @Test
  void javaMonitorsAndLinksErlProcesses() throws Exception {
    try (Mailbox mb = java.createMailbox("watcher")) {
      erl.evalOk("P = spawn(fun() -> receive stop -> exit(stopped) end end), register(victim,"
          + " P), {watcher, '" + java.name() + "'} ! {victim, P}.");
      Tuple got = assertInstanceOf(Tuple.class, mb.receive(T));
      Pid victim = assertInstanceOf(Pid.class, got.get(1));
      io.beamgate.node.term.Ref byPid = mb.monitor(victim);
      io.beamgate.node.term.Ref byName = mb.monitor("victim", erl.name());
      io.beamgate.node.term.Ref none = mb.monitor("nobody_here", erl.name());
      mb.link(victim);
      assertEquals(Tuple.of(Atom.of("DOWN"), none, Atom.of("process"),
          Tuple.of(Atom.of("nobody_here"), Atom.of(erl.name())), Atom.of("noproc")),
          mb.receive(T));
      assertTrue(java.ping(erl.name(), T)); // the monitors and link have arrived
      erl.evalOk("victim ! stop.");
      java.util.Set<Term> downs = new java.util.HashSet<>();
      for (int i = 0; i < 3; i++) {
        downs.add(mb.receive(T));
      }
      assertTrue(downs.contains(Tuple.of(Atom.of("DOWN"), byPid, Atom.of("process"), victim,
          Atom.of("stopped"))), downs.toString());
      assertTrue(downs.contains(Tuple.of(Atom.of("DOWN"), byName, Atom.of("process"),
          Tuple.of(Atom.of("victim"), Atom.of(erl.name())), Atom.of("stopped"))),
          downs.toString());
      assertTrue(downs.contains(Tuple.of(Atom.of("EXIT"), victim, Atom.of("stopped"))),
          downs.toString());
    }
  }

  @Test
  void erlLinkedToJavaMailboxGetsItsExit() throws Exception {
    Mailbox mb = java.createMailbox("linkme");
    String setup = erl.evalOk("Self = self(), spawn(fun() -> process_flag(trap_exit, true),"
        + " {linkme, '" + java.name() + "'} ! {hello, self()}, receive {link_to, P} -> link(P),"
        + " Self ! linked, receive {'EXIT', P, R} -> Self ! {got_exit, R} end end end), ok.");
    assertEquals("ok", setup);
    Tuple hello = assertInstanceOf(Tuple.class, mb.receive(T));
    Pid erlProc = (Pid) hello.get(1);
    mb.send(erlProc, Tuple.of(Atom.of("link_to"), mb.self()));
    assertEquals("linked", erl.evalOk("receive linked -> linked after 5000 -> timeout end."));
    assertTrue(java.ping(erl.name(), T));
    mb.exit(Atom.of("java_says_bye"));
    assertEquals("{got_exit,java_says_bye}",
        erl.evalOk("receive {got_exit, _} = G -> G after 5000 -> timeout end."));
  }

  @Test
  void sendersToAPeerThatStopsReadingAreHeldThenFailWithTheBound() throws Exception {
    long bound = 1 << 20;
    try (ErlNode slow = ErlNode.start(ErlNode.uniqueName("slow"), COOKIE, epmd.port());
        LocalNode sender = LocalNode.start(NodeConfig.builder(ErlNode.uniqueName("sender"))
            .cookie(COOKIE).epmd("127.0.0.1", epmd.port()).maxOutboundBytes(bound)
            .busyTimeout(Duration.ofMillis(500)).build());
        Mailbox mb = sender.createMailbox()) {
      assertTrue(sender.ping(slow.name(), T));
      slow.freeze();
      io.beamgate.node.term.Binary chunk = io.beamgate.node.term.Binary.wrap(new byte[64 << 10]);
      long sent = 0;
      IllegalStateException busy = null;
      long t0 = System.nanoTime();
      while (busy == null && sent < (512L << 20)) {
        try {
          mb.send("nobody", slow.name(), chunk);
          sent += chunk.size();
        } catch (IllegalStateException e) {
          busy = e;
        }
      }
      assertNotNull(busy, "sending " + sent + " bytes to a frozen peer never failed");
      assertTrue(busy.getMessage().contains("(expected: <= " + bound + ")"), busy.getMessage());
      // Held, not dropped: what was accepted is bounded by the bound plus the kernel's buffers.
      assertTrue(sent < bound + (64L << 20), "accepted " + sent + " bytes");
      assertTrue(System.nanoTime() - t0 >= TimeUnit.MILLISECONDS.toNanos(500));
      // The node still serves other peers.
      assertTrue(sender.ping(erl.name(), T));
    }
  }

  @Test
  void severalIdentitiesInOneJvmEachWithItsOwnCookie() throws Exception {
    try (ErlNode other = ErlNode.start(ErlNode.uniqueName("othercluster"), "other_cookie",
            epmd.port());
        LocalNode second = LocalNode.start(NodeConfig.builder(ErlNode.uniqueName("second"))
            .cookie("other_cookie").epmd("127.0.0.1", epmd.port()).build())) {
      assertTrue(second.ping(other.name(), T));
      assertFalse(second.ping(erl.name(), T), "the second identity has the other cookie");
      assertTrue(java.ping(erl.name(), T));
      assertFalse(java.ping(other.name(), T));
      assertEquals("pong", other.evalOk("net_adm:ping('" + second.name() + "')."));
      assertEquals("pang", other.evalOk("net_adm:ping('" + java.name() + "')."));
    }
  }

  @Test
  void tenMegabyteMessagesBothWays() throws Exception {
    try (Mailbox mb = java.createMailbox("bigbox")) {
      erl.evalOk("{bigbox, '" + java.name() + "'} ! {big, self(), binary:copy(<<7, 9>>,"
          + " 5000000)}, ok.");
      Tuple got = assertInstanceOf(Tuple.class, mb.receive(T));
      io.beamgate.node.term.Binary bin =
          assertInstanceOf(io.beamgate.node.term.Binary.class, got.get(2));
      assertEquals(10_000_000, bin.size());
      assertEquals(7, bin.get(0));
      assertEquals(9, bin.get(9_999_999));
      byte[] back = new byte[10_000_000];
      for (int i = 0; i < back.length; i += 2) {
        back[i] = 7;
        back[i + 1] = 9;
      }
      mb.send((Pid) got.get(1), Tuple.of(Atom.of("back"),
          io.beamgate.node.term.Binary.wrap(back)));
      assertEquals("true", erl.evalOk("receive {back, B} -> B =:= binary:copy(<<7, 9>>,"
          + " 5000000) after 10000 -> timeout end."));
    }
  }

  @Test
  void erlMessagePastTheReassemblyCapDropsOnlyThatMessage() throws Exception {
    try (LocalNode small = LocalNode.start(NodeConfig.builder(ErlNode.uniqueName("smallcap"))
        .cookie(COOKIE).epmd("127.0.0.1", epmd.port()).maxFrameBytes(1 << 20).build())) {
      Mailbox mb = small.createMailbox("capbox");
      CompletableFuture<String> down = new CompletableFuture<>();
      small.addNodeListener(listener(erl.name(), down));
      erl.evalOk("{capbox, '" + small.name() + "'} ! binary:copy(<<1>>, 2000000), ok.");
      // A message under the cap goes through on the same connection, after the dropped one.
      erl.evalOk("{capbox, '" + small.name() + "'} ! binary:copy(<<1>>, 500000), ok.");
      assertEquals(500_000, ((io.beamgate.node.term.Binary) mb.receive(T)).size());
      assertEquals(1L, small.stats().get("dropped_inbound"));
      assertFalse(down.isDone(), () -> "connection closed: " + down.join());
    }
  }

  @Test
  void killedErlIsReportedDownAtOnce() throws Exception {
    try (ErlNode victim = ErlNode.start(ErlNode.uniqueName("victim"), COOKIE, epmd.port())) {
      CompletableFuture<String> down = new CompletableFuture<>();
      java.addNodeListener(listener(victim.name(), down));
      assertTrue(java.ping(victim.name(), T));
      long t0 = System.nanoTime();
      victim.kill();
      down.get(5, TimeUnit.SECONDS);
      assertTrue(System.nanoTime() - t0 < TimeUnit.SECONDS.toNanos(5));
    }
  }

  @Test
  void silentErlIsReportedDownWithinNetTickTime() throws Exception {
    Duration tick = Duration.ofSeconds(2);
    try (ErlNode victim = ErlNode.start(ErlNode.uniqueName("frozen"), COOKIE, epmd.port());
        LocalNode ticker = LocalNode.start(NodeConfig.builder(ErlNode.uniqueName("ticker"))
            .cookie(COOKIE).netTickTime(tick).epmd("127.0.0.1", epmd.port()).build())) {
      CompletableFuture<String> down = new CompletableFuture<>();
      ticker.addNodeListener(listener(victim.name(), down));
      assertTrue(ticker.ping(victim.name(), T));
      long t0 = System.nanoTime();
      victim.freeze();
      String reason = down.get(tick.toMillis() * 3, TimeUnit.MILLISECONDS);
      long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
      assertTrue(reason.contains("net_tick_timeout"), reason);
      assertTrue(ms >= tick.toMillis() / 2 && ms <= tick.toMillis() * 2, "down after " + ms);
    }
  }

  @Test
  void erlSeesJavaNodeDownWhenItCloses() throws Exception {
    LocalNode brief = LocalNode.start(NodeConfig.builder(ErlNode.uniqueName("brief"))
        .cookie(COOKIE).epmd("127.0.0.1", epmd.port()).build());
    try {
      assertEquals("true", erl.evalOk("monitor_node('" + brief.name() + "', true)."));
    } finally {
      brief.close();
    }
    assertEquals("{nodedown," + brief.name() + "}",
        erl.evalOk("receive {nodedown, _} = D -> D after 5000 -> timeout end."));
  }

  private static NodeListener listener(String node, CompletableFuture<String> down) {
    return new NodeListener() {
      @Override
      public void nodeUp(String n) {}

      @Override
      public void nodeDown(String n, String reason) {
        if (n.equals(node)) {
          down.complete(reason);
        }
      }
    };
  }
}
