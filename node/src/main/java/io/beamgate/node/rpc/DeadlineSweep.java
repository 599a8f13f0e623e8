package io.beamgate.node.rpc;

import io.netty.util.concurrent.EventExecutor;
import java.util.ArrayList;
import java.util.Queue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The deadlines of calls in flight on one I/O thread, checked by one task every period instead
 * of a timer per call (a timer costs a delay-queue insert and removal per call, and wakes the
 * timer thread). A call expires at the first check at or after its deadline: never early, and
 * late by at most one period plus the thread's other work of that turn.
 *
 * <p>Calls are added from any thread (a lock-free queue); only the I/O thread walks them, and an
 * answered call is simply dropped at the next check, so an answer costs the sweep nothing. The
 * task runs while calls are watched and stops after a second with none, so an idle node does not
 * wake every period. If the I/O thread stops (the node closes), the calls still expire at their
 * deadlines, on the JDK's timer.
 */
final class DeadlineSweep implements Runnable {
  /** A call with a deadline ({@link System#nanoTime} based). */
  interface Expiring {
    long deadlineNanos();

    /** Answered or failed already: nothing to watch. */
    boolean done();

    /** Fails the call for its timeout (a no-op when it ended meanwhile). */
    void expire();
  }

  private final EventExecutor loop;
  private final long periodNanos;
  private final int idleChecks;
  private final Queue<Expiring> added = new ConcurrentLinkedQueue<>();
  private final ArrayList<Expiring> watched = new ArrayList<>(); // the I/O thread's only
  private final AtomicBoolean running = new AtomicBoolean();
  private int idle;

  DeadlineSweep(EventExecutor loop, long periodNanos) {
    this.loop = loop;
    this.periodNanos = periodNanos;
    this.idleChecks = (int) Math.max(1, TimeUnit.SECONDS.toNanos(1) / periodNanos);
    loop.terminationFuture().addListener(f -> handOver());
  }

  void add(Expiring e) {
    added.offer(e);
    if (!running.get() && running.compareAndSet(false, true)) {
      schedule();
    }
    if (loop.isShuttingDown()) {
      handOver(); // the thread may never run the check: time the calls on the JDK's timer
    }
  }

  /** Is the check scheduled (for tests)? */
  boolean running() {
    return running.get();
  }

  @Override
  public void run() {
    for (Expiring e; (e = added.poll()) != null; ) {
      watched.add(e);
    }
    long now = System.nanoTime();
    int kept = 0;
    for (int i = 0; i < watched.size(); i++) {
      Expiring e = watched.get(i);
      if (e.done()) {
        continue;
      }
      if (now - e.deadlineNanos() >= 0) {
        e.expire(); // may add calls: they wait in `added` for the next check
        continue;
      }
      watched.set(kept++, e);
    }
    watched.subList(kept, watched.size()).clear();
    if (kept > 0) {
      idle = 0;
    } else if (++idle >= idleChecks) {
      idle = 0;
      running.set(false);
      // A call added since the drain above saw the task running and did not start it.
      if (added.isEmpty() || !running.compareAndSet(false, true)) {
        return;
      }
    }
    schedule();
  }

  private void schedule() {
    try {
      loop.schedule(this, periodNanos, TimeUnit.NANOSECONDS);
    } catch (RejectedExecutionException e) {
      handOver();
    }
  }

  /** The I/O thread is stopping: each call left expires at its deadline on the JDK's timer. */
  private synchronized void handOver() {
    if (loop.isTerminated()) {
      // Only now is `watched` no longer the I/O thread's.
      watched.forEach(DeadlineSweep::onJdkTimer);
      watched.clear();
    }
    for (Expiring e; (e = added.poll()) != null; ) {
      onJdkTimer(e);
    }
  }

  private static void onJdkTimer(Expiring e) {
    long left = Math.max(0, e.deadlineNanos() - System.nanoTime());
    CompletableFuture.delayedExecutor(left, TimeUnit.NANOSECONDS).execute(e::expire);
  }
}
