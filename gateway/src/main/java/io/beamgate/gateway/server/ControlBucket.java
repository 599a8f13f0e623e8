package io.beamgate.gateway.server;

/**
 * The token bucket of one connection's pings and cancels ({@code limits.control_per_second};
 * bursts up to one second's worth): they cost no rule permit, so they have this instead. It
 * also says when a refusal is the first of a burst, so that a burst leaves one audit record.
 * Confined to the connection's event loop.
 */
final class ControlBucket {
  private final int rate;
  private double tokens = -1;
  private long refill;
  private boolean refusing;

  ControlBucket(int ratePerSecond) {
    this.rate = ratePerSecond;
  }

  int rate() {
    return rate;
  }

  /** Takes a token at {@code nowNanos}; false past the rate. */
  boolean take(long nowNanos) {
    if (tokens < 0) {
      tokens = rate;
    } else {
      tokens = Math.min(rate, tokens + (nowNanos - refill) / 1e9 * rate);
    }
    refill = nowNanos;
    if (tokens < 1) {
      return false;
    }
    tokens -= 1;
    refusing = false;
    return true;
  }

  /** True for the first refusal since a token was last taken (one audit record per burst). */
  boolean firstRefusal() {
    if (refusing) {
      return false;
    }
    refusing = true;
    return true;
  }
}
