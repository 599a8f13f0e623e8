package io.beamgate.gateway.admission;

import io.beamgate.node.LocalNode;
import io.beamgate.node.NodeListener;
import io.beamgate.node.etf.EtfEncoder;
import io.beamgate.node.rpc.RpcClient;
import io.beamgate.node.rpc.RpcException;
import io.beamgate.node.term.Atom;
import io.beamgate.node.term.Term;
import io.beamgate.gateway.config.GatewayConfig;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.function.Predicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The backend nodes and which one a request goes to. Health is the distribution connection:
 * a backend is up from nodeup to nodedown; requests only go to backends that are up, and when
 * none is, {@link #pick} says so at once. A backend that goes down (or never came up) is
 * reconnected with a doubling, capped, jittered wait. Routing: round robin, least requests in
 * flight, or consistent hashing of one argument (each backend owns many points of a ring; a
 * key goes to the first backend that is up clockwise from its hash, so it stays on the same
 * node while the set of backends that are up is unchanged).
 *
 * <p>A connection can stay up while its backend answers nothing (a frozen VM, a partition that
 * drops packets without a reset) until {@code net_ticktime} runs out. Outlier detection
 * ({@link OutlierDetector}) closes that gap: such a backend is ejected (out of rotation, still
 * connected) and probed back in. As Envoy's {@code max_ejection_percent}, at most that share of
 * the backends is ejected at once, and the last backend in rotation never is: when every
 * backend is slow, slow answers beat none.
 */
public final class BackendPool implements NodeListener, AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(BackendPool.class);
  private static final int POINTS_PER_BACKEND = 160;

  public enum Routing {
    ROUND_ROBIN, LEAST_IN_FLIGHT, HASH;

    public static Routing of(String name) {
      return valueOf(name.toUpperCase(java.util.Locale.ROOT));
    }
  }

  /** How a call to a backend ended, as outlier detection counts it. */
  public enum Outcome {
    /** The backend answered (a result or a {@code badrpc}): it is alive. */
    ANSWERED,
    /** No answer within the call's timeout. */
    TIMEOUT,
    /** Not sent, or the connection went down: the connection's health handles it. */
    LOST;

    /** The outcome of a call whose future completed with {@code error} (null: a result). */
    static Outcome of(Throwable error) {
      if (error == null) {
        return ANSWERED;
      }
      RpcException r = rpcCause(error);
      if (r == null) {
        return LOST;
      }
      switch (r.kind()) {
        case BADRPC:
        case TOO_LARGE:
          return ANSWERED;
        case TIMEOUT:
          return TIMEOUT;
        default:
          return LOST;
      }
    }

    /**
     * From an audit outcome word: the words that mean the backend answered, "timeout", and
     * anything else (nodedown, abandoned, cancelled...) as LOST, which counts for nothing.
     */
    public static Outcome ofAudit(String outcome) {
      switch (outcome == null ? "" : outcome) {
        case "ok": case "badrpc": case "throw": case "exit": case "error":
        case "spawn_refused": case "result_too_large": case "result_too_deep":
          return ANSWERED;
        case "timeout":
          return TIMEOUT;
        default:
          return LOST;
      }
    }
  }

  /** One backend node. */
  public static final class Backend {
    public final String node;
    /** Calls sent to it and not ended yet. */
    public final AtomicInteger inFlight = new AtomicInteger();
    final AtomicInteger consecutiveTimeouts = new AtomicInteger();
    public volatile boolean up;
    /** Out of rotation by outlier detection (while connected). */
    public volatile boolean ejected;
    public volatile String lastError = "not connected yet";
    int attempts; // guarded by the pool
    // Outlier detection's, guarded by it: bumped on each ejection and reset (stale probes end)
    int ejections;
    // When its calls in flight were last seen with no answer since (the detector's sweep only)
    volatile long silentSince = Long.MIN_VALUE;
    volatile boolean answeredSinceSweep;

    /** Whether new calls may go to it. */
    public boolean inRotation() {
      return up && !ejected;
    }

    /** Its state for status and error messages: up, up but ejected, or down and why. */
    public String describe() {
      return up ? (ejected ? "up but ejected (not answering)" : "up") : "down: " + lastError;
    }

    Backend(String node) {
      this.node = node;
    }
  }

  private final LocalNode self;
  private final List<Backend> backends = new ArrayList<>();
  private final Map<String, Backend> byName = new java.util.HashMap<>();
  private final NavigableMap<Long, Backend> ring = new TreeMap<>();
  private final Routing routing;
  private final int hashArgument;
  private final long minDelay;
  private final long maxDelay;
  private final ScheduledExecutorService timer;
  private final OutlierDetector outliers;
  private final AtomicLong next = new AtomicLong();
  private volatile boolean closed;
  /** Tests only: runs just before a call is sent to a backend (to stage a race). */
  public volatile Consumer<Backend> beforeSend;

  public BackendPool(LocalNode self, GatewayConfig.Cluster cluster, ScheduledExecutorService timer) {
    this.self = self;
    this.routing = Routing.of(cluster.routing());
    this.hashArgument = cluster.hashArgument();
    this.minDelay = cluster.reconnectMinMillis();
    this.maxDelay = cluster.reconnectMaxMillis();
    this.timer = timer;
    for (GatewayConfig.Backend b : cluster.backends()) {
      Backend be = new Backend(b.node());
      backends.add(be);
      byName.put(b.node(), be);
      if (b.port() != 0) {
        self.gatewayDoor().staticPort(b.node(), b.port());
      }
      for (int i = 0; i < POINTS_PER_BACKEND; i++) {
        ring.put(hash((b.node() + "#" + i).getBytes(StandardCharsets.UTF_8)), be);
      }
    }
    this.outliers = new OutlierDetector(backends, cluster.outlier(), self::ping, timer);
    self.addNodeListener(this);
  }

  /** Starts connecting to every backend (in the background). */
  public void start() {
    for (Backend b : backends) {
      timer.execute(() -> connect(b));
    }
  }

  /** Waits until at least one backend is up, or the time is out; true when one is. */
  public boolean awaitAny(Duration d) throws InterruptedException {
    long end = System.nanoTime() + d.toNanos();
    while (System.nanoTime() < end) {
      if (upCount() > 0) {
        return true;
      }
      Thread.sleep(20);
    }
    return upCount() > 0;
  }

  public int upCount() {
    int n = 0;
    for (Backend b : backends) {
      if (b.up) {
        n++;
      }
    }
    return n;
  }

  public List<Backend> backends() {
    return backends;
  }

  /** Each backend and whether it is up, for error messages and status. */
  public String summary() {
    StringBuilder sb = new StringBuilder();
    for (Backend b : backends) {
      if (sb.length() > 0) {
        sb.append(", ");
      }
      sb.append(b.node).append(' ').append(b.describe());
    }
    return sb.toString();
  }

  /**
   * The backend for a call with {@code args} (the routing key is the configured argument),
   * or null when none is up.
   */
  Backend pick(List<Term> args) {
    return pick(args, Backend::inRotation);
  }

  private Backend pick(List<Term> args, Predicate<Backend> ok) {
    switch (routing) {
      case HASH:
        if (hashArgument < args.size()) {
          return byHash(args.get(hashArgument), ok);
        }
        return roundRobin(ok); // no key in this call: spread it
      case LEAST_IN_FLIGHT:
        return leastInFlight(ok);
      case ROUND_ROBIN:
      default:
        return roundRobin(ok);
    }
  }

  /**
   * The backend for a send or monitor by registered name across a bridge: the node
   * {@code names} maps it to (null when that node is down; ejected or not, as pinned), else
   * the first backend in the configured order that is in rotation, so that a monitor and the sends that follow it reach the
   * same process. Null when none is up.
   */
  Backend pickForName(String name, Map<String, String> names) {
    String node = names.get(name);
    if (node != null) {
      Backend b = byName.get(node);
      return b != null && b.up ? b : null;
    }
    for (Backend b : backends) {
      if (b.inRotation()) {
        return b;
      }
    }
    return null;
  }

  /** The backend for a send of {@code message} (hashed as a whole under hash routing). */
  Backend pickForSend(Term message) {
    return routing == Routing.HASH ? byHash(message, Backend::inRotation) : pick(List.of());
  }

  private Backend roundRobin(Predicate<Backend> ok) {
    int n = backends.size();
    long start = next.getAndIncrement();
    for (int i = 0; i < n; i++) {
      Backend b = backends.get((int) Math.floorMod(start + i, (long) n));
      if (ok.test(b)) {
        return b;
      }
    }
    return null;
  }

  private Backend leastInFlight(Predicate<Backend> ok) {
    int n = backends.size();
    long start = next.getAndIncrement();
    Backend best = null;
    for (int i = 0; i < n; i++) {
      Backend b = backends.get((int) Math.floorMod(start + i, (long) n));
      if (ok.test(b) && (best == null || b.inFlight.get() < best.inFlight.get())) {
        best = b;
      }
    }
    return best;
  }

  private Backend byHash(Term key, Predicate<Backend> ok) {
    long h = hash(EtfEncoder.encode(key));
    for (Backend b : ring.tailMap(h, true).values()) {
      if (ok.test(b)) {
        return b;
      }
    }
    for (Backend b : ring.headMap(h, false).values()) {
      if (ok.test(b)) {
        return b;
      }
    }
    return null;
  }

  static long hash(byte[] bytes) {
    try {
      byte[] d = MessageDigest.getInstance("SHA-256").digest(bytes);
      long h = 0;
      for (int i = 0; i < 8; i++) {
        h = (h << 8) | (d[i] & 0xFF);
      }
      return h;
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  // ---- calls and outlier detection -------------------------------------------------------

  /**
   * Calls {@code module:function(args)} on {@code first}. A call that was never sent (the
   * backend went down between the pick and the send: {@code NOT_CONNECTED}, or marked down
   * already) goes once to another backend in rotation, with the time left, and
   * {@code rerouted} is told which; a call that may have been sent is never repeated. Counts
   * the call in its backend's in-flight while it runs and reports its outcome.
   */
  public CompletableFuture<Term> callAsync(RpcClient rpc, Backend first, String module,
      String function, List<Term> args, Duration timeout, Consumer<Backend> rerouted) {
    return callAsync(rpc, first, module, function, args, timeout, 0, rerouted);
  }

  /** As above, with a cap on the answer's encoded size, checked before it is decoded. */
  public CompletableFuture<Term> callAsync(RpcClient rpc, Backend first, String module,
      String function, List<Term> args, Duration timeout, long maxAnswerBytes,
      Consumer<Backend> rerouted) {
    long deadline = System.nanoTime() + timeout.toNanos();
    return attempt(rpc, first, module, function, args, timeout, maxAnswerBytes)
        .exceptionallyCompose(e -> {
      RpcException r = rpcCause(e);
      if (r == null || r.kind() != RpcException.Kind.NOT_CONNECTED) {
        return CompletableFuture.failedFuture(e);
      }
      long left = deadline - System.nanoTime();
      Backend other = pick(args, b -> b != first && b.inRotation());
      if (other == null || left <= 0) {
        return CompletableFuture.failedFuture(e);
      }
      log.info("a call to {} was never sent ({}); sending it to {} instead", first.node,
          r.getMessage(), other.node);
      rerouted.accept(other);
      return attempt(rpc, other, module, function, args, Duration.ofNanos(left),
          maxAnswerBytes);
    });
  }

  private CompletableFuture<Term> attempt(RpcClient rpc, Backend b, String module,
      String function, List<Term> args, Duration timeout, long maxAnswerBytes) {
    Consumer<Backend> hook = beforeSend;
    if (hook != null) {
      hook.accept(b);
    }
    CompletableFuture<Term> f;
    if (!b.up) {
      // Marked down since the pick: do not wait for a reconnect inside the call.
      f = CompletableFuture.failedFuture(new RpcException(RpcException.Kind.NOT_CONNECTED,
          Atom.of("nodedown"), "backend " + b.node + " went down before the call was sent ("
              + b.lastError + ")"));
    } else {
      b.inFlight.incrementAndGet();
      f = rpc.callAsync(b.node, module, function, args, timeout, maxAnswerBytes);
      f.whenComplete((v, e) -> b.inFlight.decrementAndGet());
    }
    return f.whenComplete((v, e) -> completed(b, Outcome.of(e)));
  }

  static RpcException rpcCause(Throwable e) {
    Throwable c = e;
    while (c instanceof CompletionException && c.getCause() != null) {
      c = c.getCause();
    }
    return c instanceof RpcException r ? r : null;
  }

  /**
   * Records how a call to {@code b} ended, for outlier detection. For callers that send calls
   * themselves (the bridge); {@link #callAsync} does it for its own calls.
   */
  public void completed(Backend b, Outcome o) {
    outliers.completed(b, o);
  }

  private void connect(Backend b) {
    if (closed || b.up) {
      return;
    }
    try {
      self.connect(b.node, Duration.ofMillis(Math.max(1_000, Math.min(maxDelay, 10_000))));
      // nodeUp marks it up
    } catch (Exception e) {
      b.lastError = e.getMessage();
      retryLater(b);
    }
  }

  private void retryLater(Backend b) {
    if (closed) {
      return;
    }
    long delay;
    synchronized (this) {
      int a = Math.min(b.attempts++, 30);
      long base = Math.min(maxDelay, minDelay << Math.min(a, 20));
      // Jitter: between half and all of the wait, so backends that fell together don't
      // come back in lock step.
      delay = base / 2 + ThreadLocalRandom.current().nextLong(base / 2 + 1);
    }
    log.info("backend {} is down ({}); next attempt in {} ms", b.node, b.lastError, delay);
    try {
      timer.schedule(() -> connect(b), delay, TimeUnit.MILLISECONDS);
    } catch (java.util.concurrent.RejectedExecutionException e) {
      log.debug("backend {}: no reconnect, the gateway is stopping", b.node);
    }
  }

  @Override
  public void nodeUp(String node) {
    Backend b = byName.get(node);
    if (b != null) {
      synchronized (this) {
        b.attempts = 0;
      }
      outliers.reset(b); // a new connection starts with a clean record
      b.up = true;
      log.info("backend {} is up", node);
    }
  }

  @Override
  public void nodeDown(String node, String reason) {
    Backend b = byName.get(node);
    if (b != null && b.up) {
      b.up = false;
      outliers.reset(b); // reconnecting takes over
      b.lastError = reason;
      log.warn("backend {} went down: {}", node, reason);
      retryLater(b);
    }
  }

  @Override
  public void close() {
    closed = true;
    outliers.close();
    self.removeNodeListener(this);
  }
}
