package io.beamgate.client;

import io.beamgate.client.GatewayException.Code;
import io.beamgate.gateway.proto.Call;
import io.beamgate.gateway.proto.Cast;
import io.beamgate.gateway.proto.ClientFrame;
import io.beamgate.gateway.proto.Ping;
import io.beamgate.gateway.proto.Send;
import io.beamgate.gateway.proto.ServerFrame;
import io.beamgate.gateway.protocol.TermProto;
import io.beamgate.node.term.ErlList;
import io.beamgate.node.term.Int;
import io.beamgate.node.term.Term;
import io.beamgate.node.term.Tuple;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * A client of a beamgate gateway (protocol {@code beamgate.v1}): calls, casts and sends to the
 * BEAM cluster behind it, over one mutually authenticated TLS connection.
 *
 * <pre>{@code
 * ClientConfig config = ClientConfig.builder().gateway("gw.example:9443")
 *     .tls(Path.of("client.pem"), Path.of("client.key"), Path.of("ca.pem")).build();
 * try (BeamgateClient client = BeamgateClient.connect(config)) {
 *   Term r = client.blocking().call("lists", "reverse", List.of(Term.list(Term.integer(1))));
 *   client.call("erlang", "node", List.of()).thenAccept(System.out::println);
 * }
 * }</pre>
 *
 * <p><b>Concurrency.</b> Thread-safe. Many requests are in flight at once on the one
 * connection (up to {@link ClientConfig#maxInFlight()}; more wait in a queue), each with its
 * own id, answered in any order.
 *
 * <p><b>Futures.</b> Each request returns a {@link CompletableFuture} that always completes:
 * with the answer, or exceptionally with a {@link GatewayException}. They complete on the
 * client's I/O thread: keep dependent stages short, or use the {@code *Async} variants; never
 * block in them ({@link #blocking()} refuses to run on that thread). Cancelling a future sends
 * a Cancel to the gateway.
 *
 * <p><b>Timeouts.</b> Every request has a timeout (its own, or
 * {@link ClientConfig#callTimeout()}), counted from the moment it is made. A call also tells
 * the gateway the time it has left. When the timeout passes with the request sent, its future
 * fails with {@link Code#TIMEOUT} and a Cancel is sent; unsent, it fails with why it was not
 * sent (see below).
 *
 * <p><b>Connection.</b> The client connects in the background and reconnects whenever the
 * connection drops, waiting {@link ClientConfig#reconnectMin()} doubling up to
 * {@link ClientConfig#reconnectMax()}, randomised. Requests in flight when it drops fail at
 * once: calls, casts and sends with {@link Code#OUTCOME_UNKNOWN} (they may have run), pings
 * with {@link Code#CONNECTION}; or with the reason the gateway gave for closing (for example
 * {@link Code#CLOSING}), or {@link Code#TLS} when the gateway refused the TLS session.
 * Requests made while disconnected wait for the next connection up to their timeout, then
 * fail with the last connection failure's code ({@link Code#CONNECTION} or {@link Code#TLS});
 * with {@code waitForConnection(false)} they fail with it at once.
 *
 * <p><b>Several gateways.</b> Given several gateway addresses
 * ({@link ClientConfig.Builder#gateways}), or a host name standing for several
 * ({@link ClientConfig.Builder#everyAddress}), the client keeps a connection to each and
 * spreads requests round robin over those that are up. A request that failed on one gateway
 * goes to another only when it cannot run twice: when it was never executed (CONNECTION,
 * TLS, UNAVAILABLE, CLOSING), or, when its outcome is unknown, if it is a ping or an
 * {@linkplain #callIdempotent idempotent call}. Any other call, cast or send lost in flight
 * fails with {@link Code#OUTCOME_UNKNOWN}, exactly once, as with one gateway.
 *
 * <p><b>Terms.</b> Arguments are node terms; pids, references, ports and funs are refused by
 * the gateway. Results are node terms, except that a pid, reference, port or fun comes back
 * as {@code {'$beamgate_opaque', "Text"}} ({@link #opaqueText}), as the gateway sends only
 * its printed text.
 */
public final class BeamgateClient implements AutoCloseable {
  private final ClientConfig config;
  private final Failover transport;
  private final Blocking blocking = new Blocking();

  private BeamgateClient(ClientConfig config, Failover transport) {
    this.config = config;
    this.transport = transport;
  }

  /**
   * A client that connects in the background; requests made before it is connected wait for
   * the connection (up to their timeouts).
   *
   * @throws GatewayException TLS: the certificate, key or CA files cannot be used
   */
  public static BeamgateClient start(ClientConfig config) throws GatewayException {
    Failover t = Failover.create(Objects.requireNonNull(config, "config"));
    t.start();
    return new BeamgateClient(config, t);
  }

  /**
   * A client whose first connection is up and accepted: connects, then pings, so that a
   * gateway refusing this client's certificate (which TLS 1.3 reports only after the
   * handshake) fails here. Later drops are reconnected as with {@link #start}.
   *
   * @throws GatewayException CONNECTION or TLS when the first attempt fails (the client is
   *     then closed); the ping's error otherwise
   */
  public static BeamgateClient connect(ClientConfig config) throws GatewayException {
    BeamgateClient client = start(config);
    try {
      long waitMs = 2 * config.connectTimeout().toMillis() + 1000;
      try {
        client.transport.firstConnection().get(waitMs, TimeUnit.MILLISECONDS);
      } catch (TimeoutException e) {
        throw GatewayException.local(Code.CONNECTION, "not connected to the gateway "
            + client.transport.address() + " within " + waitMs + " ms");
      } catch (ExecutionException e) {
        throw unwrap(e.getCause());
      }
      client.blocking.ping(config.connectTimeout());
      return client;
    } catch (GatewayException | RuntimeException e) {
      client.close();
      throw e;
    } catch (InterruptedException e) {
      client.close();
      Thread.currentThread().interrupt();
      throw GatewayException.local(Code.CANCELLED, "interrupted while connecting");
    }
  }

  public ClientConfig config() {
    return config;
  }

  /** Whether a connection (to any of its gateways) is up now (it may drop at any moment). */
  public boolean isConnected() {
    return transport.isConnected();
  }

  /** How many of its gateways' connections are up now. */
  public int connectedGateways() {
    return transport.connectedCount();
  }

  /** {@code module:function(args...)} on a backend node, with the default timeout. */
  public CompletableFuture<Term> call(String module, String function,
      List<? extends Term> args) {
    return call(module, function, args, config.callTimeout());
  }

  /**
   * {@code module:function(args...)} on a backend node: its return value, or a
   * {@link GatewayException} ({@link Code#BAD_RPC} when it raised or does not exist).
   */
  public CompletableFuture<Term> call(String module, String function,
      List<? extends Term> args, Duration timeout) {
    return call(module, function, args, timeout, false);
  }

  /** An idempotent call (see below) with the default timeout. */
  public CompletableFuture<Term> callIdempotent(String module, String function,
      List<? extends Term> args) {
    return callIdempotent(module, function, args, config.callTimeout());
  }

  /**
   * A call that may run twice: when its outcome is unknown (its gateway died or went silent
   * with it in flight), it is run again on another gateway, within its timeout. The gateway
   * admits it only under a policy rule marked {@code idempotent: true}: otherwise it fails
   * with {@link Code#PERMISSION_DENIED} before it runs, so what is retried is what the
   * policy's author said may run twice.
   */
  public CompletableFuture<Term> callIdempotent(String module, String function,
      List<? extends Term> args, Duration timeout) {
    return call(module, function, args, timeout, true);
  }

  private CompletableFuture<Term> call(String module, String function,
      List<? extends Term> args, Duration timeout, boolean idempotent) {
    Call.Builder c = Call.newBuilder().setModule(Objects.requireNonNull(module, "module"))
        .setFunction(Objects.requireNonNull(function, "function")).setIdempotent(idempotent);
    try {
      addArgs(args, c::addArgs);
    } catch (GatewayException e) {
      return CompletableFuture.failedFuture(e);
    }
    return transport.submit(Transport.Kind.CALL, ClientFrame.newBuilder().setCall(c).build(),
        timeout, BeamgateClient::result, idempotent);
  }

  /** {@code module:function(args...)} without waiting for it to run, default timeout. */
  public CompletableFuture<Void> cast(String module, String function,
      List<? extends Term> args) {
    return cast(module, function, args, config.callTimeout());
  }

  /**
   * {@code module:function(args...)} on a backend node without waiting for it to run
   * (erpc:cast); completes once the gateway has passed it to the cluster.
   */
  public CompletableFuture<Void> cast(String module, String function,
      List<? extends Term> args, Duration timeout) {
    Cast.Builder c = Cast.newBuilder().setModule(Objects.requireNonNull(module, "module"))
        .setFunction(Objects.requireNonNull(function, "function"));
    try {
      addArgs(args, c::addArgs);
    } catch (GatewayException e) {
      return CompletableFuture.failedFuture(e);
    }
    return transport.submit(Transport.Kind.CAST, ClientFrame.newBuilder().setCast(c).build(),
        timeout, BeamgateClient::ok, false);
  }

  /** Sends {@code message} to the process registered as {@code name}, default timeout. */
  public CompletableFuture<Void> send(String name, Term message) {
    return send(name, message, config.callTimeout());
  }

  /**
   * Sends {@code message} to the process registered as {@code name} on a backend node;
   * completes once the gateway has passed it to the cluster (Erlang never acknowledges sends).
   */
  public CompletableFuture<Void> send(String name, Term message, Duration timeout) {
    io.beamgate.gateway.proto.Term m;
    try {
      m = toProto(Objects.requireNonNull(message, "message"), "message");
    } catch (GatewayException e) {
      return CompletableFuture.failedFuture(e);
    }
    Send s = Send.newBuilder().setName(Objects.requireNonNull(name, "name")).setMessage(m)
        .build();
    return transport.submit(Transport.Kind.SEND, ClientFrame.newBuilder().setSend(s).build(),
        timeout, BeamgateClient::ok, false);
  }

  /** Pings the gateway, default timeout. */
  public CompletableFuture<Pong> ping() {
    return ping(config.callTimeout());
  }

  /** Pings the gateway: its protocol and version, and who it thinks this client is. */
  public CompletableFuture<Pong> ping(Duration timeout) {
    return transport.submit(Transport.Kind.PING,
        ClientFrame.newBuilder().setPing(Ping.getDefaultInstance()).build(), timeout,
        BeamgateClient::pong, true);
  }

  /** The same requests, waiting for their answers. */
  public Blocking blocking() {
    return blocking;
  }

  /**
   * Closes the connection and stops the client's thread. Requests not yet answered fail with
   * {@link Code#CLOSED}. Idempotent.
   */
  @Override
  public void close() {
    transport.close();
  }

  /**
   * The printed text of a pid, reference, port or fun in a result (which arrives as
   * {@code {'$beamgate_opaque', "Text"}}), or empty for any other term.
   */
  public static Optional<String> opaqueText(Term t) {
    if (t instanceof Tuple tu && tu.elements().size() == 2
        && tu.elements().get(0).equals(ResultTerms.OPAQUE_TAG)
        && tu.elements().get(1) instanceof ErlList l && l.isProper()) {
      StringBuilder sb = new StringBuilder();
      for (Term e : l.elements()) {
        if (!(e instanceof Int i) || i.value() < 0 || i.value() > Character.MAX_CODE_POINT) {
          return Optional.empty();
        }
        sb.appendCodePoint((int) i.value());
      }
      return Optional.of(sb.toString());
    }
    return Optional.empty();
  }

  // ------------------------------------------------------------------ terms and answers

  private interface ArgSink {
    void add(io.beamgate.gateway.proto.Term t);
  }

  private static void addArgs(List<? extends Term> args, ArgSink sink) throws GatewayException {
    Objects.requireNonNull(args, "args");
    for (int i = 0; i < args.size(); i++) {
      sink.add(toProto(Objects.requireNonNull(args.get(i), "args[" + i + "]"),
          "args[" + i + "]"));
    }
  }

  private static io.beamgate.gateway.proto.Term toProto(Term t, String path)
      throws GatewayException {
    try {
      return TermProto.toProto(t, TermProto.DEFAULT_MAX_DEPTH);
    } catch (TermProto.TooDeep e) {
      throw GatewayException.invalidArgument(path, e.getMessage() + " (the gateway's limit)");
    }
  }

  private static Term result(ServerFrame f) throws GatewayException {
    if (!f.hasResult()) {
      throw unexpected("call", f);
    }
    try {
      return ResultTerms.fromProto(f.getResult(), "result");
    } catch (ResultTerms.Invalid e) {
      throw GatewayException.local(Code.PROTOCOL_ERROR, "the gateway sent a result that is"
          + " not a valid term: " + e.getMessage());
    } catch (IllegalArgumentException e) {
      throw GatewayException.local(Code.PROTOCOL_ERROR, "the gateway sent a result that is"
          + " not a valid term: " + e.getMessage());
    }
  }

  private static Void ok(ServerFrame f) throws GatewayException {
    if (!f.hasOk()) {
      throw unexpected("request", f);
    }
    return null;
  }

  private static Pong pong(ServerFrame f) throws GatewayException {
    if (!f.hasPong()) {
      throw unexpected("ping", f);
    }
    return new Pong(f.getPong().getProtocol(), GatewayException.oneLine(f.getPong().getServer()),
        GatewayException.oneLine(f.getPong().getPrincipal()));
  }

  private static GatewayException unexpected(String what, ServerFrame f) {
    String got = f.getResponseCase() == ServerFrame.ResponseCase.RESPONSE_NOT_SET
        ? "no response this client knows" : f.getResponseCase().name().toLowerCase();
    return GatewayException.local(Code.PROTOCOL_ERROR, "the gateway answered a " + what
        + " with " + got);
  }

  private static GatewayException unwrap(Throwable t) {
    if (t instanceof GatewayException g) {
      return g;
    }
    if (t instanceof CancellationException) {
      return GatewayException.local(Code.CANCELLED, "the request was cancelled");
    }
    return GatewayException.local(Code.INTERNAL, "unexpected failure in the client: " + t, t);
  }

  /**
   * The client's requests, waiting for the answer: each returns the result or throws the
   * {@link GatewayException}. Interrupting the waiting thread cancels the request (a Cancel
   * is sent) and throws {@link Code#CANCELLED} with the interrupt flag set again.
   */
  public final class Blocking {
    private Blocking() {}

    public Term call(String module, String function, List<? extends Term> args)
        throws GatewayException {
      return await(BeamgateClient.this.call(module, function, args));
    }

    public Term call(String module, String function, List<? extends Term> args,
        Duration timeout) throws GatewayException {
      return await(BeamgateClient.this.call(module, function, args, timeout));
    }

    public void cast(String module, String function, List<? extends Term> args)
        throws GatewayException {
      await(BeamgateClient.this.cast(module, function, args));
    }

    public void cast(String module, String function, List<? extends Term> args,
        Duration timeout) throws GatewayException {
      await(BeamgateClient.this.cast(module, function, args, timeout));
    }

    public void send(String name, Term message) throws GatewayException {
      await(BeamgateClient.this.send(name, message));
    }

    public void send(String name, Term message, Duration timeout) throws GatewayException {
      await(BeamgateClient.this.send(name, message, timeout));
    }

    public Term callIdempotent(String module, String function, List<? extends Term> args)
        throws GatewayException {
      return await(BeamgateClient.this.callIdempotent(module, function, args));
    }

    public Term callIdempotent(String module, String function, List<? extends Term> args,
        Duration timeout) throws GatewayException {
      return await(BeamgateClient.this.callIdempotent(module, function, args, timeout));
    }

    public Pong ping() throws GatewayException {
      return await(BeamgateClient.this.ping());
    }

    public Pong ping(Duration timeout) throws GatewayException {
      return await(BeamgateClient.this.ping(timeout));
    }

    private <T> T await(CompletableFuture<T> f) throws GatewayException {
      if (transport.inLoop()) {
        f.cancel(false);
        throw new IllegalStateException("a blocking request on the client's I/O thread would"
            + " never complete; use the asynchronous API in future callbacks");
      }
      try {
        return f.get();
      } catch (ExecutionException e) {
        throw unwrap(e.getCause());
      } catch (CancellationException e) {
        throw unwrap(e);
      } catch (InterruptedException e) {
        f.cancel(false);
        Thread.currentThread().interrupt();
        throw GatewayException.local(Code.CANCELLED, "interrupted while waiting for the"
            + " gateway; the request was cancelled");
      }
    }
  }
}
