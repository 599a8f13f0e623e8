package io.beamgate.client;

import io.beamgate.client.GatewayException.Code;
import io.beamgate.gateway.proto.ClientFrame;
import io.netty.handler.ssl.SslContext;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The client's gateways: one {@link Transport} (connection) to each, requests spread round
 * robin over those that are up, and a failed request sent again to another gateway when, and
 * only when, that cannot run it twice:
 *
 * <ul>
 *   <li>it was never executed: not sent (CONNECTION: not connected or lost before it was
 *       written; TLS: the session was refused), or refused before it ran (UNAVAILABLE: that
 *       gateway has no backend up; CLOSING: that gateway was shutting down and never started
 *       it);
 *   <li>or its outcome is unknown (OUTCOME_UNKNOWN: lost in flight, a gateway killed or
 *       silent past the keepalive) and it is a ping or a call declared idempotent, which the
 *       gateway admits only under a rule marked {@code idempotent: true}.
 * </ul>
 *
 * Any other call, cast or send whose outcome is unknown fails with OUTCOME_UNKNOWN, as with one
 * gateway; a timeout is never retried (the time is spent). A request is tried on at most
 * {@link ClientConfig#maxAttempts()} gateways within its own timeout. A dead gateway is seen
 * by its connection: a reset, or the keepalive ({@link ClientConfig#keepaliveTimeout()}); it
 * gets no new requests until it is reconnected. Internal.
 */
final class Failover {
  private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(Failover.class);
  private final ClientConfig config;
  private final SslContext ssl;
  /** Changes only with everyAddress, when a lookup at a reconnect lists other addresses. */
  private volatile List<Transport> transports;
  /** Transports closed because their address left the name's records (never sent anything). */
  private final java.util.Set<Transport> retired =
      java.util.concurrent.ConcurrentHashMap.newKeySet();
  private boolean closed; // guarded by this
  private final AtomicInteger next = new AtomicInteger();
  private final CompletableFuture<Void> firstConnection = new CompletableFuture<>();

  private Failover(ClientConfig config, SslContext ssl) {
    this.config = config;
    this.ssl = ssl;
    this.next.set(java.util.concurrent.ThreadLocalRandom.current().nextInt(1 << 16));
  }

  /** One transport per gateway (per address of each, with everyAddress); none started yet. */
  static Failover create(ClientConfig config) throws GatewayException {
    List<ClientConfig.Gateway> gs = config.gateways();
    if (gs.size() == 1 && !config.everyAddress()) {
      Failover f = new Failover(config, null);
      f.transports = List.of(new Transport(config)); // as before: one connection
      return f;
    }
    SslContext ssl = ClientTls.context(config);
    Failover f = new Failover(config, ssl);
    List<Transport> ts = new ArrayList<>();
    for (ClientConfig.Gateway g : gs) {
      if (!config.everyAddress()) {
        ts.add(new Transport(config, g.host(), g.port(), null, false, ssl));
        continue;
      }
      InetAddress[] all;
      try {
        all = config.resolver().resolve(g.host());
      } catch (UnknownHostException e) {
        throw GatewayException.local(Code.CONNECTION, "cannot resolve the gateway " + g + ": "
            + e.getMessage() + " (expected: a host name with at least one address)", e);
      }
      if (all == null || all.length == 0) {
        throw GatewayException.local(Code.CONNECTION, "cannot resolve the gateway " + g
            + ": no address (expected: a host name with at least one address)");
      }
      for (InetAddress a : new java.util.LinkedHashSet<>(List.of(all))) {
        ts.add(f.pinned(g, a));
      }
    }
    f.transports = List.copyOf(ts);
    return f;
  }

  /** A transport to one address of {@code g}'s name, which looks the name up at reconnects. */
  private Transport pinned(ClientConfig.Gateway g, InetAddress a) {
    Transport t = new Transport(config, g.host(), g.port(), a, false, ssl);
    t.beforeRedial(() -> stillListed(g, t));
    return t;
  }

  /**
   * Before {@code t} (one of {@code g}'s addresses) dials again: looks the name up now, starts
   * a transport for each address not dialled yet, and says whether {@code t}'s address is
   * still listed (false: {@code t} closes and is dropped). A lookup that fails or lists nothing
   * keeps what is known: a DNS outage is not a gateway leaving. Runs on {@code t}'s loop.
   */
  private boolean stillListed(ClientConfig.Gateway g, Transport t) {
    java.util.Set<InetAddress> listed;
    try {
      InetAddress[] now = config.resolver().resolve(g.host());
      if (now == null || now.length == 0) {
        return true;
      }
      listed = new java.util.LinkedHashSet<>(List.of(now));
    } catch (UnknownHostException | RuntimeException e) {
      log.debug("cannot look {} up again ({}); keeping its known addresses", g, e.toString());
      return true;
    }
    List<Transport> added = new ArrayList<>();
    boolean keep = listed.contains(t.dial());
    synchronized (this) {
      if (closed) {
        return true; // the transport is being closed anyway
      }
      List<Transport> now = new ArrayList<>(transports);
      java.util.Set<InetAddress> dialled = new java.util.HashSet<>();
      for (Transport o : now) {
        if (o.host().equals(g.host()) && o.port() == g.port()) {
          dialled.add(o.dial());
        }
      }
      for (InetAddress a : listed) {
        if (!dialled.contains(a)) {
          Transport n = pinned(g, a);
          now.add(n);
          added.add(n);
        }
      }
      if (!keep) {
        now.remove(t);
        retired.add(t);
      }
      transports = List.copyOf(now);
    }
    if (!added.isEmpty() || !keep) {
      log.info("{} now lists {}: {}", g, listed, keep ? "connecting to the new addresses"
          : "dropping " + t.address() + (added.isEmpty() ? "" : ", connecting to the new"));
    }
    for (Transport n : added) {
      n.start();
    }
    return keep;
  }

  void start() {
    AtomicInteger failed = new AtomicInteger();
    List<Transport> transports = this.transports;
    for (Transport t : transports) {
      t.firstConnection().whenComplete((v, e) -> {
        if (e == null) {
          firstConnection.complete(null);
        } else if (failed.incrementAndGet() == transports.size()) {
          firstConnection.completeExceptionally(e instanceof CompletionException
              && e.getCause() != null ? e.getCause() : e);
        }
      });
      t.start();
    }
  }

  /** Completes when the first connection to any gateway is up; fails when every first fails. */
  CompletableFuture<Void> firstConnection() {
    return firstConnection;
  }

  String address() {
    List<Transport> transports = this.transports;
    return transports.size() == 1 ? transports.get(0).address()
        : transports.stream().map(Transport::address)
            .collect(java.util.stream.Collectors.joining(", "));
  }

  boolean isConnected() {
    return transports.stream().anyMatch(Transport::isConnected);
  }

  /** How many gateways (connections) are up now. */
  int connectedCount() {
    return (int) transports.stream().filter(Transport::isConnected).count();
  }

  boolean inLoop() {
    return transports.stream().anyMatch(Transport::inLoop);
  }

  void close() {
    synchronized (this) {
      closed = true;
    }
    for (Transport t : transports) {
      t.close();
    }
  }

  /**
   * Sends {@code body} to one gateway, and again to another when the failure allows it (see
   * the class comment); {@code retrySafe}: the request may run twice (a ping, an idempotent
   * call).
   */
  <T> CompletableFuture<T> submit(Transport.Kind kind, ClientFrame body, Duration timeout,
      Transport.Decoder<T> decoder, boolean retrySafe) {
    List<Transport> ts = transports;
    if (ts.size() == 1 && !config.everyAddress()) {
      return ts.get(0).submit(kind, body, timeout, decoder);
    }
    java.util.Objects.requireNonNull(timeout, "timeout");
    if (timeout.isNegative() || timeout.isZero()) {
      throw new IllegalArgumentException("timeout: " + timeout + " (expected: > 0)");
    }
    Attempts<T> a = new Attempts<>(kind, body, decoder, retrySafe,
        System.nanoTime() + Math.min(timeout.toNanos(), Long.MAX_VALUE / 4));
    a.attempt();
    return a.result;
  }

  /** Whether a request that failed with {@code e} may go to another gateway. */
  static boolean retryable(GatewayException e, boolean retrySafe) {
    return switch (e.code()) {
      case CONNECTION, TLS, UNAVAILABLE, CLOSING -> true; // never executed
      case OUTCOME_UNKNOWN -> retrySafe;
      default -> false;
    };
  }

  /** The next gateway: round robin over those connected and not tried, else any not tried. */
  private Transport pick(List<Transport> tried) {
    List<Transport> transports = this.transports;
    int n = transports.size();
    int start = Math.floorMod(next.getAndIncrement(), n);
    Transport fallback = null;
    for (int i = 0; i < n; i++) {
      Transport t = transports.get((start + i) % n);
      if (tried.contains(t)) {
        continue;
      }
      if (t.isConnected()) {
        return t;
      }
      if (fallback == null) {
        fallback = t;
      }
    }
    if (fallback != null) {
      return fallback;
    }
    // every one tried: a connected one again (a request never executed may go back)
    for (int i = 0; i < n; i++) {
      Transport t = transports.get((start + i) % n);
      if (t.isConnected()) {
        return t;
      }
    }
    return transports.get(start);
  }

  /** One request's attempts, each on another gateway when possible. */
  private final class Attempts<T> {
    final Transport.Kind kind;
    final ClientFrame body;
    final Transport.Decoder<T> decoder;
    final boolean retrySafe;
    final long deadline;
    final List<Transport> tried = new ArrayList<>();
    final Result<T> result = new Result<>();
    int attempts;

    Attempts(Transport.Kind kind, ClientFrame body, Transport.Decoder<T> decoder,
        boolean retrySafe, long deadline) {
      this.kind = kind;
      this.body = body;
      this.decoder = decoder;
      this.retrySafe = retrySafe;
      this.deadline = deadline;
    }

    void attempt() {
      if (result.isDone()) {
        return; // cancelled
      }
      long left = deadline - System.nanoTime();
      if (!isConnected() && config.waitForConnection() && left > 0
          && tried.size() >= transports.size()) {
        // No gateway up and each tried: wait for one to come back, within the timeout.
        long pause = Math.min(left, config.reconnectMin().toNanos());
        CompletableFuture.delayedExecutor(pause, TimeUnit.NANOSECONDS).execute(this::again);
        return;
      }
      Transport t = pick(tried);
      tried.add(t);
      boolean wasUp = t.isConnected();
      attempts++;
      CompletableFuture<T> f = t.submit(kind, body, Duration.ofNanos(Math.max(1, left)),
          decoder);
      result.current = f;
      f.whenComplete((v, e) -> {
        if (e == null) {
          result.complete(v);
          return;
        }
        Throwable c = e instanceof CompletionException && e.getCause() != null
            ? e.getCause() : e;
        // A request turned away by a gateway that was down costs no attempt: it never left.
        // So does one given to a transport just dropped for its address leaving the DNS.
        boolean dropped = c instanceof GatewayException g && g.code() == Code.CLOSED
            && retired.contains(t);
        if (c instanceof GatewayException g && !wasUp
            && (g.code() == Code.CONNECTION || dropped)) {
          attempts--;
        }
        if (c instanceof GatewayException g && (retryable(g, retrySafe) || dropped)
            && attempts < config.maxAttempts() && deadline - System.nanoTime() > 0
            && !result.isDone()) {
          result.lastFailure = g;
          attempt();
          return;
        }
        result.completeExceptionally(c);
      });
    }

    /** After a pause with no gateway up: the same request, the gateways' tries forgotten. */
    private void again() {
      if (deadline - System.nanoTime() <= 0) {
        GatewayException last = result.lastFailure;
        result.completeExceptionally(last != null ? last : GatewayException.local(
            Code.CONNECTION, "no gateway of " + address() + " was up in time"));
        return;
      }
      if (isConnected()) {
        tried.clear();
      }
      attempt();
    }
  }

  /** The caller's future: cancelling it cancels the attempt under way. */
  private static final class Result<T> extends CompletableFuture<T> {
    volatile CompletableFuture<T> current;
    volatile GatewayException lastFailure;

    @Override
    public boolean cancel(boolean mayInterruptIfRunning) {
      boolean cancelled = super.cancel(mayInterruptIfRunning);
      CompletableFuture<T> c = current;
      if (cancelled && c != null) {
        c.cancel(mayInterruptIfRunning);
      }
      return cancelled;
    }
  }
}
