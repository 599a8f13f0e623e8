package io.beamgate.gateway.server;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** limits.control_per_second's bucket, at and past its bound, on a clock of our own. */
class ControlBucketTest {
  static final long SECOND = 1_000_000_000L;

  @Test
  void aBurstOfOneSecondsWorthPassesAndTheNextIsRefused() {
    ControlBucket b = new ControlBucket(5);
    for (int i = 0; i < 5; i++) {
      assertTrue(b.take(0), "token " + i);
    }
    assertFalse(b.take(0), "the sixth in the same instant");
  }

  @Test
  void tokensComeBackAtTheRateAndNeverPastOneSecondsWorth() {
    ControlBucket b = new ControlBucket(5);
    for (int i = 0; i < 5; i++) {
      b.take(0);
    }
    assertFalse(b.take(SECOND / 10), "half a token after 100 ms");
    assertTrue(b.take(SECOND / 5 + SECOND / 10), "one token after 200 ms more");
    int taken = 0;
    while (b.take(100 * SECOND)) {
      taken++;
    }
    assertTrue(taken == 5, "after a long pause, one second's worth only: " + taken);
  }

  @Test
  void onlyTheFirstRefusalOfABurstIsReported() {
    ControlBucket b = new ControlBucket(1);
    assertTrue(b.take(0));
    assertFalse(b.take(0));
    assertTrue(b.firstRefusal());
    assertFalse(b.take(0));
    assertFalse(b.firstRefusal(), "the same burst");
    assertTrue(b.take(2 * SECOND));
    assertFalse(b.take(2 * SECOND));
    assertTrue(b.firstRefusal(), "a new burst after a token was taken");
  }
}
