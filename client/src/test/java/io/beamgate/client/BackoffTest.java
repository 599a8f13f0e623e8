package io.beamgate.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.Random;
import org.junit.jupiter.api.Test;

class BackoffTest {
  private static final long MS = 1_000_000L;

  @Test
  void doublesFromMinUpToMaxWithHalfJitter() {
    Backoff low = new Backoff(Duration.ofMillis(100), Duration.ofSeconds(10), () -> 0.0);
    Backoff high = new Backoff(Duration.ofMillis(100), Duration.ofSeconds(10), () -> 1.0);
    long[] caps = {100, 200, 400, 800, 1600, 3200, 6400, 10_000, 10_000};
    for (int n = 0; n < caps.length; n++) {
      assertEquals(caps[n] * MS / 2, low.delayNanos(n), "lowest after " + n);
      assertEquals(caps[n] * MS, high.delayNanos(n), "highest after " + n);
    }
    assertEquals(10_000 * MS, high.delayNanos(Integer.MAX_VALUE), "no overflow");
  }

  @Test
  void randomWaitsStayInTheirBand() {
    Random r = new Random(1);
    Backoff b = new Backoff(Duration.ofMillis(50), Duration.ofSeconds(2), r::nextDouble);
    long min = Long.MAX_VALUE;
    long max = 0;
    for (int i = 0; i < 10_000; i++) {
      long d = b.delayNanos(3); // cap 400 ms
      min = Math.min(min, d);
      max = Math.max(max, d);
      assertTrue(d >= 200 * MS && d <= 400 * MS, d + " ns");
    }
    assertTrue(max - min > 150 * MS, "spread");
  }

  @Test
  void maxEqualToMinIsFixedBand() {
    Backoff b = new Backoff(Duration.ofSeconds(1), Duration.ofSeconds(1), () -> 1.0);
    assertEquals(1000 * MS, b.delayNanos(0));
    assertEquals(1000 * MS, b.delayNanos(40));
  }
}
