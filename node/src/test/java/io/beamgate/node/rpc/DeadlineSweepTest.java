package io.beamgate.node.rpc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.channel.DefaultEventLoop;
import io.netty.util.concurrent.EventExecutor;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Deadlines checked by one periodic task on one I/O thread, without sockets. */
class DeadlineSweepTest {
  private static final long PERIOD = TimeUnit.MILLISECONDS.toNanos(20);
  private final DefaultEventLoop loop = new DefaultEventLoop();

  @AfterEach
  void stop() {
    loop.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly(3000);
  }

  /** A call as RpcClient's: expires once, records when. */
  static final class Probe implements DeadlineSweep.Expiring {
    final long deadline;
    volatile boolean answered;
    final AtomicLong expiredAt = new AtomicLong();
    final CountDownLatch expired = new CountDownLatch(1);
    volatile Thread expiredOn;

    Probe(long timeoutNanos) {
      deadline = System.nanoTime() + timeoutNanos;
    }

    @Override
    public long deadlineNanos() {
      return deadline;
    }

    @Override
    public boolean done() {
      return answered || expired.getCount() == 0;
    }

    @Override
    public void expire() {
      expiredAt.set(System.nanoTime());
      expiredOn = Thread.currentThread();
      expired.countDown();
    }
  }

  @Test
  void aCallExpiresAtItsDeadlineNeverBeforeAndWithinAboutOnePeriodAfter() throws Exception {
    DeadlineSweep sweep = new DeadlineSweep(loop, PERIOD);
    for (long ms : new long[] {0, 1, 19, 20, 21, 150}) {
      Probe p = new Probe(TimeUnit.MILLISECONDS.toNanos(ms));
      sweep.add(p);
      assertTrue(p.expired.await(5, TimeUnit.SECONDS), ms + " ms");
      long late = p.expiredAt.get() - p.deadline;
      assertTrue(late >= 0, ms + " ms: expired " + -late + " ns early");
      // One period, plus what a machine shared with other builds adds to a wake-up.
      assertTrue(late < PERIOD + TimeUnit.SECONDS.toNanos(1), ms + " ms: " + late + " ns late");
      assertTrue(loop.inEventLoop(p.expiredOn), "expired on the sweep's I/O thread");
    }
  }

  @Test
  void aCallAnsweredBeforeItsDeadlineNeverExpires() throws Exception {
    DeadlineSweep sweep = new DeadlineSweep(loop, PERIOD);
    Probe answered = new Probe(TimeUnit.MILLISECONDS.toNanos(60));
    Probe late = new Probe(TimeUnit.MILLISECONDS.toNanos(60));
    sweep.add(answered);
    sweep.add(late);
    answered.answered = true;
    assertTrue(late.expired.await(5, TimeUnit.SECONDS));
    Thread.sleep(3 * PERIOD / 1_000_000);
    assertEquals(1, answered.expired.getCount(), "an answered call was expired");
  }

  @Test
  void theCheckStopsWhenIdleAndStartsAgainForTheNextCall() throws Exception {
    DeadlineSweep sweep = new DeadlineSweep(loop, TimeUnit.MILLISECONDS.toNanos(1));
    Probe first = new Probe(0);
    sweep.add(first);
    assertTrue(first.expired.await(5, TimeUnit.SECONDS));
    // Idle for a second (1000 empty checks): the task stops.
    long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (sweep.running()) {
      assertTrue(System.nanoTime() < until, "the check kept running with nothing to watch");
      Thread.sleep(50);
    }
    Probe second = new Probe(TimeUnit.MILLISECONDS.toNanos(5));
    sweep.add(second);
    assertTrue(second.expired.await(5, TimeUnit.SECONDS), "the check did not start again");
  }

  @Test
  void callsOutliveTheirIoThreadAndStillExpireAtTheirDeadlines() throws Exception {
    EventExecutor other = new DefaultEventLoop();
    DeadlineSweep sweep = new DeadlineSweep(other, PERIOD);
    Probe watched = new Probe(TimeUnit.MILLISECONDS.toNanos(300));
    sweep.add(watched);
    Thread.sleep(2 * PERIOD / 1_000_000); // now in the I/O thread's own list
    other.shutdownGracefully(0, 0, TimeUnit.SECONDS).awaitUninterruptibly(3000);
    Probe afterwards = new Probe(TimeUnit.MILLISECONDS.toNanos(100));
    sweep.add(afterwards);
    for (Probe p : new Probe[] {watched, afterwards}) {
      assertTrue(p.expired.await(5, TimeUnit.SECONDS));
      assertTrue(p.expiredAt.get() - p.deadline >= 0, "expired early");
      assertFalse(other.inEventLoop(p.expiredOn));
    }
  }
}
