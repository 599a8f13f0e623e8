package io.beamgate.gateway.server;

import io.beamgate.node.LocalNode;
import io.beamgate.node.NodeListener;
import io.beamgate.node.etf.EtfEncoder;
import io.beamgate.node.term.Term;
import io.beamgate.security.config.GatewayConfig;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.TreeMap;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
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
 */
final class BackendPool implements NodeListener, AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(BackendPool.class);
  private static final int POINTS_PER_BACKEND = 160;

  enum Routing {
    ROUND_ROBIN, LEAST_IN_FLIGHT, HASH;

    static Routing of(String name) {
      return valueOf(name.toUpperCase(java.util.Locale.ROOT));
    }
  }

  /** One backend node. */
  static final class Backend {
    final String node;
    final AtomicInteger inFlight = new AtomicInteger();
    volatile boolean up;
    volatile String lastError = "not connected yet";
    int attempts; // guarded by the pool

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
  private final AtomicLong next = new AtomicLong();
  private volatile boolean closed;

  BackendPool(LocalNode self, GatewayConfig.Cluster cluster, ScheduledExecutorService timer) {
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
        self.staticPort(b.node(), b.port());
      }
      for (int i = 0; i < POINTS_PER_BACKEND; i++) {
        ring.put(hash((b.node() + "#" + i).getBytes(StandardCharsets.UTF_8)), be);
      }
    }
    self.addNodeListener(this);
  }

  /** Starts connecting to every backend (in the background). */
  void start() {
    for (Backend b : backends) {
      timer.execute(() -> connect(b));
    }
  }

  /** Waits until at least one backend is up, or the time is out; true when one is. */
  boolean awaitAny(Duration d) throws InterruptedException {
    long end = System.nanoTime() + d.toNanos();
    while (System.nanoTime() < end) {
      if (upCount() > 0) {
        return true;
      }
      Thread.sleep(20);
    }
    return upCount() > 0;
  }

  int upCount() {
    int n = 0;
    for (Backend b : backends) {
      if (b.up) {
        n++;
      }
    }
    return n;
  }

  List<Backend> backends() {
    return backends;
  }

  /** Each backend and whether it is up, for error messages and status. */
  String summary() {
    StringBuilder sb = new StringBuilder();
    for (Backend b : backends) {
      if (sb.length() > 0) {
        sb.append(", ");
      }
      sb.append(b.node).append(b.up ? " up" : " down: " + b.lastError);
    }
    return sb.toString();
  }

  /**
   * The backend for a call with {@code args} (the routing key is the configured argument),
   * or null when none is up.
   */
  Backend pick(List<Term> args) {
    switch (routing) {
      case HASH:
        if (hashArgument < args.size()) {
          return byHash(args.get(hashArgument));
        }
        return roundRobin(); // no key in this call: spread it
      case LEAST_IN_FLIGHT:
        return leastInFlight();
      case ROUND_ROBIN:
      default:
        return roundRobin();
    }
  }

  /**
   * The backend for a send or monitor by registered name across a bridge: the node
   * {@code names} maps it to (null when that node is down), else the first backend in the
   * configured order that is up, so that a monitor and the sends that follow it reach the
   * same process. Null when none is up.
   */
  Backend pickForName(String name, Map<String, String> names) {
    String node = names.get(name);
    if (node != null) {
      Backend b = byName.get(node);
      return b != null && b.up ? b : null;
    }
    for (Backend b : backends) {
      if (b.up) {
        return b;
      }
    }
    return null;
  }

  /** The backend for a send of {@code message} (hashed as a whole under hash routing). */
  Backend pickForSend(Term message) {
    return routing == Routing.HASH ? byHash(message) : pick(List.of());
  }

  private Backend roundRobin() {
    int n = backends.size();
    long start = next.getAndIncrement();
    for (int i = 0; i < n; i++) {
      Backend b = backends.get((int) Math.floorMod(start + i, (long) n));
      if (b.up) {
        return b;
      }
    }
    return null;
  }

  private Backend leastInFlight() {
    int n = backends.size();
    long start = next.getAndIncrement();
    Backend best = null;
    for (int i = 0; i < n; i++) {
      Backend b = backends.get((int) Math.floorMod(start + i, (long) n));
      if (b.up && (best == null || b.inFlight.get() < best.inFlight.get())) {
        best = b;
      }
    }
    return best;
  }

  private Backend byHash(Term key) {
    long h = hash(EtfEncoder.encode(key));
    for (Backend b : ring.tailMap(h, true).values()) {
      if (b.up) {
        return b;
      }
    }
    for (Backend b : ring.headMap(h, false).values()) {
      if (b.up) {
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
    timer.schedule(() -> connect(b), delay, TimeUnit.MILLISECONDS);
  }

  @Override
  public void nodeUp(String node) {
    Backend b = byName.get(node);
    if (b != null) {
      synchronized (this) {
        b.attempts = 0;
      }
      b.up = true;
      log.info("backend {} is up", node);
    }
  }

  @Override
  public void nodeDown(String node, String reason) {
    Backend b = byName.get(node);
    if (b != null && b.up) {
      b.up = false;
      b.lastError = reason;
      log.warn("backend {} went down: {}", node, reason);
      retryLater(b);
    }
  }

  @Override
  public void close() {
    closed = true;
    self.removeNodeListener(this);
  }
}
