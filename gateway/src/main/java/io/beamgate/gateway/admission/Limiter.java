package io.beamgate.gateway.admission;

import io.beamgate.security.policy.Rule;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Per-rule limits, counted per principal: a token bucket for the rate (bursts up to one
 * second's worth) and a count of requests in flight. Keyed by rule id and principal name, so
 * a reload that changes a rule's limits takes effect at once.
 */
public final class Limiter {
  private final ConcurrentHashMap<String, Bucket> buckets = new ConcurrentHashMap<>();
  private final java.util.function.LongSupplier clock;
  // How many gateways share each rule's limits (io.beamgate.gateway.scale); 1: this one alone.
  private volatile java.util.function.IntSupplier sharers = () -> 1;

  /**
   * Enforces only this gateway's share of each rule's limits: the rate divided by
   * {@code gateways} (a burst of at least one), the concurrency too (at least one). Read at
   * every request, so a gateway joining or leaving rebalances at once.
   */
  public void shareWith(java.util.function.IntSupplier gateways) {
    this.sharers = gateways;
  }

  public Limiter() {
    this(System::nanoTime);
  }

  /** With a clock in nanoseconds (tests). */
  public Limiter(java.util.function.LongSupplier clock) {
    this.clock = clock;
  }

  private static final class Bucket {
    double tokens;
    long last;
    int inFlight;

    Bucket(int rate, long now) {
      tokens = rate;
      last = now;
    }
  }

  /** A permit to release when the request is answered. */
  public interface Permit {
    void release();
  }

  /** Thrown when a limit is reached: the message says which. */
  public static final class Exhausted extends Exception {
    public Exhausted(String message) {
      super(message);
    }
  }

  /**
   * Takes one token of the rule's rate for {@code principal}, for a request that is not in
   * flight afterwards (a send, a monitor); the concurrency limit does not apply.
   */
  void rate(Rule rule, String principal) throws Exhausted {
    take(rule, principal, false);
  }

  Permit acquire(Rule rule, String principal) throws Exhausted {
    Bucket b = take(rule, principal, true);
    return new Permit() {
      private boolean released;

      @Override
      public void release() {
        synchronized (b) {
          if (!released) {
            released = true;
            b.inFlight--;
          }
        }
      }
    };
  }

  /** Refills the bucket, checks the limits, and takes a token (and a slot when inFlight). */
  private Bucket take(Rule rule, String principal, boolean inFlight) throws Exhausted {
    Rule.Limits l = rule.limits();
    int n = Math.max(1, sharers.getAsInt());
    double rate = (double) l.ratePerSecond() / n;
    double burst = Math.max(1, rate);
    int concurrency = Math.max(1, l.concurrency() / n);
    String of = n == 1 ? null : " (this gateway's share, " + n + " gateways sharing it: ";
    Bucket b = buckets.computeIfAbsent(rule.id() + '\u0000' + principal,
        k -> new Bucket((int) Math.ceil(burst), clock.getAsLong()));
    synchronized (b) {
      long now = clock.getAsLong();
      // in double: nanoseconds times a large rate would overflow a long
      b.tokens = Math.min(burst, b.tokens + (now - b.last) / 1e9 * rate);
      b.last = now;
      if (inFlight && b.inFlight >= concurrency) {
        throw new Exhausted("concurrency limit of rule " + rule.id() + ": " + l.concurrency()
            + " requests in flight for " + principal
            + (of == null ? "" : of + concurrency + ")"));
      }
      if (b.tokens < 1) {
        throw new Exhausted("rate limit of rule " + rule.id() + ": " + l.ratePerSecond()
            + " requests per second for " + principal + (of == null ? "" : of
                + String.format(java.util.Locale.ROOT, "%.4g", rate) + " per second)"));
      }
      b.tokens -= 1;
      if (inFlight) {
        b.inFlight++;
      }
    }
    return b;
  }
}
