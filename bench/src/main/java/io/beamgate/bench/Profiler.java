package io.beamgate.bench;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * async-profiler (tools.profiler:async-profiler, whose jar carries the native library) on the
 * gateway JVMs, for {@code --profile cpu|wall}: each gateway starts with the agent, samples the
 * whole run with native frames (TLS, system calls, the JVM) and writes collapsed stacks when it
 * exits (the harness then stops it with SIGTERM instead of SIGKILL). Summaries:
 * {@code bench/run.sh}'s caller folds them with any flame-graph tool, or reads the top frames.
 */
final class Profiler {
  private Profiler() {}

  /** "cpu" or "wall", or null when not profiling. */
  static volatile String mode;
  /** Where the collapsed stacks go. */
  static volatile Path outDir;

  /** The JVM arguments that profile a gateway named {@code name}, or none. */
  static List<String> jvmArgs(String name) throws IOException {
    if (mode == null) {
      return List.of();
    }
    Files.createDirectories(outDir);
    Path lib = outDir.resolve("libasyncProfiler.so");
    if (!Files.exists(lib)) {
      String arch = System.getProperty("os.arch").contains("aarch64") ? "linux-arm64"
          : "linux-x64";
      try (InputStream in = Profiler.class.getResourceAsStream("/" + arch
          + "/libasyncProfiler.so")) {
        if (in == null) {
          throw new IOException("async-profiler's " + arch + " library is not on the class path"
              + " (expected: tools.profiler:async-profiler in bench/pom.xml)");
        }
        Files.copy(in, lib, StandardCopyOption.REPLACE_EXISTING);
      }
    }
    Path out = outDir.resolve(name + "-" + mode + ".collapsed").toAbsolutePath();
    // cpu: perf events where the kernel allows them, else async-profiler's own timer;
    // wall: every thread sampled, running or not (where the calls wait)
    String event = mode.equals("wall") ? "wall,interval=2ms" : "cpu,interval=1ms";
    return List.of("-agentpath:" + lib.toAbsolutePath() + "=start,event=" + event
        + ",threads,collapsed,file=" + out);
  }

  /** Stops a profiled JVM so that it writes its profile (SIGTERM), else kills it. */
  static void stop(Process p) {
    if (mode == null) {
      Harness.kill(p);
      return;
    }
    p.destroy();
    try {
      if (!p.waitFor(20, TimeUnit.SECONDS)) {
        Harness.kill(p);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      Harness.kill(p);
    }
  }
}
