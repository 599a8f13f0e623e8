package io.beamgate.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * CPU time of the processes on a call's path, read from outside (per thread, from
 * {@code /proc/PID/task/TID/schedstat}: user plus system, in nanoseconds) before and after a
 * measured window. On a shared
 * machine this is the figure that does not move with the neighbours: a busy neighbour slows
 * the calls down but does not add to their CPU time.
 */
final class Cpu {
  private Cpu() {}

  /** The process roles, in the report's column order. */
  static final String CLIENT_JVM = "client JVM";
  static final String ERL_CLIENT = "erl client";
  static final String GATEWAY_A = "gateway A";
  static final String GATEWAY_B = "gateway B";
  static final String ERL_SERVER = "erl server";
  static final String[] ROLES = {CLIENT_JVM, ERL_CLIENT, GATEWAY_A, GATEWAY_B, ERL_SERVER};

  private static final long SELF = ProcessHandle.current().pid();

  /**
   * One process's CPU time at an instant: per thread (on-CPU nanoseconds from
   * {@code /proc/PID/task/TID/schedstat}, exact where {@code stat}'s ticks are 10 ms), with the
   * JIT compiler threads apart; for this JVM also the whole process's time, exited threads
   * included (its measuring threads end inside the window).
   */
  record Sample(long processNs, Map<Long, Long> threads, Map<Long, Long> jit, long writes) {}

  /**
   * The write system calls {@code pid} has made ({@code syscw} in {@code /proc/PID/io}: write,
   * writev, sendmsg and the like), or -1: a count that does not move with the machine's load.
   */
  static long writeCalls(long pid) {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/io"))) {
        if (line.startsWith("syscw:")) {
          return Long.parseLong(line.substring(6).strip());
        }
      }
    } catch (IOException | RuntimeException e) {
      // not readable
    }
    return -1;
  }

  /** Reads {@code pid}'s sample (empty maps when it is gone). */
  static Sample sample(long pid) {
    Map<Long, Long> threads = new java.util.HashMap<>();
    Map<Long, Long> jit = new java.util.HashMap<>();
    try (java.util.stream.Stream<Path> tasks = Files.list(Path.of("/proc/" + pid + "/task"))) {
      for (Path t : (Iterable<Path>) tasks::iterator) {
        try {
          long tid = Long.parseLong(t.getFileName().toString());
          long ns = Long.parseLong(Files.readString(t.resolve("schedstat")).split(" ")[0]);
          String comm = Files.readString(t.resolve("comm")).strip();
          (isJit(comm) ? jit : threads).put(tid, ns);
        } catch (IOException | RuntimeException e) {
          // the thread ended while being read: its time is not in this sample
        }
      }
    } catch (IOException e) {
      // the process is gone
    }
    long processNs = -1;
    if (pid == SELF && java.lang.management.ManagementFactory.getOperatingSystemMXBean()
        instanceof com.sun.management.OperatingSystemMXBean os) {
      processNs = os.getProcessCpuTime();
    }
    return new Sample(processNs, threads, jit, writeCalls(pid));
  }

  /**
   * HotSpot's JIT compiler threads: their work is warm-up, not a cost per call (the gateways
   * are warmed up before anything counts), and on a 2 s window it would swamp the figure.
   */
  static boolean isJit(String comm) {
    return comm.startsWith("C1 CompilerThre") || comm.startsWith("C2 CompilerThre");
  }

  /** CPU nanoseconds between two samples of one process, the JIT's left out. */
  static long deltaNs(Sample before, Sample after) {
    long jit = threadDelta(before.jit(), after.jit());
    if (before.processNs() >= 0 && after.processNs() >= 0) {
      return after.processNs() - before.processNs() - jit;
    }
    return threadDelta(before.threads(), after.threads());
  }

  /** The JIT compiler threads' CPU nanoseconds between two samples of one process. */
  static long jitNs(Sample before, Sample after) {
    return threadDelta(before.jit(), after.jit());
  }

  /** Per thread: its time after minus before (a thread started in between counts whole). */
  private static long threadDelta(Map<Long, Long> before, Map<Long, Long> after) {
    long sum = 0;
    for (Map.Entry<Long, Long> e : after.entrySet()) {
      sum += e.getValue() - before.getOrDefault(e.getKey(), 0L);
    }
    return sum;
  }

  /** A snapshot of every role's CPU time. */
  static Map<String, Sample> snapshot(Map<String, Long> pids) {
    Map<String, Sample> m = new LinkedHashMap<>();
    pids.forEach((role, pid) -> m.put(role, sample(pid)));
    return m;
  }

  /** CPU-µs per call of each role between two snapshots, in {@link #ROLES} order. */
  static Map<String, Double> perCall(Map<String, Sample> before, Map<String, Sample> after,
      long calls) {
    Map<String, Double> m = new LinkedHashMap<>();
    for (String role : ROLES) {
      Sample b = before.get(role);
      Sample a = after.get(role);
      if (b != null && a != null && calls > 0) {
        m.put(role, deltaNs(b, a) / 1000.0 / calls);
      }
    }
    return m;
  }

  /** How long each measured window is preceded by a quiet one, to read the idle CPU. */
  static final long IDLE_MILLIS = 1000;

  /**
   * A measured window: a quiet second first (no calls: what the processes burn anyway, timers,
   * ticks, GC), then the calls. {@link #close} gives the CPU per call of each process, and the
   * part of it the processes would have burnt idle over the same time (spread over the calls).
   */
  static final class Window {
    private final Map<String, Long> pids;
    private final Map<String, Sample> idleStart;
    private final Map<String, Sample> start;
    private final long idleNanos;
    private final long startNanos;
    private long endNanos;

    private Window(Map<String, Long> pids) throws InterruptedException {
      this.pids = pids;
      long t0 = System.nanoTime();
      idleStart = snapshot(pids);
      Thread.sleep(pids.isEmpty() ? 0 : IDLE_MILLIS);
      start = snapshot(pids);
      startNanos = System.nanoTime();
      idleNanos = startNanos - t0;
    }

    static Window open(Map<String, Long> pids) throws InterruptedException {
      return new Window(pids);
    }

    /** Per process, the CPU-µs per call over the window. */
    Map<String, Double> perCall(Map<String, Sample> end, long calls) {
      return Cpu.perCall(start, end, calls);
    }

    /** The idle CPU of all the processes over the window's length, per call, in µs. */
    double idlePerCall(long calls) {
      long window = (endNanos == 0 ? System.nanoTime() : endNanos) - startNanos;
      double idleNs = 0;
      for (String role : pids.keySet()) {
        // never below zero: JIT work during the quiet second can make a JVM's non-JIT part
        // read slightly negative
        idleNs += Math.max(0, deltaNs(idleStart.get(role), start.get(role)));
      }
      return calls == 0 || idleNanos == 0 ? 0 : idleNs * window / idleNanos / 1000.0 / calls;
    }

    /** Per process, the write system calls per call over the window (where readable). */
    Map<String, Double> writesPerCall(Map<String, Sample> end, long calls) {
      Map<String, Double> m = new LinkedHashMap<>();
      for (String role : ROLES) {
        Sample b = start.get(role);
        Sample a = end.get(role);
        if (b != null && a != null && b.writes() >= 0 && a.writes() >= 0 && calls > 0) {
          m.put(role, (a.writes() - b.writes()) / (double) calls);
        }
      }
      return m;
    }

    Map<String, Sample> end() {
      endNanos = System.nanoTime();
      return snapshot(pids);
    }
  }

  /** The sum over the roles (the whole path's CPU per call). */
  static double total(Map<String, Double> perCall) {
    return perCall.values().stream().mapToDouble(Double::doubleValue).sum();
  }
}
