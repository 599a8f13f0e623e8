package io.beamgate.node.rpc;

import io.beamgate.node.term.Atom;
import io.beamgate.node.term.Term;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.util.concurrent.EventExecutor;
import java.lang.management.ManagementFactory;
import java.util.ArrayDeque;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * What the timeout of one RpcClient call costs, answer included, in the whole process's CPU time
 * (every thread's: the JDK timer thread's work and the sweep's checks count): a timer per call
 * ({@code CompletableFuture.orTimeout}, as RpcClient did before session 6) against the deadline
 * sweep on an I/O thread. Calls are made and answered on an I/O thread, as the gateway does,
 * one at a time and 64 in flight; the sweep runs on a second I/O thread. In RpcClient's package to reach the (internal) sweep.
 * {@code java -cp ... io.beamgate.node.rpc.TimeoutCost}
 */
public final class TimeoutCost {
  private TimeoutCost() {}

  static long sink;

  public static void main(String[] args) throws Exception {
    // Calls made on one I/O thread, their sweep on another (the backend connection's), so the
    // checks run while calls are made, as in the gateway.
    MultiThreadIoEventLoopGroup group = new MultiThreadIoEventLoopGroup(2,
        NioIoHandler.newFactory());
    EventExecutor loop = group.next();
    DeadlineSweep sweep = new DeadlineSweep(group.next(), TimeUnit.MILLISECONDS.toNanos(20));
    try {
      for (int inFlight : new int[] {1, 64}) {
        double[] timer = {Double.MAX_VALUE, Double.MAX_VALUE};
        double[] swept = {Double.MAX_VALUE, Double.MAX_VALUE};
        for (int block = 0; block < 14; block++) {
          double[] t = loop.submit(() -> run(inFlight, null)).get();
          double[] s = loop.submit(() -> run(inFlight, sweep)).get();
          if (block >= 4) { // JIT warm-up
            timer[0] = Math.min(timer[0], t[0]);
            timer[1] = Math.min(timer[1], t[1]);
            swept[0] = Math.min(swept[0], s[0]);
            swept[1] = Math.min(swept[1], s[1]);
          }
        }
        System.out.printf(Locale.ROOT, "%2d in flight: timer per call %7.1f ns CPU/call"
            + " (%7.1f ns wall), sweep %7.1f ns CPU/call (%7.1f ns wall)%n", inFlight,
            timer[0], timer[1], swept[0], swept[1]);
      }
    } finally {
      group.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly(3000);
    }
  }

  /** {CPU ns of all threads, wall ns} per call over a block of calls, each answered on this thread. */
  static double[] run(int inFlight, DeadlineSweep sweep) {
    int n = 300_000;
    ArrayDeque<CompletableFuture<Term>> open = new ArrayDeque<>(inFlight);
    long c0 = allThreadsCpu();
    long w0 = System.nanoTime();
    for (int i = 0; i < n; i++) {
      open.add(sweep == null ? withTimer() : withSweep(sweep));
      if (open.size() >= inFlight) {
        open.poll().complete(Atom.OK); // the answer
      }
    }
    open.forEach(f -> f.complete(Atom.OK));
    long w1 = System.nanoTime();
    long c1 = allThreadsCpu();
    return new double[] {(c1 - c0) / (double) n, (w1 - w0) / (double) n};
  }

  /**
   * The CPU time of every thread of this JVM, in ns: the process's own figure moves in 10 ms
   * ticks, too coarse for blocks of a few ms of work.
   */
  static long allThreadsCpu() {
    java.lang.management.ThreadMXBean mx = ManagementFactory.getThreadMXBean();
    long sum = 0;
    for (long id : mx.getAllThreadIds()) {
      long t = mx.getThreadCpuTime(id);
      sum += Math.max(0, t);
    }
    return sum;
  }

  /** Before: RpcClient.callAsync's timeout as it was (orTimeout, then the typed error). */
  static CompletableFuture<Term> withTimer() {
    CompletableFuture<Term> f = new CompletableFuture<>();
    CompletableFuture<Term> out = f.orTimeout(5_000, TimeUnit.MILLISECONDS)
        .exceptionallyCompose(e -> {
          Throwable cause = e instanceof CompletionException && e.getCause() != null
              ? e.getCause() : e;
          if (cause instanceof TimeoutException) {
            return CompletableFuture.failedFuture(new RpcException(RpcException.Kind.TIMEOUT,
                Atom.of("timeout"), "no answer within 5000 ms"));
          }
          return CompletableFuture.failedFuture(cause);
        });
    sink += out.hashCode();
    return f;
  }

  /** After: the call's deadline on the I/O thread's sweep. */
  static CompletableFuture<Term> withSweep(DeadlineSweep sweep) {
    CompletableFuture<Term> f = new CompletableFuture<>();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
    sweep.add(new DeadlineSweep.Expiring() {
      @Override
      public long deadlineNanos() {
        return deadline;
      }

      @Override
      public boolean done() {
        return f.isDone();
      }

      @Override
      public void expire() {
        f.completeExceptionally(new RpcException(RpcException.Kind.TIMEOUT, Atom.of("timeout"),
            "no answer within 5000 ms"));
      }
    });
    return f;
  }
}
