package io.beamgate.gateway.server;

import java.net.SocketAddress;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;

/**
 * The log lines for connections refused by {@code limits.max_connections}, at a bounded rate:
 * the first refusal of a burst is logged with its address, the others of the next
 * {@link #WINDOW_MILLIS} are counted and logged as one line when the window ends. A
 * connection flood would otherwise write a line per connection (each refusal is still
 * audited, one record each).
 */
final class RefusedLog {
  static final long WINDOW_MILLIS = 10_000;
  private final Logger log;
  private long windowStart = Long.MIN_VALUE; // nanoTime of the last line logged
  private int suppressed;

  RefusedLog(Logger log) {
    this.log = log;
  }

  /** A connection from {@code from} was refused; {@code timer} runs the window's summary. */
  synchronized void refused(SocketAddress from, int maxConnections,
      ScheduledExecutorService timer) {
    long now = System.nanoTime();
    if (windowStart == Long.MIN_VALUE
        || now - windowStart >= TimeUnit.MILLISECONDS.toNanos(WINDOW_MILLIS)) {
      windowStart = now;
      log.warn("refusing a connection from {}: {} connections open (limits.max_connections);"
          + " further refusals in the next {} s are counted in one line", from,
          maxConnections, WINDOW_MILLIS / 1000);
      return;
    }
    if (suppressed++ == 0) {
      long left = TimeUnit.MILLISECONDS.toNanos(WINDOW_MILLIS) - (now - windowStart);
      timer.schedule(() -> summary(maxConnections), left, TimeUnit.NANOSECONDS);
    }
  }

  private synchronized void summary(int maxConnections) {
    if (suppressed > 0) {
      log.warn("refused {} more connections in the last {} s: {} connections open"
          + " (limits.max_connections)", suppressed, WINDOW_MILLIS / 1000, maxConnections);
      suppressed = 0;
      windowStart = System.nanoTime();
    }
  }

  /** Refusals counted but not yet logged (for tests). */
  synchronized int pending() {
    return suppressed;
  }
}
