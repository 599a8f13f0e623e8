package io.beamgate.gateway.admission;

import io.beamgate.gateway.admission.BackendPool.Backend;
import io.beamgate.gateway.admission.BackendPool.Outcome;
import io.beamgate.gateway.config.GatewayConfig;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.BiPredicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Takes connected backends that stop answering out of rotation, and probes them back in. Two
 * signs: {@code consecutive_timeouts} calls in a row that timed out, or calls in flight with
 * no answer at all for {@code max_silence_ms} (a frozen VM answers nothing, so this fires
 * before the calls' own timeouts; a backend that runs only long calls may trip it, and is then
 * probed back in). An ejected backend is probed after {@code eject_ms} with net_kernel's
 * {@code is_auth} (what net_adm:ping asks; it runs no application code) and returns when that
 * answers. At most {@code max_ejection_percent} of the backends are out at once, and never the
 * last one in rotation.
 */
final class OutlierDetector implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(OutlierDetector.class);

  private final List<Backend> backends;
  private final GatewayConfig.Outlier config;
  private final BiPredicate<String, Duration> probe;
  private final ScheduledExecutorService timer;
  private final ScheduledFuture<?> sweeper;
  private volatile boolean closed;

  /** {@code probe}: true when the node answers within the time (LocalNode::ping). */
  OutlierDetector(List<Backend> backends, GatewayConfig.Outlier config,
      BiPredicate<String, Duration> probe, ScheduledExecutorService timer) {
    this.backends = backends;
    this.config = config;
    this.probe = probe;
    this.timer = timer;
    long silence = config.maxSilenceMillis();
    this.sweeper = silence <= 0 ? null : timer.scheduleWithFixedDelay(this::sweep,
        sweepMillis(silence), sweepMillis(silence), TimeUnit.MILLISECONDS);
  }

  private static long sweepMillis(long silence) {
    return Math.max(20, Math.min(250, silence / 4));
  }

  /** Counts how a call to {@code b} ended. */
  void completed(Backend b, Outcome o) {
    if (o == Outcome.ANSWERED) {
      b.consecutiveTimeouts.set(0);
      b.answeredSinceSweep = true;
    } else if (o == Outcome.TIMEOUT) {
      int n = b.consecutiveTimeouts.incrementAndGet();
      int max = config.consecutiveTimeouts();
      if (max > 0 && n >= max && !b.ejected) {
        eject(b, n + " calls in a row timed out");
      }
    }
  }

  /** Ejects backends whose calls in flight have had no answer for max_silence_ms. */
  private void sweep() {
    long now = System.nanoTime();
    long max = TimeUnit.MILLISECONDS.toNanos(config.maxSilenceMillis());
    for (Backend b : backends) {
      int n = b.inFlight.get();
      if (n == 0 || !b.inRotation()) {
        b.silentSince = Long.MIN_VALUE;
        continue;
      }
      if (b.silentSince == Long.MIN_VALUE || b.answeredSinceSweep) {
        b.silentSince = now; // busy from now (or answered since the last look)
        b.answeredSinceSweep = false;
        continue;
      }
      if (now - b.silentSince >= max) {
        eject(b, "none of its " + n + " calls in flight answered for "
            + TimeUnit.NANOSECONDS.toMillis(now - b.silentSince) + " ms");
        b.silentSince = Long.MIN_VALUE;
      }
    }
  }

  private void eject(Backend b, String why) {
    int generation;
    synchronized (this) {
      if (b.ejected || !b.up || closed) {
        return;
      }
      int ejected = 0;
      int others = 0;
      for (Backend x : backends) {
        ejected += x.ejected ? 1 : 0;
        others += x != b && x.inRotation() ? 1 : 0;
      }
      int allowed = backends.size() * config.maxEjectionPercent() / 100;
      if (others == 0 || ejected + 1 > allowed) {
        b.consecutiveTimeouts.set(0); // count afresh: one warning per round, not per call
        log.warn("backend {} is not answering ({}) but stays in rotation: {}", b.node, why,
            others == 0 ? "it is the last backend in rotation"
                : ejected + " of " + backends.size() + " backends are ejected already"
                    + " (cluster.outlier.max_ejection_percent: "
                    + config.maxEjectionPercent() + ")");
        return;
      }
      b.ejected = true;
      b.consecutiveTimeouts.set(0);
      generation = ++b.ejections;
    }
    log.warn("backend {} ejected ({}): out of rotation for {} ms, then probed", b.node, why,
        config.ejectMillis());
    scheduleProbe(b, generation);
  }

  private void scheduleProbe(Backend b, int generation) {
    if (!closed) {
      try {
        timer.schedule(() -> probe(b, generation), config.ejectMillis(), TimeUnit.MILLISECONDS);
      } catch (java.util.concurrent.RejectedExecutionException e) {
        log.debug("backend {}: no probe, the gateway is stopping", b.node);
      }
    }
  }

  private void probe(Backend b, int generation) {
    synchronized (this) {
      if (closed || !b.ejected || b.ejections != generation) {
        return; // back already, or went down (reconnecting handles it)
      }
    }
    boolean alive = probe.test(b.node, Duration.ofMillis(config.probeTimeoutMillis()));
    synchronized (this) {
      if (!b.ejected || b.ejections != generation) {
        return;
      }
      if (alive) {
        reset(b);
      }
    }
    if (alive) {
      log.info("backend {} answered a probe: back in rotation", b.node);
    } else {
      log.warn("backend {} did not answer a probe within {} ms: ejected for {} ms more",
          b.node, config.probeTimeoutMillis(), config.ejectMillis());
      scheduleProbe(b, generation);
    }
  }

  /** A clean record for {@code b} (it came back, or its connection went up or down). */
  synchronized void reset(Backend b) {
    b.ejected = false;
    b.ejections++;
    b.consecutiveTimeouts.set(0);
    b.silentSince = Long.MIN_VALUE;
  }

  @Override
  public void close() {
    closed = true;
    if (sweeper != null) {
      sweeper.cancel(false);
    }
  }
}
