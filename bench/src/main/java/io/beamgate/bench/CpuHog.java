package io.beamgate.bench;

import java.io.IOException;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A fixed CPU hog for the harness's contention mode: a separate JVM (so that its CPU time never
 * counts as the client's) running one busy thread per core at normal priority, as a neighbour
 * on a shared host or a small VM would. The harness starts it, measures, and stops it by PID.
 */
final class CpuHog implements AutoCloseable {
  private final Process process;
  private final int threads;

  private CpuHog(Process process, int threads) {
    this.process = process;
    this.threads = threads;
  }

  /** Starts the hog with {@code threads} busy threads and waits until they spin. */
  static CpuHog start(int threads) throws IOException, InterruptedException {
    String java = ProcessHandle.current().info().command().orElse("java");
    Process p = new ProcessBuilder(List.of(java, "-Xmx32m", "-cp",
        System.getProperty("java.class.path"), CpuHog.class.getName(),
        Integer.toString(threads))).redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
    TimeUnit.MILLISECONDS.sleep(500); // its JVM up and the threads spinning
    if (!p.isAlive()) {
      throw new IOException("the CPU hog exited at once (exit " + p.exitValue() + ")");
    }
    return new CpuHog(p, threads);
  }

  @Override
  public String toString() {
    return "CPU hog PID " + process.pid() + ", " + threads + " busy thread(s)";
  }

  @Override
  public void close() {
    Harness.kill(process);
  }

  /** The hog itself: {@code args[0]} threads that spin until the process is killed. */
  public static void main(String[] args) {
    int n = Integer.parseInt(args[0]);
    for (int i = 0; i < n; i++) {
      Thread t = new Thread(CpuHog::spin, "hog-" + i);
      t.start();
    }
  }

  private static volatile long sink;

  private static void spin() {
    long x = 1;
    while (true) {
      for (int i = 0; i < 1_000_000; i++) {
        x = x * 6364136223846793005L + 1442695040888963407L;
      }
      sink = x; // keeps the loop from being optimised away
    }
  }
}
