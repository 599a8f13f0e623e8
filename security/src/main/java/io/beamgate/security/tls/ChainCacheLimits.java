package io.beamgate.security.tls;

import java.time.Duration;
import java.util.Objects;

/**
 * How many validated client chains a server's trust manager remembers, and for how long
 * ({@link VerifiedChainCache}).
 *
 * @param maxEntries at most this many chains; 0 turns the cache off (every handshake runs the
 *     full path validation)
 * @param maxAge a chain validated longer ago than this is validated again, whatever its dates
 */
public record ChainCacheLimits(int maxEntries, Duration maxAge) {
  /** The gateway's default: 10,000 chains, each for at most 5 minutes. */
  public static final ChainCacheLimits DEFAULT = new ChainCacheLimits(10_000, Duration.ofMinutes(5));
  /** No cache. */
  public static final ChainCacheLimits OFF = new ChainCacheLimits(0, Duration.ofMinutes(5));

  public ChainCacheLimits {
    Objects.requireNonNull(maxAge, "maxAge");
    if (maxEntries < 0) {
      throw new IllegalArgumentException("maxEntries: " + maxEntries + " (expected: >= 0)");
    }
    if (maxAge.isNegative() || maxAge.isZero()) {
      throw new IllegalArgumentException("maxAge: " + maxAge + " (expected: > 0)");
    }
  }

  /** Whether chains are remembered at all. */
  public boolean enabled() {
    return maxEntries > 0;
  }
}
