package io.beamgate.client;

/**
 * When a connection to the gateway gets a ping, and when it is given up as dead: a connection
 * silent for {@link ClientConfig#keepaliveInterval()} is pinged (the gateway answers pings at
 * once, between calls), and one silent for {@link ClientConfig#keepaliveTimeout()} is dead. A
 * partition that drops packets without a reset never closes a TCP connection by itself (the
 * kernel retransmits for many minutes), so only this notices it. Without requests in flight,
 * silence is expected and counts only with {@link ClientConfig#keepaliveWithoutCalls()}.
 *
 * <p>Transport-free: times are {@link System#nanoTime()} values passed in. One per connection,
 * used on the client's event loop only.
 */
final class Keepalive {
  /** What the connection should do now. */
  enum Action {
    NOTHING, PING, DEAD
  }

  private final long intervalNanos;
  private final long timeoutNanos;
  private final boolean withoutCalls;
  private long silentSince;
  private long lastPing;

  Keepalive(ClientConfig config, long now) {
    this.intervalNanos = config.keepaliveInterval().toNanos();
    this.timeoutNanos = config.keepaliveTimeout().toNanos();
    this.withoutCalls = config.keepaliveWithoutCalls();
    this.silentSince = now;
    this.lastPing = now - intervalNanos;
  }

  /** How often {@link #check} should run: often enough to act within a quarter interval. */
  long checkPeriodNanos() {
    return Math.max(10_000_000L, Math.min(intervalNanos, timeoutNanos) / 4);
  }

  /** A frame came from the gateway: it is alive. */
  void read(long now) {
    silentSince = now;
  }

  /** A request went out on an idle connection: silence counts from now. */
  void busy(long now) {
    if (!withoutCalls) {
      silentSince = now;
    }
  }

  /** {@code busy}: requests are in flight (or waiting for a slot) on the connection. */
  Action check(long now, boolean busy) {
    if (!busy && !withoutCalls) {
      silentSince = now;
      return Action.NOTHING;
    }
    long silent = now - silentSince;
    if (silent >= timeoutNanos) {
      return Action.DEAD;
    }
    if (silent >= intervalNanos && now - lastPing >= intervalNanos) {
      lastPing = now;
      return Action.PING;
    }
    return Action.NOTHING;
  }

  long silentMillis(long now) {
    return (now - silentSince) / 1_000_000L;
  }
}
