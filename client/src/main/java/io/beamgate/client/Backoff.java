package io.beamgate.client;

import java.time.Duration;
import java.util.function.DoubleSupplier;

/**
 * Reconnect waits: capped exponential backoff with "equal jitter". After {@code n} failed
 * attempts in a row the cap is {@code b = min(max, min * 2^n)}, and the wait is random in
 * {@code [b/2, b]}: growing, never above {@code max}, and spread so that clients dropped
 * together by a restarting gateway do not come back together. Internal.
 */
final class Backoff {
  private final long minNanos;
  private final long maxNanos;
  private final DoubleSupplier random;

  Backoff(Duration min, Duration max, DoubleSupplier random) {
    this.minNanos = min.toNanos();
    this.maxNanos = max.toNanos();
    this.random = random;
  }

  /** The wait after {@code failures} failed attempts in a row (0: the connection just dropped). */
  long delayNanos(int failures) {
    long cap = minNanos;
    for (int i = 0; i < failures && cap < maxNanos; i++) {
      cap = cap > maxNanos / 2 ? maxNanos : cap * 2;
    }
    cap = Math.min(cap, maxNanos);
    double r = Math.min(Math.max(random.getAsDouble(), 0.0), 1.0);
    return cap / 2 + (long) (r * (cap - cap / 2));
  }
}
