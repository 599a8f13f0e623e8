package io.beamgate.bench;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The gateway path of Issue 5 §6 — client → mTLS → gateway → distribution → erl — as the
 * harness plugs it in: {@code beamgate gateway run} in its own JVM (so its memory and file
 * descriptors are its own) in front of the run's plain-distribution erl node, with the run's
 * {@link BenchPki} and a policy that allows exactly the benchmarked function. It gives the
 * harness a {@link Harness.Client} calling through it (measured like every other client), its
 * listener as a {@link Handshakes.TlsTarget} (the same s_time load as openssl s_server) and its
 * PID for the idle-connection scenario.
 */
final class GatewayPath implements AutoCloseable {
  /** The erl node the gateway forwards to (plain distribution), as the other clients call it. */
  record Backend(String node, int epmdPort, String cookie) {}

  /** The principal of the bench client certificate (its URI SAN), named by the policy. */
  static final String PRINCIPAL = "spiffe://beamgate-bench/client";

  private final Process process;
  private final Handshakes.TlsTarget listener;
  private final String tlsProvider;
  private final Path logFile;

  private GatewayPath(Process process, Handshakes.TlsTarget listener, String tlsProvider,
      Path logFile) {
    this.process = process;
    this.listener = listener;
    this.tlsProvider = tlsProvider;
    this.logFile = logFile;
  }

  /** Why the gateway cannot run from {@code jar}, or null when it can. */
  static String unavailable(Path jar) {
    return Files.isRegularFile(jar) ? null : "no gateway build at " + jar
        + " (bench/run.sh builds it: mvn -B -q -Pbench package -DskipTests)";
  }

  /**
   * Writes the configuration, policy and cookie under {@code dir} and starts {@code java -jar
   * JAR gateway run --config FILE}, waiting until it listens. Limits are set so that they do not
   * bound the figures (the limiter, guard, policy and audit code all still run on every call).
   */
  static GatewayPath start(Backend backend, BenchPki pki, Path dir, Path jar, String nodeName)
      throws Exception {
    Files.createDirectories(dir);
    Path cookie = dir.resolve("cookie");
    Files.writeString(cookie, backend.cookie(), StandardCharsets.US_ASCII);
    Files.setPosixFilePermissions(cookie, PosixFilePermissions.fromString("rw-------"));
    Files.writeString(dir.resolve("policy.yaml"), """
        version: 1
        rules:
          - id: bench
            principals: ["uri:%s"]
            calls: ["erlang:element/2"]
            limits: {rate_per_second: 1000000000, concurrency: 100000, timeout_ms: 60000,
                     max_arg_bytes: 4194304, max_result_bytes: 4194304}
        """.formatted(PRINCIPAL));
    int port = Handshakes.freePort();
    Path config = dir.resolve("gateway.yaml");
    Files.writeString(config, """
        version: 1
        listen: {address: 127.0.0.1, port: %d}
        tls:
          certificate: %s
          key: %s
          client_cas: %s
        cluster:
          node_name: %s
          cookie_file: cookie
          listen_address: 127.0.0.1
          epmd_port: %d
          backends: [%s]
          io_threads: %d
          io_affinity: %s
        limits: {max_connections: 30000, max_in_flight: 100000, max_in_flight_per_connection: 1024,
                 max_frame_bytes: 4194304, idle_timeout_ms: 3600000}
        policy: policy.yaml
        audit: audit.jsonl
        reload: {watch_interval_ms: 0, admin_socket: admin.sock}
        """.formatted(port, pki.server().cert().toAbsolutePath(),
        pki.server().key().toAbsolutePath(), pki.caFile().toAbsolutePath(), nodeName,
        backend.epmdPort(), backend.node(), Integer.getInteger("bench.gateway.io_threads", 0),
        System.getProperty("bench.gateway.io_affinity", "backend")));
    Path log = dir.resolve("gateway.log");
    Process p = run(jar, config, log, "beamgate gateway listening on");
    try {
      String text = Files.readString(log);
      Matcher m = Pattern.compile("TLS provider: ([^\\n]*)").matcher(text);
      String provider = m.find() ? m.group(1).strip() : "not logged";
      return new GatewayPath(p, new Handshakes.TlsTarget("gateway", "127.0.0.1", port,
          pki.client()), provider, log);
    } catch (Exception e) {
      Harness.kill(p);
      throw e;
    }
  }

  /**
   * Starts {@code java -jar JAR gateway run --config CONFIG} (and {@code extra} arguments),
   * its output in {@code log}, and waits up to a minute for {@code ready} to appear there;
   * kills it and throws, with the log, when it exits or does not get ready.
   */
  static Process run(Path jar, Path config, Path log, String ready, String... extra)
      throws Exception {
    String java = ProcessHandle.current().info().command().orElse("java");
    List<String> cmd = new ArrayList<>(List.of(java, "-Xmx1g"));
    cmd.addAll(Profiler.jvmArgs(config.getParent().getFileName().toString()));
    // Extra JVM options for the gateways (JIT or GC experiments), space-separated.
    String extraJvm = System.getProperty("bench.gateway.jvmArgs", "").trim();
    if (!extraJvm.isEmpty()) {
      cmd.addAll(List.of(extraJvm.split("\\s+")));
    }
    cmd.addAll(List.of("-jar", jar.toAbsolutePath().toString(), "gateway", "run", "--config",
        config.toString()));
    cmd.addAll(List.of(extra));
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile())
        .start();
    try {
      long deadline = System.nanoTime() + 60_000_000_000L;
      while (!Files.readString(log).contains(ready)) {
        if (!p.isAlive() || System.nanoTime() > deadline) {
          throw new IOException("beamgate gateway run (" + config + ") did not get ready"
              + " (exit " + (p.isAlive() ? "none" : p.exitValue()) + "): "
              + Files.readString(log));
        }
        Thread.sleep(100);
      }
      return p;
    } catch (Exception e) {
      Harness.kill(p);
      throw e;
    }
  }

  /**
   * Calls through the gateway with the Java client library, named "gateway" in the report:
   * blocking when sequential, otherwise {@code conc} futures in flight on one connection.
   */
  Harness.Client client() {
    BenchPki.CertFiles files = listener.client();
    return new Harness.Client() {
      private boolean warmed;

      @Override
      public String name() {
        return "gateway";
      }

      @Override
      public Harness.Result run(int conc, int size, int seconds) throws Exception {
        io.beamgate.client.ClientConfig cfg = io.beamgate.client.ClientConfig.builder()
            .host("localhost").port(listener.port())
            .tls(files.cert(), files.key(), files.ca())
            .maxFrameBytes(4 << 20).maxInFlight(Math.max(conc, 1))
            .callTimeout(java.time.Duration.ofSeconds(60)).build();
        try (io.beamgate.client.BeamgateClient c =
            io.beamgate.client.BeamgateClient.connect(cfg)) {
          byte[] payload = new byte[size];
          java.util.Arrays.fill(payload, (byte) 'x');
          java.util.List<io.beamgate.node.term.Term> args = java.util.List.of(
              io.beamgate.node.term.Int.of(1),
              io.beamgate.node.term.Tuple.of(io.beamgate.node.term.Binary.wrap(payload)));
          // The gateway is a long-running server in its own JVM: the first time, give its JIT
          // a few seconds of calls (in flight, to reach every path) before anything counts.
          if (!warmed) {
            warmed = true;
            Harness.measureAsync("gateway-warm-up", 16, size, 4,
                () -> c.call("erlang", "element", args), v -> Harness.check(v, size));
          }
          if (conc == 1) {
            return Harness.measure("gateway", 1, size, seconds, () -> () -> Harness.check(
                c.blocking().call("erlang", "element", args), size));
          }
          long warmEnd = System.nanoTime() + 500_000_000L;
          while (System.nanoTime() < warmEnd) {
            c.blocking().call("erlang", "element", args);
          }
          return Harness.measureAsync("gateway", conc, size, seconds,
              () -> c.call("erlang", "element", args), v -> Harness.check(v, size));
        }
      }
    };
  }

  /** The gateway's mTLS listener and the client files it accepts. */
  Handshakes.TlsTarget listener() {
    return listener;
  }

  /** The gateway's JVM. */
  long pid() {
    return process.pid();
  }

  /** What the gateway logged as its TLS implementation. */
  String tlsProvider() {
    return tlsProvider;
  }

  Path logFile() {
    return logFile;
  }

  @Override
  public void close() {
    Profiler.stop(process);
  }
}
