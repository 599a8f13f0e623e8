package io.beamgate.node.interop;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.beamgate.node.LocalNode;
import io.beamgate.node.NodeConfig;
import io.beamgate.node.epmd.EpmdServer;
import io.beamgate.node.rpc.RpcException;
import io.beamgate.node.term.Atom;
import io.beamgate.node.term.Int;
import io.beamgate.node.term.Term;
import io.beamgate.node.testing.ErlNode;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * RpcClient's timeouts against a real erl, now that a sweep checks deadlines every period
 * instead of a timer per call: never early, at most about a period late, the same error.
 */
class RpcTimeoutErlTest {
  private static final String COOKIE = "rpc_timeout_cookie";
  private static final Duration PERIOD = Duration.ofMillis(50);
  private static EpmdServer epmd;
  private static ErlNode erl;
  private static LocalNode java;

  @BeforeAll
  static void start() throws Exception {
    epmd = EpmdServer.start(EpmdServer.Config.loopback(0));
    erl = ErlNode.start(ErlNode.uniqueName("erl"), COOKIE, epmd.port());
    java = LocalNode.start(NodeConfig.builder(ErlNode.uniqueName("java")).cookie(COOKIE)
        .epmd("127.0.0.1", epmd.port()).rpcSweepPeriod(PERIOD).build());
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
  }

  private static CompletableFuture<Term> sleep(long ms, Duration timeout) {
    return java.rpc().callAsync(erl.name(), "timer", "sleep", List.of(Int.of(ms)), timeout);
  }

  @Test
  void aCallPastItsTimeoutFailsNeverEarlyAndWithinAboutOnePeriod() throws Exception {
    sleep(0, Duration.ofSeconds(10)).get(10, TimeUnit.SECONDS); // connected, erpc warm
    for (int i = 0; i < 5; i++) {
      long t0 = System.nanoTime();
      CompletableFuture<Term> f = sleep(5_000, Duration.ofMillis(300));
      ExecutionException e = assertThrows(ExecutionException.class,
          () -> f.get(10, TimeUnit.SECONDS));
      long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
      RpcException r = assertInstanceOf(RpcException.class, e.getCause());
      assertEquals(RpcException.Kind.TIMEOUT, r.kind());
      assertEquals(Atom.of("timeout"), r.reason());
      assertEquals("no answer from " + erl.name() + " within 300 ms", r.getMessage());
      assertTrue(ms >= 300, "timed out after " + ms + " ms, before its 300 ms");
      // A period late at most, plus what a machine shared with other builds adds.
      assertTrue(ms < 300 + PERIOD.toMillis() + 1_500, "timed out after " + ms + " ms");
    }
  }

  @Test
  void aCallAnsweredJustInsideItsTimeoutSucceeds() throws Exception {
    // Answered 100 ms before the limit: the sweep must not take it for a late one.
    for (int i = 0; i < 3; i++) {
      assertEquals(Atom.OK, sleep(200, Duration.ofMillis(300)).get(10, TimeUnit.SECONDS));
    }
    // Hundreds in flight, all answered within their timeout, then one past it.
    List<CompletableFuture<Term>> calls = new java.util.ArrayList<>();
    for (int i = 0; i < 500; i++) {
      calls.add(sleep(i % 50, Duration.ofSeconds(5)));
    }
    for (CompletableFuture<Term> c : calls) {
      assertEquals(Atom.OK, c.get(10, TimeUnit.SECONDS));
    }
  }

  @Test
  void aCallToANodeThatCannotBeReachedTimesOutOrFailsToConnectAsBefore() {
    // No such node: the connect fails (NOT_CONNECTED) within the call's timeout.
    CompletableFuture<Term> f = java.rpc().callAsync("nobody_" + System.nanoTime()
        + "@127.0.0.1", "erlang", "node", List.of(), Duration.ofSeconds(3));
    ExecutionException e = assertThrows(ExecutionException.class,
        () -> f.get(10, TimeUnit.SECONDS));
    RpcException r = assertInstanceOf(RpcException.class, e.getCause());
    assertTrue(r.kind() == RpcException.Kind.NOT_CONNECTED
        || r.kind() == RpcException.Kind.TIMEOUT, r.kind() + ": " + r.getMessage());
  }

  @Test
  void theSweepPeriodIsBoundedAtBothEnds() {
    NodeConfig.Builder b = NodeConfig.builder("bounds").cookie(COOKIE);
    assertEquals(Duration.ofMillis(1), build(b.rpcSweepPeriod(Duration.ofMillis(1))));
    assertEquals(Duration.ofSeconds(1), build(b.rpcSweepPeriod(Duration.ofSeconds(1))));
    for (Duration bad : new Duration[] {Duration.ofNanos(999_999), Duration.ZERO,
        Duration.ofMillis(1001), null}) {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> b.rpcSweepPeriod(bad).build());
      assertTrue(e.getMessage().startsWith("rpcSweepPeriod: ")
          && e.getMessage().endsWith("(expected: 1 ms..1 s)"), e.getMessage());
    }
    assertEquals(Duration.ofMillis(20), build(NodeConfig.builder("dflt").cookie(COOKIE)));
  }

  private static Duration build(NodeConfig.Builder b) {
    try {
      return b.build().rpcSweepPeriod();
    } catch (java.io.IOException e) {
      throw new AssertionError(e);
    }
  }
}
