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
    Bucket b = buckets.computeIfAbsent(rule.id() + '\u0000' + principal,
        k -> new Bucket(l.ratePerSecond(), clock.getAsLong()));
    synchronized (b) {
      long now = clock.getAsLong();
      // in double: nanoseconds times a large rate would overflow a long
      b.tokens = Math.min(l.ratePerSecond(),
          b.tokens + (now - b.last) / 1e9 * l.ratePerSecond());
      b.last = now;
      if (inFlight && b.inFlight >= l.concurrency()) {
        throw new Exhausted("concurrency limit of rule " + rule.id() + ": " + l.concurrency()
            + " requests in flight for " + principal);
      }
      if (b.tokens < 1) {
        throw new Exhausted("rate limit of rule " + rule.id() + ": " + l.ratePerSecond()
            + " requests per second for " + principal);
      }
      b.tokens -= 1;
      if (inFlight) {
        b.inFlight++;
      }
    }
    return b;
  }
}
