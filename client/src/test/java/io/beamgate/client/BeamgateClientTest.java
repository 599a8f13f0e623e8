package io.beamgate.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.beamgate.client.GatewayException.Code;
import io.beamgate.gateway.proto.ClientFrame;
import io.beamgate.gateway.proto.ServerFrame;
import io.beamgate.node.term.Binary;
import io.beamgate.node.term.Term;
import io.beamgate.node.term.TermText;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The client against a scripted gateway (real mTLS and framing, scripted answers): one
 * behaviour per test, the failures included.
 */
class BeamgateClientTest {
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

  private ScriptedGateway gateway(ScriptedGateway.Script script) throws Exception {
    ScriptedGateway gw = ScriptedGateway.start(pki, script);
    toClose.add(gw);
    return gw;
  }

  static ClientConfig.Builder config(int port) {
    return ClientConfig.builder().host("127.0.0.1").port(port)
        .tls(pki.clientCert, pki.clientKey, pki.ca).connectTimeout(Duration.ofSeconds(2))
        .callTimeout(Duration.ofSeconds(5))
        .reconnectBackoff(Duration.ofMillis(20), Duration.ofMillis(200));
  }

  private BeamgateClient connect(ClientConfig.Builder b) throws GatewayException {
    BeamgateClient c = BeamgateClient.connect(b.build());
    toClose.add(c);
    return c;
  }

  private BeamgateClient start(ClientConfig.Builder b) throws GatewayException {
    BeamgateClient c = BeamgateClient.start(b.build());
    toClose.add(c);
    return c;
  }

  /** The GatewayException a future failed with (within 10 s). */
  static GatewayException failure(CompletableFuture<?> f) throws Exception {
    try {
      Object v = f.get(10, TimeUnit.SECONDS);
      return fail("expected a failure, got " + v);
    } catch (ExecutionException e) {
      if (e.getCause() instanceof GatewayException g) {
        return g;
      }
      throw e;
    }
  }

  private static List<Term> args(String erlangList) {
    return ((io.beamgate.node.term.ErlList) TermText.parse(erlangList)).elements();
  }

  /** The next frame the gateway received of the kind, skipping others (null after 2 s). */
  private static ClientFrame nextOf(ScriptedGateway gw, ClientFrame.RequestCase kind)
      throws InterruptedException {
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(2);
    while (System.nanoTime() < end) {
      ClientFrame f = gw.next(50);
      if (f != null && f.getRequestCase() == kind) {
        return f;
      }
    }
    return null;
  }

  // ------------------------------------------------------------------ requests and answers

  @Test
  void callCastSendAndPing() throws Exception {
    ScriptedGateway gw = gateway(ScriptedGateway.STANDARD);
    BeamgateClient c = connect(config(gw.port()));
    Term arg = TermText.parse("{ok, [1, 2.5, <<\"k\">>, \"text\", #{a => [b | c]}, "
        + "123456789012345678901234567890, -7, <<1:3>>]}");
    assertEquals(arg, c.blocking().call("test", "echo", List.of(arg)));
    c.blocking().cast("test", "echo", List.of(arg));
    c.blocking().send("some_name", arg);
    Pong p = c.blocking().ping();
    assertEquals(new Pong(1, "scripted/0", TestPki.CLIENT_URI), p);
    assertTrue(c.isConnected());

    ClientFrame call = nextOf(gw, ClientFrame.RequestCase.CALL);
    assertEquals("test", call.getCall().getModule());
    assertEquals("echo", call.getCall().getFunction());
    assertTrue(call.getCall().getTimeoutMs() > 0 && call.getCall().getTimeoutMs() <= 5000,
        "the call tells the gateway its remaining time: " + call.getCall().getTimeoutMs());
    assertNotNull(nextOf(gw, ClientFrame.RequestCase.CAST));
    ClientFrame send = nextOf(gw, ClientFrame.RequestCase.SEND);
    assertEquals("some_name", send.getSend().getName());
  }

  @Test
  void answersOutOfOrderAreMatchedById() throws Exception {
    int n = 50;
    List<ClientFrame> held = new ArrayList<>();
    ScriptedGateway gw = gateway((peer, f) -> {
      if (f.getRequestCase() != ClientFrame.RequestCase.CALL) {
        ScriptedGateway.STANDARD.onFrame(peer, f);
        return;
      }
      held.add(f);
      if (held.size() == n) {
        // Reverse order first, for certain, then the rest shuffled.
        Collections.reverse(held);
        Collections.shuffle(held.subList(n / 2, n));
        for (ClientFrame h : held) {
          peer.send(ServerFrame.newBuilder().setId(h.getId())
              .setResult(h.getCall().getArgs(0)).build());
        }
      }
    });
    BeamgateClient c = connect(config(gw.port()));
    List<CompletableFuture<Term>> futures = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      futures.add(c.call("test", "echo", List.of(Term.integer(i))));
    }
    for (int i = 0; i < n; i++) {
      assertEquals(Term.integer(i), futures.get(i).get(5, TimeUnit.SECONDS));
    }
  }

  @Test
  void thousandConcurrentCallsOnOneConnection() throws Exception {
    int n = 1000;
    List<ClientFrame> held = new ArrayList<>();
    ScriptedGateway gw = gateway((peer, f) -> {
      if (f.getRequestCase() != ClientFrame.RequestCase.CALL) {
        ScriptedGateway.STANDARD.onFrame(peer, f);
        return;
      }
      held.add(f);
      if (held.size() == n) { // all 1000 in flight at once; answered shuffled
        Collections.shuffle(held);
        for (ClientFrame h : held) {
          peer.send(ServerFrame.newBuilder().setId(h.getId())
              .setResult(h.getCall().getArgs(0)).build());
        }
      }
    });
    BeamgateClient c = connect(config(gw.port()).maxInFlight(n));
    ExecutorService pool = Executors.newFixedThreadPool(8);
    try {
      List<Future<List<CompletableFuture<Term>>>> batches = new ArrayList<>();
      for (int t = 0; t < 8; t++) {
        int base = t * (n / 8);
        batches.add(pool.submit(() -> {
          List<CompletableFuture<Term>> fs = new ArrayList<>();
          for (int i = base; i < base + n / 8; i++) {
            fs.add(c.call("test", "echo", List.of(Term.tuple(Term.integer(i),
                Binary.of(("v" + i).getBytes())))));
          }
          return fs;
        }));
      }
      for (int t = 0; t < 8; t++) {
        List<CompletableFuture<Term>> fs = batches.get(t).get(10, TimeUnit.SECONDS);
        for (int k = 0; k < fs.size(); k++) {
          int i = t * (n / 8) + k;
          assertEquals(Term.tuple(Term.integer(i), Binary.of(("v" + i).getBytes())),
              fs.get(k).get(10, TimeUnit.SECONDS));
        }
      }
    } finally {
      pool.shutdownNow();
    }
    assertEquals(1, gw.connections.get(), "one connection");
    Set<Long> ids = new HashSet<>();
    for (ClientFrame f : gw.received) {
      if (f.getRequestCase() == ClientFrame.RequestCase.CALL) {
        assertTrue(f.getId() != 0, "ids are non-zero");
        assertTrue(ids.add(f.getId()), "id " + f.getId() + " used twice");
      }
    }
    assertEquals(n, ids.size());
  }

  @Test
  void gatewayErrorsAreTyped() throws Exception {
    ScriptedGateway gw = gateway(ScriptedGateway.STANDARD);
    BeamgateClient c = connect(config(gw.port()));
    GatewayException denied = assertThrows(GatewayException.class,
        () -> c.blocking().call("test", "fail_permission_denied", List.of()));
    assertEquals(Code.PERMISSION_DENIED, denied.code());
    assertTrue(denied.fromGateway());
    assertEquals("ops-only", denied.rule().orElseThrow());
    assertEquals("no rule allows test:fail_permission_denied/0", denied.reason().orElseThrow());
    assertTrue(denied.getMessage().startsWith("PERMISSION_DENIED: scripted PERMISSION_DENIED"),
        denied.getMessage());
    assertTrue(denied.getMessage().contains("rule ops-only"), denied.getMessage());

    GatewayException invalid = failure(c.call("test", "fail_invalid_argument", List.of()));
    assertEquals(Code.INVALID_ARGUMENT, invalid.code());
    assertEquals("args[0]{1}", invalid.path().orElseThrow());

    GatewayException badrpc = failure(c.call("nosuch", "function", List.of()));
    assertEquals(Code.BAD_RPC, badrpc.code());
    assertEquals("{badrpc, {'EXIT', {undef, [{nosuch, function, [], []}]}}}",
        badrpc.erlang().orElseThrow());
    assertTrue(badrpc.rule().isEmpty() && badrpc.path().isEmpty());

    for (String code : List.of("timeout", "unavailable", "outcome_unknown",
        "resource_exhausted", "internal", "closing", "code_unspecified")) {
      GatewayException e = failure(c.call("test", "fail_" + code, List.of()));
      Code expected = code.equals("code_unspecified") ? Code.UNKNOWN
          : Code.valueOf(code.toUpperCase());
      assertEquals(expected, e.code(), code);
      assertTrue(e.fromGateway());
    }
    assertTrue(c.isConnected(), "errors leave the connection up");
  }

  @Test
  void gatewayTextIsShownOnOneLine() throws Exception {
    ScriptedGateway gw = gateway((peer, f) -> {
      if (f.getRequestCase() == ClientFrame.RequestCase.CALL) {
        peer.error(f.getId(), io.beamgate.gateway.proto.Error.Code.BAD_RPC,
            "line one\nline two\u001b[31m\u202e", b -> b.setErlang("{badrpc,\n x}"));
      } else {
        ScriptedGateway.STANDARD.onFrame(peer, f);
      }
    });
    BeamgateClient c = connect(config(gw.port()));
    GatewayException e = failure(c.call("m", "f", List.of()));
    assertFalse(e.getMessage().contains("\n"), e.getMessage());
    assertFalse(e.getMessage().contains("\u001b"), e.getMessage());
    assertFalse(e.getMessage().contains("\u202e"), e.getMessage());
    assertEquals("{badrpc,  x}", e.erlang().orElseThrow());
  }

  @Test
  void resultsOfEveryKindIncludingOpaque() throws Exception {
    io.beamgate.gateway.proto.Term opaque = io.beamgate.gateway.proto.Term.newBuilder()
        .setOpaque(io.beamgate.gateway.proto.Opaque.newBuilder().setText("<0.91.0>")).build();
    io.beamgate.gateway.proto.Term nan = io.beamgate.gateway.proto.Term.newBuilder()
        .setFloat(Double.NaN).build();
    io.beamgate.gateway.proto.Term empty = io.beamgate.gateway.proto.Term.getDefaultInstance();
    ScriptedGateway gw = gateway((peer, f) -> {
      if (f.getRequestCase() != ClientFrame.RequestCase.CALL) {
        ScriptedGateway.STANDARD.onFrame(peer, f);
        return;
      }
      io.beamgate.gateway.proto.Term r;
      switch (f.getCall().getFunction()) {
        case "pid":
          r = io.beamgate.gateway.proto.Term.newBuilder().setTuple(
              io.beamgate.gateway.proto.TermTuple.newBuilder()
                  .addElements(io.beamgate.gateway.proto.Term.newBuilder().setAtom("ok"))
                  .addElements(opaque)).build();
          break;
        case "nan":
          r = nan;
          break;
        default:
          r = empty;
      }
      peer.send(ServerFrame.newBuilder().setId(f.getId()).setResult(r).build());
    });
    BeamgateClient c = connect(config(gw.port()));
    Term pid = c.blocking().call("m", "pid", List.of());
    assertEquals("{ok, {'$beamgate_opaque', \"<0.91.0>\"}}", TermText.format(pid));
    Term inner = ((io.beamgate.node.term.Tuple) pid).elements().get(1);
    assertEquals("<0.91.0>", BeamgateClient.opaqueText(inner).orElseThrow());
    assertTrue(BeamgateClient.opaqueText(Term.atom("x")).isEmpty());
    GatewayException e = failure(c.call("m", "nan", List.of()));
    assertEquals(Code.PROTOCOL_ERROR, e.code());
    assertTrue(e.getMessage().contains("result: float NaN"), e.getMessage());
    assertEquals(Code.PROTOCOL_ERROR, failure(c.call("m", "empty", List.of())).code());
    assertTrue(c.isConnected(), "a bad result fails its call only");
  }

  @Test
  void wrongKindOfAnswerIsProtocolErrorAndUnknownIdsAreIgnored() throws Exception {
    ScriptedGateway gw = gateway((peer, f) -> {
      if (f.getRequestCase() == ClientFrame.RequestCase.CALL) {
        peer.ok(f.getId() + 1000); // nobody asked
        peer.ok(f.getId()); // a call is answered with a result, not ok
      } else {
        ScriptedGateway.STANDARD.onFrame(peer, f);
      }
    });
    BeamgateClient c = connect(config(gw.port()));
    GatewayException e = failure(c.call("m", "f", List.of()));
    assertEquals(Code.PROTOCOL_ERROR, e.code());
    assertTrue(e.getMessage().contains("answered a call with ok"), e.getMessage());
    assertEquals(1, c.blocking().ping().protocol());
    assertEquals(1, gw.connections.get());
  }

  // ------------------------------------------------------------------ timeouts and cancels

  @Test
  void timeoutFailsTheCallAndSendsCancel() throws Exception {
    ScriptedGateway gw = gateway(ScriptedGateway.STANDARD);
    BeamgateClient c = connect(config(gw.port()));
    long start = System.nanoTime();
    GatewayException e = failure(c.call("test", "hang", List.of(), Duration.ofMillis(200)));
    long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
    assertEquals(Code.TIMEOUT, e.code());
    assertFalse(e.fromGateway());
    assertTrue(ms >= 190 && ms < 3000, ms + " ms");
    assertTrue(e.getMessage().contains("within 200 ms; cancel sent"), e.getMessage());
    ClientFrame call = nextOf(gw, ClientFrame.RequestCase.CALL);
    ClientFrame cancel = nextOf(gw, ClientFrame.RequestCase.CANCEL);
    assertNotNull(cancel, "a Cancel was sent");
    assertEquals(call.getId(), cancel.getCancel().getTarget());
    assertTrue(cancel.getId() != call.getId() && cancel.getId() != 0);
    // The gateway's late CANCELLED answer and its Ok change nothing.
    assertEquals(Term.atom("x"), c.blocking().call("test", "echo", List.of(Term.atom("x"))));
  }

  @Test
  void timedOutCallFreesItsSlotAtOnce() throws Exception {
    // A gateway that never answers cancels (or a path that drops them): the timed-out call
    // must not hold the slot, or every later call would wait and fail RESOURCE_EXHAUSTED.
    ScriptedGateway gw = gateway((peer, f) -> {
      if (f.getRequestCase() != ClientFrame.RequestCase.CANCEL) {
        ScriptedGateway.STANDARD.onFrame(peer, f);
      }
    });
    BeamgateClient c = connect(config(gw.port()).maxInFlight(1));
    assertEquals(Code.TIMEOUT,
        failure(c.call("test", "hang", List.of(), Duration.ofMillis(100))).code());
    assertEquals(Term.atom("x"), c.blocking().call("test", "echo", List.of(Term.atom("x")),
        Duration.ofSeconds(2)));
    // A cancelled call frees its slot too.
    while (gw.next(0) != null) {
      // forget the frames so far
    }
    CompletableFuture<Term> f = c.call("test", "hang", List.of());
    assertNotNull(nextOf(gw, ClientFrame.RequestCase.CALL));
    assertTrue(f.cancel(true));
    assertEquals(Term.atom("y"), c.blocking().call("test", "echo", List.of(Term.atom("y")),
        Duration.ofSeconds(2)));
  }

  @Test
  void cancellingTheFutureSendsCancel() throws Exception {
    ScriptedGateway gw = gateway(ScriptedGateway.STANDARD);
    BeamgateClient c = connect(config(gw.port()));
    CompletableFuture<Term> f = c.call("test", "hang", List.of());
    ClientFrame call = nextOf(gw, ClientFrame.RequestCase.CALL);
    assertTrue(f.cancel(true));
    ClientFrame cancel = nextOf(gw, ClientFrame.RequestCase.CANCEL);
    assertNotNull(cancel);
    assertEquals(call.getId(), cancel.getCancel().getTarget());
  }

  @Test
  void interruptingABlockingCallCancelsIt() throws Exception {
    ScriptedGateway gw = gateway(ScriptedGateway.STANDARD);
    BeamgateClient c = connect(config(gw.port()));
    CompletableFuture<GatewayException> thrown = new CompletableFuture<>();
    Thread t = new Thread(() -> {
      try {
        c.blocking().call("test", "hang", List.of());
        thrown.complete(null);
      } catch (GatewayException e) {
        thrown.complete(Thread.currentThread().isInterrupted() ? e : null);
      }
    });
    t.start();
    assertNotNull(nextOf(gw, ClientFrame.RequestCase.CALL));
    t.interrupt();
    GatewayException e = thrown.get(5, TimeUnit.SECONDS);
    assertNotNull(e, "threw, with the interrupt flag set again");
    assertEquals(Code.CANCELLED, e.code());
    assertNotNull(nextOf(gw, ClientFrame.RequestCase.CANCEL));
  }

  @Test
  void blockingOnTheClientThreadIsRefused() throws Exception {
    ScriptedGateway gw = gateway(ScriptedGateway.STANDARD);
    BeamgateClient c = connect(config(gw.port()));
    // A callback runs on the I/O thread only when the answer comes after it is attached;
    // when the pong was quicker, it runs here: try again.
    Thread test = Thread.currentThread();
    for (int attempt = 0; attempt < 100; attempt++) {
      CompletableFuture<Object[]> inCallback = new CompletableFuture<>();
      c.ping().whenComplete((p, err) -> {
        if (Thread.currentThread() == test) {
          inCallback.complete(null);
          return;
        }
        try {
          c.blocking().ping();
          inCallback.complete(new Object[] {null});
        } catch (Throwable t) {
          inCallback.complete(new Object[] {t});
        }
      });
      Object[] got = inCallback.get(5, TimeUnit.SECONDS);
      if (got != null) {
        assertTrue(got[0] instanceof IllegalStateException, String.valueOf(got[0]));
        return;
      }
    }
    throw new AssertionError("the callback never ran on the client's I/O thread");
  }

  // ------------------------------------------------------------------ limits

  @Test
  void requestsOverMaxInFlightWaitForASlot() throws Exception {
    ScriptedGateway gw = gateway(ScriptedGateway.STANDARD);
    BeamgateClient c = connect(config(gw.port()).maxInFlight(2));
    CompletableFuture<Term> a = c.call("test", "hang", List.of());
    CompletableFuture<Term> b = c.call("test", "hang", List.of());
    CompletableFuture<Term> queued = c.call("test", "echo", List.of(Term.atom("q")));
    assertNotNull(nextOf(gw, ClientFrame.RequestCase.CALL));
    assertNotNull(nextOf(gw, ClientFrame.RequestCase.CALL));
    assertNull(gw.next(200), "the third waits");
    assertFalse(queued.isDone());
    a.cancel(false); // the gateway answers CANCELLED and Ok: a slot frees
    assertEquals(Term.atom("q"), queued.get(5, TimeUnit.SECONDS));
    assertFalse(b.isDone());
  }

  @Test
  void queueIsBounded() throws Exception {
    ScriptedGateway gw = gateway(ScriptedGateway.STANDARD);
    BeamgateClient c = connect(config(gw.port()).maxInFlight(1).maxQueued(1));
    c.call("test", "hang", List.of());
    c.call("test", "hang", List.of());
    GatewayException e = failure(c.call("test", "hang", List.of()));
    assertEquals(Code.RESOURCE_EXHAUSTED, e.code());
    assertTrue(e.getMessage().contains("maxQueued"), e.getMessage());
  }

  @Test
  void requestOverMaxFrameFailsWithoutBeingSent() throws Exception {
    ScriptedGateway gw = gateway(ScriptedGateway.STANDARD);
    BeamgateClient c = connect(config(gw.port()).maxFrameBytes(1024));
    gw.received.clear();
    GatewayException e = failure(c.call("test", "echo", List.of(Binary.of(new byte[2000]))));
    assertEquals(Code.FRAME_TOO_LARGE, e.code());
    assertTrue(e.getMessage().contains("expected: <= 1024"), e.getMessage());
    assertEquals(Term.atom("small"),
        c.blocking().call("test", "echo", List.of(Term.atom("small"))));
    assertEquals(1, gw.received.size(), "only the small call was sent");
    assertEquals(1, gw.connections.get());
  }

  @Test
  void argumentsTooDeepAreRefusedBeforeSending() throws Exception {
    ScriptedGateway gw = gateway(ScriptedGateway.STANDARD);
    BeamgateClient c = connect(config(gw.port()));
    Term deep = Term.atom("x");
    for (int i = 0; i < 60; i++) {
      deep = Term.tuple(deep);
    }
    GatewayException e = failure(c.call("test", "echo", List.of(Term.atom("a"), deep)));
    assertEquals(Code.INVALID_ARGUMENT, e.code());
    assertEquals("args[1]", e.path().orElseThrow());
  }

  @Test
  void oversizedAnswerClosesTheConnectionCleanly() throws Exception {
    ScriptedGateway gw = gateway(ScriptedGateway.STANDARD);
    BeamgateClient c = connect(config(gw.port()).maxFrameBytes(1024));
    CompletableFuture<Term> bystander = c.call("test", "hang", List.of());
    assertNotNull(nextOf(gw, ClientFrame.RequestCase.CALL));
    GatewayException e = failure(c.call("test", "big", List.of(Term.integer(4000))));
    assertEquals(Code.FRAME_TOO_LARGE, e.code());
    assertFalse(e.fromGateway());
    assertTrue(e.getMessage().contains("(expected: <= 1024)"), e.getMessage());
    assertEquals(Code.FRAME_TOO_LARGE, failure(bystander).code());
    // The client reconnects; answers within the limit work.
    assertEquals(Term.integer(7), c.blocking().call("test", "echo",
        List.of(Term.integer(7))));
    assertEquals(2, gw.connections.get());
  }

  @Test
  void garbageFromTheGatewayIsProtocolError() throws Exception {
    ScriptedGateway gw = gateway(ScriptedGateway.STANDARD);
    BeamgateClient c = connect(config(gw.port()));
    GatewayException e = failure(c.call("test", "garbage", List.of()));
    assertEquals(Code.PROTOCOL_ERROR, e.code());
    assertTrue(e.getMessage().contains("does not parse"), e.getMessage());
    assertEquals(Term.integer(1), c.blocking().call("test", "echo", List.of(Term.integer(1))));
  }

  // ------------------------------------------------------------------ connections

  @Test
  void droppedConnectionFailsInFlightRequestsAndReconnects() throws Exception {
    ScriptedGateway gw = gateway(ScriptedGateway.STANDARD);
    BeamgateClient c = connect(config(gw.port()));
    CompletableFuture<Term> hanging = c.call("test", "hang", List.of());
    assertNotNull(nextOf(gw, ClientFrame.RequestCase.CALL));
    long start = System.nanoTime();
    GatewayException dropped = failure(c.call("test", "drop", List.of()));
    GatewayException other = failure(hanging);
    assertTrue(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start) < 2000,
        "failed at once, not at the 5 s timeout");
    assertEquals(Code.OUTCOME_UNKNOWN, dropped.code());
    assertEquals(Code.OUTCOME_UNKNOWN, other.code());
    assertTrue(other.getMessage().contains("may or may not have run"), other.getMessage());
    assertEquals(Term.atom("back"), c.blocking().call("test", "echo",
        List.of(Term.atom("back"))));
    assertEquals(2, gw.connections.get());
  }

  @Test
  void pingInFlightWhenTheConnectionDropsIsConnectionError() throws Exception {
    ScriptedGateway gw = gateway((peer, f) -> {
      if (f.getRequestCase() == ClientFrame.RequestCase.PING && f.getId() > 1) {
        peer.close(); // the first ping is connect()'s
      } else {
        ScriptedGateway.STANDARD.onFrame(peer, f);
      }
    });
    BeamgateClient c = connect(config(gw.port()));
    assertEquals(Code.CONNECTION, failure(c.ping()).code());
  }

  @Test
  void gatewayClosingWithIdZeroFailsInFlightWithItsCode() throws Exception {
    ScriptedGateway gw = gateway(ScriptedGateway.STANDARD);
    BeamgateClient c = connect(config(gw.port()));
    CompletableFuture<Term> hanging = c.call("test", "hang", List.of());
    assertNotNull(nextOf(gw, ClientFrame.RequestCase.CALL));
    c.call("test", "shutdown", List.of());
    GatewayException e = failure(hanging);
    assertEquals(Code.CLOSING, e.code());
    assertTrue(e.fromGateway());
    assertTrue(e.getMessage().contains("shutting down"), e.getMessage());
  }

  @Test
  void requestsWhileDisconnectedWaitForTheNextConnection() throws Exception {
    int port = freePort();
    BeamgateClient c = start(config(port));
    CompletableFuture<Term> waiting = c.call("test", "echo", List.of(Term.atom("late")),
        Duration.ofSeconds(5));
    Thread.sleep(300);
    assertFalse(waiting.isDone());
    ScriptedGateway gw = ScriptedGateway.start(pki.serverCert, pki.serverKey, pki, port,
        ScriptedGateway.STANDARD);
    toClose.add(gw);
    assertEquals(Term.atom("late"), waiting.get(5, TimeUnit.SECONDS));
  }

  @Test
  void requestsWhileDisconnectedTimeOutWithTheConnectionError() throws Exception {
    BeamgateClient c = start(config(freePort()));
    GatewayException e = failure(c.call("test", "echo", List.of(Term.atom("x")),
        Duration.ofMillis(300)));
    assertEquals(Code.CONNECTION, e.code(), "never sent: not a TIMEOUT");
    assertTrue(e.getMessage().contains("not sent within 300 ms"), e.getMessage());
    assertTrue(e.getMessage().contains("connection refused"), e.getMessage());
  }

  @Test
  void failFastWhileDisconnected() throws Exception {
    BeamgateClient c = start(config(freePort()).waitForConnection(false));
    long start = System.nanoTime();
    GatewayException e = failure(c.call("test", "echo", List.of(Term.atom("x")),
        Duration.ofSeconds(5)));
    assertEquals(Code.CONNECTION, e.code());
    assertTrue(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start) < 2000);
  }

  @Test
  void unreachableGatewayIsConnectionError() throws Exception {
    int port = freePort();
    GatewayException e = assertThrows(GatewayException.class, () -> connect(config(port)));
    assertEquals(Code.CONNECTION, e.code());
    assertTrue(e.getMessage().contains("127.0.0.1:" + port), e.getMessage());
  }

  @Test
  void reconnectsWithBackoff() throws Exception {
    // A server that accepts and at once closes: every attempt fails in the handshake.
    List<Long> accepts = Collections.synchronizedList(new ArrayList<>());
    try (ServerSocket ss = new ServerSocket(0, 50,
        java.net.InetAddress.getByName("127.0.0.1"))) {
      Thread acceptor = new Thread(() -> {
        while (!ss.isClosed()) {
          try {
            ss.accept().close();
            accepts.add(System.nanoTime());
          } catch (java.io.IOException e) {
            return;
          }
        }
      });
      acceptor.start();
      BeamgateClient c = start(config(ss.getLocalPort())
          .reconnectBackoff(Duration.ofMillis(50), Duration.ofMillis(200)));
      Thread.sleep(1500);
      c.close();
    }
    int n = accepts.size();
    // Waits: [25,50], [50,100], then [100,200] each: 9..16 attempts in 1.5 s, not hundreds.
    assertTrue(n >= 5 && n <= 25, n + " attempts");
    for (int i = 3; i < n; i++) {
      long gap = TimeUnit.NANOSECONDS.toMillis(accepts.get(i) - accepts.get(i - 1));
      assertTrue(gap >= 90 && gap <= 600, "gap " + i + ": " + gap + " ms");
    }
  }

  @Test
  void closeFailsEverythingWithClosed() throws Exception {
    ScriptedGateway gw = gateway(ScriptedGateway.STANDARD);
    BeamgateClient c = connect(config(gw.port()));
    CompletableFuture<Term> hanging = c.call("test", "hang", List.of());
    assertNotNull(nextOf(gw, ClientFrame.RequestCase.CALL));
    c.close();
    assertEquals(Code.CLOSED, failure(hanging).code());
    assertEquals(Code.CLOSED, failure(c.ping()).code());
    c.close(); // idempotent
    assertFalse(c.isConnected());
  }

  // ------------------------------------------------------------------ TLS

  @Test
  void untrustedGatewayIsTlsError() throws Exception {
    ScriptedGateway gw = gateway(ScriptedGateway.STANDARD);
    GatewayException e = assertThrows(GatewayException.class, () -> connect(config(gw.port())
        .tls(pki.clientCert, pki.clientKey, pki.foreignCa)));
    assertEquals(Code.TLS, e.code());
    assertEquals(0, gw.connections.get());
  }

  @Test
  void gatewayCertificateForAnotherHostIsTlsError() throws Exception {
    ScriptedGateway gw = ScriptedGateway.start(pki.otherHostCert, pki.otherHostKey, pki, 0,
        ScriptedGateway.STANDARD);
    toClose.add(gw);
    GatewayException e = assertThrows(GatewayException.class, () -> connect(config(gw.port())));
    assertEquals(Code.TLS, e.code());
  }

  @Test
  void clientCertificateRefusedByTheGatewayIsTlsError() throws Exception {
    ScriptedGateway gw = gateway(ScriptedGateway.STANDARD);
    GatewayException e = assertThrows(GatewayException.class, () -> connect(config(gw.port())
        .tls(pki.foreignClientCert, pki.foreignClientKey, pki.ca)));
    assertEquals(Code.TLS, e.code());
    assertTrue(e.getMessage().contains("refused"), e.getMessage());
  }

  /** The TLS outcomes above, on each TLS implementation the client can be told to use. */
  @ParameterizedTest
  @EnumSource(value = ClientConfig.TlsProvider.class, names = {"JDK", "OPENSSL"})
  void tlsOutcomesOnEachProvider(ClientConfig.TlsProvider provider) throws Exception {
    ScriptedGateway gw = gateway(ScriptedGateway.STANDARD);
    BeamgateClient ok = connect(config(gw.port()).tlsProvider(provider));
    assertEquals(TestPki.CLIENT_URI, ok.blocking().ping().principal());
    assertEquals(Code.TLS, assertThrows(GatewayException.class, () -> connect(
        config(gw.port()).tlsProvider(provider).tls(pki.clientCert, pki.clientKey,
            pki.foreignCa))).code(), "untrusted gateway");
    assertEquals(Code.TLS, assertThrows(GatewayException.class, () -> connect(
        config(gw.port()).tlsProvider(provider).tls(pki.foreignClientCert,
            pki.foreignClientKey, pki.ca))).code(), "refused client");
    ScriptedGateway other = ScriptedGateway.start(pki.otherHostCert, pki.otherHostKey, pki, 0,
        ScriptedGateway.STANDARD);
    toClose.add(other);
    assertEquals(Code.TLS, assertThrows(GatewayException.class, () -> connect(
        config(other.port()).tlsProvider(provider))).code(), "certificate for another host");
  }

  @Test
  void unusableTlsFilesAreTlsError() {
    GatewayException e = assertThrows(GatewayException.class, () -> start(config(1)
        .tls(pki.clientCert, dir.resolve("missing.key"), pki.ca)));
    assertEquals(Code.TLS, e.code());
  }

  @Test
  void configIsValidated() {
    assertThrows(IllegalArgumentException.class, () -> config(0).build());
    assertThrows(IllegalArgumentException.class,
        () -> config(1).reconnectBackoff(Duration.ofSeconds(2), Duration.ofSeconds(1)).build());
    assertThrows(IllegalArgumentException.class, () -> config(1).maxFrameBytes(10).build());
    assertThrows(IllegalArgumentException.class,
        () -> config(1).callTimeout(Duration.ZERO).build());
    assertThrows(NullPointerException.class, () -> ClientConfig.builder().gateway("h:1")
        .build());
    ClientConfig v6 = config(1).gateway("[::1]:9443").build();
    assertEquals("::1", v6.host());
    assertEquals(9443, v6.port());
    for (String bad : List.of("h", "h:", ":1", "h:0", "h:x", "::1:9443", "h:70000")) {
      assertThrows(IllegalArgumentException.class, () -> config(1).gateway(bad), bad);
    }
  }

  static int freePort() throws Exception {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }
}
