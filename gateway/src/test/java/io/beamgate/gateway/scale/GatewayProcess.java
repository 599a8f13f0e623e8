package io.beamgate.gateway.scale;

import io.beamgate.gateway.server.TestBed;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * {@code beamgate gateway run} of one {@link TestBed} as its own OS process, with its admin
 * listener on {@code adminPort}: what a test of separate gateways starts, reads over HTTP and
 * kills by its PID. Its log goes to {@code gateway.log} in the bed's directory.
 */
final class GatewayProcess implements AutoCloseable {
  final TestBed bed;
  final int port;
  final int adminPort;
  final Path log;
  private final Process process;

  private GatewayProcess(TestBed bed, int port, int adminPort, Process process) {
    this.bed = bed;
    this.port = port;
    this.adminPort = adminPort;
    this.log = bed.dir.resolve("gateway.log");
    this.process = process;
  }

  /** Starts the gateway of {@code bed}, whose config listens on {@code port}. */
  static GatewayProcess start(TestBed bed, int port, int adminPort) throws IOException {
    ProcessBuilder pb = TestBed.gatewayRun("--config", bed.config.toString(),
        "--backend-wait", "20000")
        .redirectError(bed.dir.resolve("gateway.log").toFile());
    // Three JVMs start at once on a shared machine: the client JIT and a serial collector
    // start faster and take less memory, and the load here is small.
    pb.environment().put("JAVA_TOOL_OPTIONS",
        "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC -Xmx256m");
    return new GatewayProcess(bed, port, adminPort, pb.start());
  }

  long pid() {
    return process.pid();
  }

  boolean isAlive() {
    return process.isAlive();
  }

  String metrics() {
    return AdminScrape.metrics(adminPort);
  }

  double sample(String metric, String... labels) {
    return AdminScrape.sample(metrics(), metric, labels);
  }

  /** Waits until /ready answers 200 and the gateway counts {@code gateways} in its group. */
  void awaitGroup(int gateways, long deadlineNanos) throws Exception {
    while (true) {
      var r = AdminScrape.get(adminPort, "/ready");
      if (r != null && r.statusCode() == 200
          && sample("beamgate_scale_gateways") == gateways) {
        return;
      }
      if (!process.isAlive() || System.nanoTime() > deadlineNanos) {
        throw new AssertionError("gateway " + pid() + " (alive: " + process.isAlive()
            + ") did not count " + gateways + " gateways up in time; /ready: "
            + (r == null ? "no answer" : r.statusCode() + " " + r.body())
            + "; beamgate_scale_gateways " + sample("beamgate_scale_gateways")
            + "; log:\n" + logTail());
      }
      Thread.sleep(100);
    }
  }

  String logTail() {
    try {
      List<String> lines = Files.readAllLines(log, StandardCharsets.UTF_8);
      return String.join("\n", lines.subList(Math.max(0, lines.size() - 30), lines.size()));
    } catch (IOException e) {
      return "(no log: " + e.getMessage() + ")";
    }
  }

  /** SIGKILL, as a crash or an OOM killer would: no drain, no goodbye to anyone. */
  void kill() throws InterruptedException {
    process.toHandle().destroyForcibly();
    process.waitFor(10, TimeUnit.SECONDS);
  }

  @Override
  public void close() throws InterruptedException {
    if (process.isAlive()) {
      kill();
    }
  }
}
