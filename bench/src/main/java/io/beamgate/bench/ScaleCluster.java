package io.beamgate.bench;

import io.beamgate.certs.DevCa;
import io.beamgate.certs.HeldCertificate;
import io.beamgate.node.LocalNode;
import io.beamgate.node.NodeConfig;
import io.beamgate.node.NodeName;
import io.beamgate.node.rpc.Rpc;
import io.beamgate.node.term.Term;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * The processes of the scale scenario: two erl backends running {@code scale_bench}
 * (bench/erl/scale_bench.erl) and up to three {@code beamgate gateway run} JVMs in front of
 * both, each with its own configuration, port and node name, all in one {@code scale} group
 * so that they share the rules' limits through the backends. Two client certificates: one
 * whose rule is marked idempotent, one whose rule is not. Every process is started here and
 * killed by its PID in {@link #close} (also from a shutdown hook, should the harness be
 * interrupted).
 */
final class ScaleCluster implements AutoCloseable {
  static final String COOKIE = "beamgate_scale";
  static final String IDEMPOTENT = "spiffe://beamgate-bench/scale-idempotent";
  static final String ONCE = "spiffe://beamgate-bench/scale-once";
  static final int GATEWAYS = 3;

  /** A certificate chain and its key (PEM), and the CA file to trust. */
  record Cert(Path cert, Path key, Path ca) {}

  final Path dir;
  final Path jar;
  final int epmdPort;
  final String host = NodeName.shortHostName();
  final long pid = ProcessHandle.current().pid();
  final List<String> backends = new ArrayList<>();
  final Process[] backendProcesses = new Process[2];
  final Process[] gateways = new Process[GATEWAYS];
  final int[] ports = new int[GATEWAYS];
  final Cert server;
  final Cert idempotentClient;
  final Cert onceClient;
  private final Thread hook = new Thread(this::interrupted, "scale-cluster-cleanup");
  private LocalNode control;

  ScaleCluster(Path dir, Path jar, int epmdPort) throws Exception {
    this.dir = dir;
    this.jar = jar.toAbsolutePath();
    this.epmdPort = epmdPort;
    Runtime.getRuntime().addShutdownHook(hook);
    Path pki = dir.resolve("pki");
    DevCa ca = DevCa.init(pki.resolve("ca"), "beamgate scale bench CA", Duration.ofDays(2),
        false);
    Path caFile = ca.dir().resolve(DevCa.CERT);
    server = write(pki.resolve("server"), caFile, ca.issue(HeldCertificate.builder()
        .commonName("beamgate-scale-server").dns("localhost").ip("127.0.0.1").serverAuth()
        .validity(Duration.ofDays(1))));
    idempotentClient = write(pki.resolve("idem"), caFile, ca.issue(HeldCertificate.builder()
        .commonName("beamgate-scale-idempotent").uri(IDEMPOTENT).clientAuth()
        .validity(Duration.ofDays(1))));
    onceClient = write(pki.resolve("once"), caFile, ca.issue(HeldCertificate.builder()
        .commonName("beamgate-scale-once").uri(ONCE).clientAuth()
        .validity(Duration.ofDays(1))));
    for (int i = 0; i < GATEWAYS; i++) {
      ports[i] = Handshakes.freePort();
    }
  }

  private static Cert write(Path d, Path caFile, HeldCertificate c) throws IOException {
    Files.createDirectories(d);
    c.writeTo(d.resolve("cert.pem"), d.resolve("key.pem"));
    return new Cert(d.resolve("cert.pem"), d.resolve("key.pem"), caFile);
  }

  /** Compiles scale_bench and starts both backends, each with its counting table. */
  void startBackends() throws Exception {
    Process erlc = new ProcessBuilder("erlc", "-o", dir.toString(), "bench/erl/scale_bench.erl")
        .inheritIO().start();
    if (erlc.waitFor() != 0) {
      throw new IOException("erlc bench/erl/scale_bench.erl failed");
    }
    for (int i = 0; i < 2; i++) {
      String alive = "bgs_be" + (i + 1) + "_" + pid;
      backendProcesses[i] = Harness.erlWithCookie(epmdPort, dir, COOKIE, "-sname", alive,
          "-noshell", "-eval", "scale_bench:start().");
      backends.add(alive + "@" + host);
    }
    for (String b : backends) {
      Harness.awaitRegistered(epmdPort, b.substring(0, b.indexOf('@')));
    }
    control = LocalNode.startClient(NodeConfig.builder("bgs_ctl_" + pid).cookie(COOKIE)
        .epmdPort(epmdPort).build());
    for (String b : backends) {
      awaitTable(b);
    }
  }

  /** {@code -eval} runs after registration: wait until the counting table answers. */
  private void awaitTable(String backend) throws Exception {
    long end = System.nanoTime() + 30_000_000_000L;
    while (true) {
      try {
        rpc(backend, "summary");
        return;
      } catch (Exception e) {
        if (System.nanoTime() > end) {
          throw new IOException(backend + ": scale_bench never started: " + e.getMessage(), e);
        }
        Thread.sleep(100);
      }
    }
  }

  Term rpc(String backend, String function) throws Exception {
    return Rpc.call(control, backend, "scale_bench", function, List.of(),
        Duration.ofSeconds(60));
  }

  /** Empties both backends' counting tables. */
  void resetCounts() throws Exception {
    for (String b : backends) {
      rpc(b, "reset");
    }
  }

  /** Gateway {@code i}'s node name. */
  String gatewayNode(int i) {
    return "bgs_gw" + (i + 1) + "_" + pid + "@" + host;
  }

  /** Writes gateway {@code i}'s files (once) and starts it; waits until it listens. */
  void startGateway(int i) throws Exception {
    Path d = dir.resolve("gw" + (i + 1));
    Path cfg = d.resolve("gateway.yaml");
    if (!Files.exists(cfg)) {
      Files.createDirectories(d);
      Path cookie = d.resolve("cookie");
      Files.writeString(cookie, COOKIE, StandardCharsets.US_ASCII);
      Files.setPosixFilePermissions(cookie, PosixFilePermissions.fromString("rw-------"));
      // Limits far above the load (the limiter and the shared-limit code still run per call).
      Files.writeString(d.resolve("policy.yaml"), """
          version: 1
          rules:
            - id: bench
              principals: ["uri:%s"]
              calls: ["erlang:element/2", "scale_bench:once/2"]
              limits: {rate_per_second: 1000000000, concurrency: 100000, timeout_ms: 60000}
            - id: bench-idempotent
              principals: ["uri:%s"]
              calls: ["erlang:element/2", "scale_bench:idem/2"]
              idempotent: true
              limits: {rate_per_second: 1000000000, concurrency: 100000, timeout_ms: 60000}
          """.formatted(ONCE, IDEMPOTENT));
      Files.writeString(cfg, """
          version: 1
          listen: {address: 127.0.0.1, port: %d}
          tls: {certificate: %s, key: %s, client_cas: %s}
          cluster:
            node_name: %s
            cookie_file: cookie
            listen_address: 127.0.0.1
            epmd_port: %d
            backends: [%s]
          scale: {group: bench_%d, poll_ms: 500}
          limits: {max_connections: 1000, max_in_flight: 100000,
                   max_in_flight_per_connection: 1024, idle_timeout_ms: 3600000}
          policy: policy.yaml
          audit: audit.jsonl
          reload: {watch_interval_ms: 0, admin_socket: admin.sock}
          """.formatted(ports[i], server.cert(), server.key(), server.ca(), gatewayNode(i),
          epmdPort, String.join(", ", backends), pid));
    }
    Path log = d.resolve("gateway.log");
    Files.deleteIfExists(log);
    gateways[i] = GatewayPath.run(jar, cfg, log, "beamgate gateway listening on",
        "--backend-wait", "30");
  }

  /** {@code HOST:PORT} of the first {@code n} gateways. */
  List<String> addresses(int n) {
    List<String> a = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      a.add("localhost:" + ports[i]);
    }
    return a;
  }

  /** Sends {@code sig} (KILL, STOP, CONT) to gateway {@code i}'s JVM by its PID. */
  void signal(int i, String sig) throws Exception {
    int rc = new ProcessBuilder("kill", "-" + sig, Long.toString(gateways[i].pid()))
        .inheritIO().start().waitFor();
    if (rc != 0) {
      throw new IOException("kill -" + sig + " " + gateways[i].pid() + ": exit " + rc);
    }
  }

  /** Kills gateway {@code i} (continued first, should it be stopped) and waits for it. */
  void killGateway(int i) {
    Process p = gateways[i];
    if (p != null && p.isAlive()) {
      try {
        signal(i, "CONT");
      } catch (Exception e) {
        // killed next anyway
      }
      Harness.kill(p);
    }
  }

  /** On an interrupted run: the processes, then the run's keys and files. */
  private void interrupted() {
    killAll();
    Harness.deleteTree(dir);
  }

  private void killAll() {
    for (int i = 0; i < GATEWAYS; i++) {
      killGateway(i);
    }
    for (Process b : backendProcesses) {
      if (b != null) {
        Harness.kill(b);
      }
    }
  }

  @Override
  public void close() {
    if (control != null) {
      control.close();
    }
    killAll();
    try {
      Runtime.getRuntime().removeShutdownHook(hook);
    } catch (IllegalStateException e) {
      // already shutting down: the hook runs anyway
    }
  }
}
