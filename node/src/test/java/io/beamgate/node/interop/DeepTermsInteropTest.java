package io.beamgate.node.interop;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.beamgate.node.LocalNode;
import io.beamgate.node.Mailbox;
import io.beamgate.node.NodeConfig;
import io.beamgate.node.epmd.EpmdServer;
import io.beamgate.node.etf.DecodeLimits;
import io.beamgate.node.rpc.Echo;
import io.beamgate.node.term.ErlList;
import io.beamgate.node.term.Int;
import io.beamgate.node.term.Ref;
import io.beamgate.node.term.Term;
import io.beamgate.node.term.Tuple;
import io.beamgate.node.testing.ErlNode;
import java.math.BigInteger;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Terms of any shape OTP makes cross a beamgate node both ways and the link stays up; a term
 * past a configured limit costs only its own message.
 */
class DeepTermsInteropTest {
  private static final String COOKIE = "deep_cookie";
  private static final Duration LONG = Duration.ofSeconds(90);
  /** Io(N): an iolist N levels deep, nested in the head as Erlang code builds them. */
  private static final String HELPERS = "Io = fun(N) -> lists:foldl(fun(_, A) -> [A, $x] end,"
      + " [], lists:seq(1, N)) end, EchoIn = fun(Node, T, Ms) -> R = make_ref(),"
      + " {beamgate_echo, Node} ! {self(), R, T}, receive {R, B} -> B =:= T after Ms ->"
      + " no_reply end end, Echo = fun(Node, T) -> EchoIn(Node, T, 30000) end,"
      + " Drop = fun(Node, T) -> EchoIn(Node, T, 2000) end, ";
  private static EpmdServer epmd;
  private static ErlNode erl;
  private static LocalNode beamgate;
  private static LocalNode strict;
  private static LocalNode reassembling;

  @BeforeAll
  static void start() throws Exception {
    epmd = EpmdServer.start(EpmdServer.Config.loopback(0));
    erl = ErlNode.start(ErlNode.uniqueName("deep"), COOKIE, epmd.port());
    erl.evalOk("register(beamgate_echo, spawn(fun() -> Loop = fun L() -> receive"
        + " {From, Ref, T} -> From ! {Ref, T}, L() end end, Loop() end)).");
    beamgate = LocalNode.start(NodeConfig.builder(ErlNode.uniqueName("bgdeep")).cookie(COOKIE)
        .epmd("127.0.0.1", epmd.port()).build());
    beamgate.createMailbox(Echo.NAME, new Echo());
    // At the limits: depth 10 (the message tuple counts as a level) and 16 KiB frames.
    strict = LocalNode.start(NodeConfig.builder(ErlNode.uniqueName("bgstrict")).cookie(COOKIE)
        .epmd("127.0.0.1", epmd.port()).maxFrameBytes(16 * 1024)
        .decodeLimits(DecodeLimits.DISTRIBUTION.withMaxDepth(10).withMaxBignumBytes(64))
        .build());
    strict.createMailbox(Echo.NAME, new Echo());
    // erl sends messages over 64 KiB in 64 KiB fragments: a cap above that is met only by the
    // reassembled message.
    reassembling = LocalNode.start(NodeConfig.builder(ErlNode.uniqueName("bgreasm"))
        .cookie(COOKIE).epmd("127.0.0.1", epmd.port()).maxFrameBytes(100 * 1024).build());
    reassembling.createMailbox(Echo.NAME, new Echo());
  }

  @AfterAll
  static void stop() {
    for (AutoCloseable c : new AutoCloseable[] {beamgate, strict, reassembling, erl, epmd}) {
      try {
        if (c != null) {
          c.close();
        }
      } catch (Exception e) {
        // best effort
      }
    }
  }

  private static String onErl(String node, String exprs) throws Exception {
    return erl.eval(HELPERS + exprs.replace("TARGET", "'" + node + "'"), LONG);
  }

  @Test
  void aMillionDeepIolistAndHundredThousandBitBignumsGoErlToBeamgateToErl() throws Exception {
    String r = onErl(beamgate.name(), "erlang:monitor_node(TARGET, true),"
        + " A = Echo(TARGET, Io(1000000)), B = Echo(TARGET, 1 bsl 100000),"
        + " C = Echo(TARGET, -(1 bsl 100000) + 7), D = Echo(TARGET, [1 bsl 8192 | Io(2000)]),"
        + " Down = receive {nodedown, _} -> nodedown after 200 -> up end,"
        + " erlang:monitor_node(TARGET, false), {A, B, C, D, Down, lists:member(TARGET, nodes())}.");
    assertEquals("{ok,{true,true,true,true,up,true}}", r);
  }

  @Test
  void aMillionDeepIolistAndABigBignumGoBeamgateToErlToBeamgate() throws Exception {
    Term io = ErlList.NIL;
    for (int i = 0; i < 1_000_000; i++) {
      io = ErlList.of(io, Int.of('x'));
    }
    Term big = Term.integer(BigInteger.ONE.shiftLeft(100_000).add(BigInteger.TEN));
    try (Mailbox mb = beamgate.createMailbox()) {
      for (Term t : new Term[] {io, big}) {
        Ref ref = beamgate.makeRef();
        mb.send("beamgate_echo", erl.name(), Tuple.of(mb.self(), ref, t));
        Term back = mb.receive(m -> m instanceof Tuple tu && tu.get(0).equals(ref), LONG);
        // Not assertEquals: a failure would print a million-level term.
        assertTrue(Tuple.of(ref, t).equals(back), "echo of a " + t.getClass().getSimpleName()
            + " came back " + (back == null ? "never" : "different"));
      }
      assertTrue(beamgate.isConnected(erl.name()));
    }
  }

  @Test
  void aTermPastTheDepthLimitDropsOnlyItsMessage() throws Exception {
    long before = strict.stats().get("dropped_inbound");
    String r = onErl(strict.name(), "erlang:monitor_node(TARGET, true),"
        + " AtLimit = Echo(TARGET, Io(9)), Past = Drop(TARGET, Io(10)),"
        + " BigOk = Echo(TARGET, 1 bsl 511), BigPast = Drop(TARGET, 1 bsl 512),"
        + " After = Echo(TARGET, small),"
        + " Down = receive {nodedown, _} -> nodedown after 200 -> up end,"
        + " erlang:monitor_node(TARGET, false), {AtLimit, Past, BigOk, BigPast, After, Down}.");
    assertEquals("{ok,{true,no_reply,true,no_reply,true,up}}", r);
    assertEquals(before + 2, strict.stats().get("dropped_inbound"));
  }

  @Test
  void aFramePastTheSizeLimitDropsOnlyItsMessageFragmentedOrNot() throws Exception {
    long before = strict.stats().get("dropped_inbound");
    String r = onErl(strict.name(), "erlang:monitor_node(TARGET, true),"
        + " Under = Echo(TARGET, binary:copy(<<1>>, 15000)),"
        + " Past = Drop(TARGET, binary:copy(<<2>>, 20000)),"
        + " Huge = Drop(TARGET, binary:copy(<<3>>, 300000)),"
        + " After = Echo(TARGET, {small, Io(5)}),"
        + " Down = receive {nodedown, _} -> nodedown after 200 -> up end,"
        + " erlang:monitor_node(TARGET, false), {Under, Past, Huge, After, Down}.");
    assertEquals("{ok,{true,no_reply,no_reply,true,up}}", r);
    assertEquals(before + 2, strict.stats().get("dropped_inbound"));
    assertTrue(strict.isConnected(erl.name()));
  }

  @Test
  void aFragmentedMessagePastTheSizeLimitDropsOnlyItself() throws Exception {
    long before = reassembling.stats().get("dropped_inbound");
    String r = onErl(reassembling.name(), "erlang:monitor_node(TARGET, true),"
        + " Under = Echo(TARGET, binary:copy(<<1>>, 100000)),"
        + " Past = Drop(TARGET, binary:copy(<<2>>, 300000)),"
        + " After = Echo(TARGET, binary:copy(<<3>>, 90000)),"
        + " Down = receive {nodedown, _} -> nodedown after 200 -> up end,"
        + " erlang:monitor_node(TARGET, false), {Under, Past, After, Down}.");
    assertEquals("{ok,{true,no_reply,true,up}}", r);
    assertEquals(before + 1, reassembling.stats().get("dropped_inbound"));
  }
}
