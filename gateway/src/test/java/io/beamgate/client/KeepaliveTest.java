package io.beamgate.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.beamgate.client.GatewayException.Code;
import io.beamgate.gateway.proto.ClientFrame;
import io.beamgate.gateway.server.TcpRelay;
import io.beamgate.node.term.Term;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The client's keepalive: a connection that goes silent while requests are in flight (a
 * partition that drops packets and resets nothing, staged by a relay that stops forwarding)
 * is given up within keepaliveTimeout, its requests fail at once with OUTCOME_UNKNOWN, and the
 * client reconnects when the path heals; a slow but live gateway is never mistaken for a dead
 * one; idle connections are not pinged unless asked.
 */
class KeepaliveTest {
  @TempDir static Path dir;
  static TestPki pki;
  private final List<AutoCloseable> toClose = new ArrayList<>();

  @BeforeAll
  static void certificates() throws Exception {
    pki = new TestPki(dir);
  }

  @AfterEach
  void closeAll() throws Exception {
    Collections.reverse(toClose);
    for (AutoCloseable c : toClose) {
      c.close();
    }
  }

  private <T extends AutoCloseable> T closing(T c) {
    toClose.add(c);
    return c;
  }

  private static ClientConfig.Builder config(int port) {
    return ClientConfig.builder().host("127.0.0.1").port(port)
        .tls(pki.clientCert, pki.clientKey, pki.ca).connectTimeout(Duration.ofSeconds(2))
        .reconnectBackoff(Duration.ofMillis(20), Duration.ofMillis(200))
        .callTimeout(Duration.ofSeconds(10))
        .keepalive(Duration.ofMillis(200), Duration.ofMillis(600));
  }

  private static int pings(ScriptedGateway gw) {
    int n = 0;
    for (ClientFrame f; (f = gw.received.poll()) != null; ) {
      n += f.getRequestCase() == ClientFrame.RequestCase.PING ? 1 : 0;
    }
    return n;
  }

  @Test
  void decisionsFollowSilenceOnlyWhileBusy() {
    ClientConfig c = config(1).build();
    long ms = 1_000_000L;
    Keepalive k = new Keepalive(c, 0);
    assertEquals(Keepalive.Action.NOTHING, k.check(5_000 * ms, false), "idle: silence is fine");
    k.busy(5_000 * ms);
    assertEquals(Keepalive.Action.NOTHING, k.check(5_199 * ms, true));
    assertEquals(Keepalive.Action.PING, k.check(5_200 * ms, true), "at the interval");
    assertEquals(Keepalive.Action.NOTHING, k.check(5_300 * ms, true), "one ping per interval");
    assertEquals(Keepalive.Action.PING, k.check(5_400 * ms, true));
    assertEquals(Keepalive.Action.DEAD, k.check(5_600 * ms, true), "at the timeout");
    k.read(5_600 * ms);
    assertEquals(Keepalive.Action.NOTHING, k.check(5_700 * ms, true), "a frame resets it");

    Keepalive always = new Keepalive(config(1).keepaliveWithoutCalls(true).build(), 0);
    assertEquals(Keepalive.Action.PING, always.check(300 * ms, false));
    assertEquals(Keepalive.Action.DEAD, always.check(600 * ms, false));
  }

  @Test
  void timeoutMustExceedTheInterval() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> config(1).keepalive(Duration.ofSeconds(2), Duration.ofSeconds(2)).build());
    assertTrue(e.getMessage().startsWith("keepaliveTimeout: PT2S (expected: > keepaliveInterval"),
        e.getMessage());
    assertEquals(Duration.ofSeconds(10), ClientConfig.DEFAULT_KEEPALIVE_INTERVAL);
    assertEquals(Duration.ofSeconds(20), ClientConfig.DEFAULT_KEEPALIVE_TIMEOUT);
  }

  @Test
  void silentPartitionFailsInFlightCallsAtOnceAndTheClientReconnectsWhenItHeals()
      throws Exception {
    ScriptedGateway gw = closing(ScriptedGateway.start(pki, ScriptedGateway.STANDARD));
    TcpRelay relay = closing(new TcpRelay(0, gw.port()));
    BeamgateClient c = closing(BeamgateClient.connect(config(relay.port()).build()));
    assertEquals(Term.atom("a"), c.blocking().call("test", "echo", List.of(Term.atom("a"))));

    relay.partition();
    long start = System.nanoTime();
    CompletableFuture<Term> lost = c.call("test", "echo", List.of(Term.atom("b")));
    GatewayException e = BeamgateClientTest.failure(lost);
    long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
    assertEquals(Code.OUTCOME_UNKNOWN, e.code(), e.getMessage());
    assertTrue(e.getMessage().contains("keepaliveTimeout 600 ms"), e.getMessage());
    assertTrue(ms >= 550 && ms < 3_000, ms + " ms (keepalive timeout 600 ms, call 10 s)");

    // While the path is down, new calls wait for a connection (none is made through it).
    CompletableFuture<Term> waiting = c.call("test", "echo", List.of(Term.atom("c")));
    Thread.sleep(300);
    assertFalse(waiting.isDone());
    relay.heal();
    assertEquals(Term.atom("c"), waiting.get(8, TimeUnit.SECONDS));
    assertEquals(Term.atom("d"), c.blocking().call("test", "echo", List.of(Term.atom("d"))));
    assertTrue(gw.connections.get() >= 2, "a new connection: " + gw.connections.get());
  }

  @Test
  void slowCallOnALiveConnectionIsNotMistakenForADeadOne() throws Exception {
    ScriptedGateway gw = closing(ScriptedGateway.start(pki, ScriptedGateway.STANDARD));
    BeamgateClient c = closing(BeamgateClient.connect(config(gw.port()).build()));
    GatewayException e = BeamgateClientTest.failure(
        c.call("test", "hang", List.of(), Duration.ofMillis(1_500)));
    assertEquals(Code.TIMEOUT, e.code(), "the call's own timeout, not a dead connection: "
        + e.getMessage());
    assertTrue(pings(gw) >= 3, "the silent connection was pinged");
    assertEquals(1, gw.connections.get());
    assertTrue(c.isConnected());
  }

  @Test
  void idleConnectionIsPingedOnlyWhenAsked() throws Exception {
    ScriptedGateway gw = closing(ScriptedGateway.start(pki, ScriptedGateway.STANDARD));
    BeamgateClient quiet = closing(BeamgateClient.connect(config(gw.port()).build()));
    pings(gw); // connect's own ping
    Thread.sleep(800);
    assertEquals(0, pings(gw), "no ping without requests in flight");
    assertTrue(quiet.isConnected());

    TcpRelay relay = closing(new TcpRelay(0, gw.port()));
    BeamgateClient eager = closing(BeamgateClient.connect(config(relay.port())
        .keepaliveWithoutCalls(true).build()));
    pings(gw); // connect's own ping
    Thread.sleep(500);
    assertTrue(pings(gw) >= 1, "pinged while idle");
    assertTrue(eager.isConnected());
    relay.partition();
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(3);
    while (eager.isConnected() && System.nanoTime() < end) {
      Thread.sleep(20);
    }
    assertFalse(eager.isConnected(), "a dead idle connection is given up");
  }
}
