package io.beamgate.gateway.admission;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.beamgate.security.guard.GuardRule;
import io.beamgate.security.policy.Rule;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** Per-rule rate and concurrency, on a clock the test moves. */
class LimiterTest {
  final AtomicLong now = new AtomicLong(1_000);
  final Limiter limiter = new Limiter(now::get);

  static Rule rule(int rate, int concurrency) {
    return new Rule("r", List.of(), List.of(), Set.of(),
        new Rule.Limits(rate, concurrency, 5_000, 1 << 20), GuardRule.DEFAULTS, false, false);
  }

  @Test
  void rateAtAndPastTheLimitThenRefilled() throws Exception {
    Rule r = rule(3, 100);
    for (int i = 0; i < 3; i++) {
      limiter.acquire(r, "p").release();
    }
    Limiter.Exhausted e = assertThrows(Limiter.Exhausted.class, () -> limiter.acquire(r, "p"));
    assertTrue(e.getMessage().contains("rate limit"), e.getMessage());
    assertDoesNotThrow(() -> limiter.acquire(r, "other"), "counted per principal");
    now.addAndGet(400_000_000L); // 0.4 s: one token back
    limiter.acquire(r, "p").release();
    assertThrows(Limiter.Exhausted.class, () -> limiter.acquire(r, "p"));
  }

  @Test
  void concurrencyAtAndPastTheLimit() throws Exception {
    Rule r = rule(1000, 2);
    Limiter.Permit a = limiter.acquire(r, "p");
    limiter.acquire(r, "p");
    Limiter.Exhausted e = assertThrows(Limiter.Exhausted.class, () -> limiter.acquire(r, "p"));
    assertTrue(e.getMessage().contains("concurrency"), e.getMessage());
    a.release();
    a.release(); // a second release gives nothing back
    limiter.acquire(r, "p");
    assertThrows(Limiter.Exhausted.class, () -> limiter.acquire(r, "p"));
  }

  @Test
  void sendsTakeRateButNoConcurrencySlot() throws Exception {
    Rule r = rule(3, 1);
    Limiter.Permit call = limiter.acquire(r, "p"); // the one slot is taken
    limiter.rate(r, "p");
    limiter.rate(r, "p"); // sends still pass: 3 tokens in all
    Limiter.Exhausted e = assertThrows(Limiter.Exhausted.class, () -> limiter.rate(r, "p"));
    assertTrue(e.getMessage().contains("rate limit"), e.getMessage());
    call.release();
    now.addAndGet(400_000_000L);
    limiter.rate(r, "p");
  }

  @Test
  void aHugeRateAfterALongPauseStillAdmits() throws Exception {
    Rule r = rule(1_000_000_000, 100);
    limiter.acquire(r, "p").release();
    now.addAndGet(3_600_000_000_000L); // an hour: nanoseconds times the rate overflows a long
    for (int i = 0; i < 10; i++) {
      limiter.acquire(r, "p").release();
    }
  }
}
