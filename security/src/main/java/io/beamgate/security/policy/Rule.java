package io.beamgate.security.policy;

import io.beamgate.security.guard.GuardRule;
import io.beamgate.security.identity.PrincipalMatcher;
import java.util.List;
import java.util.Set;

/**
 * One policy rule: who ({@code principals}), what ({@code calls}, {@code sends}), within which
 * limits, and whether it allows what it would deny, recording it ({@code permissive}).
 * {@code idempotent}: the admin says every call the rule allows may run twice with no harm, so
 * a client may declare such a call retryable and run it again on another gateway when its
 * outcome is unknown (a call declared so under a rule without it is refused).
 */
public record Rule(String id, List<PrincipalMatcher> principals, List<CallPattern> calls,
    Set<String> sends, Limits limits, GuardRule guard, boolean permissive, boolean unsafe,
    boolean idempotent) {

  /** A rule whose calls are not marked idempotent. */
  public Rule(String id, List<PrincipalMatcher> principals, List<CallPattern> calls,
      Set<String> sends, Limits limits, GuardRule guard, boolean permissive, boolean unsafe) {
    this(id, principals, calls, sends, limits, guard, permissive, unsafe, false);
  }

  /**
   * Per-rule limits.
   *
   * @param ratePerSecond requests per second per principal (default 100)
   * @param concurrency requests in flight per principal (default 16)
   * @param timeoutMillis per-call timeout (default 5000)
   * @param maxResultBytes largest result returned (default 1 MiB)
   */
  public record Limits(int ratePerSecond, int concurrency, long timeoutMillis,
      long maxResultBytes) {
    public static final Limits DEFAULTS = new Limits(100, 16, 5_000, 1 << 20);
  }
}
