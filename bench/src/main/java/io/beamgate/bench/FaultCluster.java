package io.beamgate.bench;

import io.beamgate.certs.DevCa;
import io.beamgate.certs.HeldCertificate;
import io.beamgate.node.NodeName;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * The processes of the fault run: two erl backends on fixed distribution ports, each behind a
 * {@link FaultRelay} (the gateway reaches them only through it), gateway A in its own JVM inside
 * a mount namespace that holds a small tmpfs for its audit file, gateway B bridging to A, and
 * the run's certificates. Every process is started here and killed by its PID.
 */
final class FaultCluster implements AutoCloseable {
  static final String COOKIE = "beamgate_faults";
  static final String COOKIE_B = "beamgate_faults_b";
  static final String PRINCIPAL = "spiffe://beamgate-faults/client";

  /** A certificate chain and key (PEM), and the CA file to trust. */
  record Cert(Path cert, Path key, Path ca) {}

  /** One erl backend: its node name, fixed distribution port, relay and process. */
  static final class Backend {
    final String node;
    final int distPort;
    final FaultRelay relay;
    Process process;

    Backend(String node, int distPort) throws IOException {
      this.node = node;
      this.distPort = distPort;
      this.relay = new FaultRelay(distPort);
    }
  }

  final Path dir;
  final Path jar;
  final long pid = ProcessHandle.current().pid();
  final int epmdPort;
  final Cert server;
  final Cert client;
  final List<Backend> backends = new ArrayList<>();
  final Path ids;
  final Path auditDir;
  final int gatewayPort;
  final String host = NodeName.shortHostName();
  final String standIn;
  /** Gateway B reaches gateway A only through this relay (for the bridge's silent partition). */
  final FaultRelay bridgeRelay;
  Process holder;
  Process gateway;
  Process bridge;

  FaultCluster(Path dir, Path jar, int epmdPort) throws Exception {
    this.dir = dir;
    this.jar = jar;
    this.epmdPort = epmdPort;
    this.ids = dir.resolve("ids.txt");
    this.auditDir = dir.resolve("gw/auditfs");
    this.gatewayPort = freePort();
    this.standIn = "fr_ca_" + pid + "@" + host;
    this.bridgeRelay = new FaultRelay(gatewayPort);
    Path pki = dir.resolve("pki");
    DevCa ca = DevCa.init(pki.resolve("ca"), "beamgate faults CA", Duration.ofDays(2), false);
    Path caFile = ca.dir().resolve(DevCa.CERT);
    server = write(pki.resolve("server"), caFile, ca.issue(HeldCertificate.builder()
        .commonName("beamgate-faults-server").dns(host).dns("localhost").ip("127.0.0.1")
        .serverAuth().validity(Duration.ofDays(1))));
    client = write(pki.resolve("client"), caFile, ca.issue(HeldCertificate.builder()
        .commonName("beamgate-faults-client").uri(PRINCIPAL).clientAuth()
        .validity(Duration.ofDays(1))));
    Files.writeString(ids, "");
    compileBackendModule();
    for (int i = 1; i <= 2; i++) {
      backends.add(new Backend("fr_b" + i + "_" + pid + "@127.0.0.1", freePort()));
    }
  }

  private static Cert write(Path d, Path caFile, HeldCertificate c) throws IOException {
    Files.createDirectories(d);
    c.writeTo(d.resolve("cert.pem"), d.resolve("key.pem"));
    return new Cert(d.resolve("cert.pem"), d.resolve("key.pem"), caFile);
  }

  static int freePort() throws IOException {
    try (java.net.ServerSocket s = new java.net.ServerSocket(0, 1,
        InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }

  /** The backend code: run/2 appends the id and node to ids.txt before doing anything else. */
  private void compileBackendModule() throws Exception {
    Path src = dir.resolve("fr_backend.erl");
    Files.writeString(src, """
        -module(fr_backend).
        -export([run/2, blob/2, bridge_client/4]).
        record(Id) ->
            ok = file:write_file(os:getenv("FR_IDS"),
                [integer_to_binary(Id), $\\s, atom_to_binary(node()), $\\n], [append, raw]).
        run(Id, SleepMs) ->
            record(Id),
            timer:sleep(SleepMs),
            {ok, Id}.
        blob(Id, Size) ->
            record(Id),
            binary:copy(<<"x">>, Size).
        %% A cluster-B client calling through the bridge's stand-in node until EndMs.
        bridge_client(Node, FirstId, Ms, Out) ->
            {ok, Fd} = file:open(Out, [write, raw]),
            End = erlang:monotonic_time(millisecond) + Ms,
            bridge_loop(Node, FirstId, End, Fd).
        bridge_loop(Node, Id, End, Fd) ->
            case erlang:monotonic_time(millisecond) > End of
                true -> file:close(Fd), halt(0);
                false ->
                    R = rpc:call(Node, fr_backend, run, [Id, 0], 5000),
                    T = case R of
                            {ok, Id} -> "ok";
                            {badrpc, X} -> io_lib:format("badrpc ~0p", [X]);
                            X -> io_lib:format("other ~0p", [X])
                        end,
                    ok = file:write(Fd, [integer_to_list(Id), " ", T, "\\n"]),
                    case R of {ok, _} -> timer:sleep(10); _ -> timer:sleep(50) end,
                    bridge_loop(Node, Id + 1, End, Fd)
            end.
        """);
    Process p = new ProcessBuilder("erlc", "-o", dir.toString(), src.toString())
        .inheritIO().start();
    if (p.waitFor() != 0) {
      throw new IOException("erlc fr_backend.erl failed");
    }
  }

  Process erl(String cookie, Path log, List<String> args) throws IOException {
    List<String> cmd = new ArrayList<>(List.of("erl", "-setcookie", cookie, "-start_epmd",
        "false", "-noshell", "-pa", dir.toString()));
    cmd.addAll(args);
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
    pb.environment().put("ERL_EPMD_PORT", Integer.toString(epmdPort));
    pb.environment().put("FR_IDS", ids.toString());
    return pb.start();
  }

  void startBackend(Backend b) throws Exception {
    b.process = erl(COOKIE, dir.resolve(b.node.substring(0, 5) + ".log"), List.of(
        "-name", b.node, "-kernel", "inet_dist_listen_min", Integer.toString(b.distPort),
        "-kernel", "inet_dist_listen_max", Integer.toString(b.distPort),
        "-kernel", "net_ticktime", "10"));
    long end = System.nanoTime() + 30_000_000_000L;
    while (System.nanoTime() < end) {
      try (Socket s = new Socket()) {
        s.connect(new InetSocketAddress("127.0.0.1", b.distPort), 500);
        return;
      } catch (IOException e) {
        Thread.sleep(100);
      }
    }
    throw new IOException(b.node + " did not listen on " + b.distPort);
  }

  /** The mount namespace holding the audit tmpfs: a sleep that outlives gateway restarts. */
  void startAuditHolder(int megabytes) throws Exception {
    Files.createDirectories(auditDir);
    holder = new ProcessBuilder("unshare", "-m", "--propagation", "private", "sh", "-c",
        "mount -t tmpfs -o size=" + megabytes + "m tmpfs " + auditDir + " && exec sleep 100000")
        .redirectErrorStream(true).redirectOutput(dir.resolve("holder.log").toFile()).start();
    long end = System.nanoTime() + 10_000_000_000L;
    while (!Files.readString(Path.of("/proc/" + holder.pid() + "/comm")).strip()
        .equals("sleep")) {
      if (!holder.isAlive() || System.nanoTime() > end) {
        throw new IOException("cannot mount a tmpfs in a mount namespace: "
            + Files.readString(dir.resolve("holder.log")));
      }
      Thread.sleep(50);
    }
  }

  /** The audit file as gateway A sees it (inside the holder's namespace). */
  Path auditFile() {
    return Path.of("/proc/" + holder.pid() + "/root" + auditDir + "/audit.jsonl");
  }

  /** Runs {@code cmd} inside the audit namespace and returns its exit code. */
  int inAuditNamespace(String... cmd) throws Exception {
    List<String> c = new ArrayList<>(List.of("nsenter", "-t", Long.toString(holder.pid()), "-m",
        "--"));
    c.addAll(List.of(cmd));
    return new ProcessBuilder(c).redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.DISCARD).start().waitFor();
  }

  Path policy() {
    return dir.resolve("gw/policy.yaml");
  }

  void writePolicy(String extra) throws IOException {
    Files.writeString(policy(), """
        version: 1
        rules:
          - id: faults
            principals: ["uri:%s"]
            calls: ["fr_backend:run/2", "fr_backend:blob/2"]
            limits: {rate_per_second: 100000, concurrency: 10000, timeout_ms: 10000,
                     max_arg_bytes: 65536, max_result_bytes: 1048576}
        %s""".formatted(PRINCIPAL, extra));
  }

  Path gatewayConfig() throws IOException {
    Path d = dir.resolve("gw");
    Path cfg = d.resolve("gateway.yaml");
    if (Files.exists(cfg)) {
      return cfg;
    }
    Path cookie = d.resolve("cookie");
    Files.writeString(cookie, COOKIE, StandardCharsets.US_ASCII);
    Files.setPosixFilePermissions(cookie, PosixFilePermissions.fromString("rw-------"));
    writePolicy("");
    StringBuilder be = new StringBuilder();
    for (Backend b : backends) {
      be.append("\n    - {node: ").append(b.node).append(", port: ").append(b.relay.port())
          .append('}');
    }
    Files.writeString(cfg, """
        version: 1
        listen: {address: 127.0.0.1, port: %d}
        tls: {certificate: %s, key: %s, client_cas: %s}
        cluster:
          node_name: fr_gw_%d@127.0.0.1
          cookie_file: cookie
          listen_address: 127.0.0.1
          epmd_port: %d
          net_ticktime_seconds: 10
          backends:%s
        limits: {max_connections: 1000, max_in_flight: 10000, max_in_flight_per_connection: 256,
                 max_output_bytes: 4194304}
        policy: policy.yaml
        audit: {file: auditfs/audit.jsonl, on_failure: refuse}
        reload: {watch_interval_ms: 0, admin_socket: admin.sock}
        """.formatted(gatewayPort, server.cert(), server.key(), server.ca(), pid, epmdPort, be));
    return cfg;
  }

  void startGateway() throws Exception {
    Path cfg = gatewayConfig();
    gateway = java(List.of("nsenter", "-t", Long.toString(holder.pid()), "-m", "--"),
        List.of("-XX:NativeMemoryTracking=summary"), cfg, dir.resolve("gw/gateway.log"),
        "beamgate gateway listening on", List.of());
  }

  void startBridge() throws Exception {
    Path d = dir.resolve("gwb");
    Path cfg = d.resolve("gateway.yaml");
    if (!Files.exists(cfg)) {
      Files.createDirectories(d);
      Path cookie = d.resolve("cookie");
      Files.writeString(cookie, COOKIE_B, StandardCharsets.US_ASCII);
      Files.setPosixFilePermissions(cookie, PosixFilePermissions.fromString("rw-------"));
      Files.writeString(d.resolve("policy.yaml"), """
          version: 1
          rules:
            - id: nobody
              principals: ["uri:spiffe://beamgate-faults/nobody"]
              calls: ["erlang:node/0"]
          """);
      Files.writeString(cfg, """
          version: 1
          listen: {address: 127.0.0.1, port: %d}
          tls: {certificate: %s, key: %s, client_cas: %s}
          cluster:
            node_name: fr_gwb_%d@%s
            cookie_file: cookie
            listen_address: 127.0.0.1
            epmd_port: %d
            backends: [fr_nobody_%d@%s]
          policy: policy.yaml
          audit: audit.jsonl
          reload: {watch_interval_ms: 0, admin_socket: admin.sock}
          bridges:
            - name: a
              connect: {host: localhost, port: %d}
              expect: "dns:%s"
              node_name: %s
          """.formatted(freePort(), client.cert(), client.key(), client.ca(), pid, host,
          epmdPort, pid, host, bridgeRelay.port(), host, standIn));
    }
    bridge = java(List.of(), List.of(), cfg, d.resolve("gateway.log"), "bridge a: up to",
        List.of("--backend-wait", "1"));
  }

  private Process java(List<String> prefix, List<String> jvmArgs, Path cfg, Path log,
      String ready, List<String> extra) throws Exception {
    String java = ProcessHandle.current().info().command().orElse("java");
    List<String> cmd = new ArrayList<>(prefix);
    cmd.add(java);
    cmd.addAll(jvmArgs);
    // Extra JVM options for the gateways, e.g. FAULTS_GATEWAY_JVM_OPTS=-Dio.netty.allocator.type=pooled
    String opts = System.getenv("FAULTS_GATEWAY_JVM_OPTS");
    if (opts != null && !opts.isBlank()) {
      cmd.addAll(List.of(opts.strip().split("\\s+")));
    }
    cmd.addAll(List.of("-Xmx512m", "-jar", jar.toString(), "gateway", "run", "--config",
        cfg.toString()));
    cmd.addAll(extra);
    long offset = Files.exists(log) ? Files.size(log) : 0;
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
    long end = System.nanoTime() + 60_000_000_000L;
    while (!Files.readString(log).substring((int) offset).contains(ready)) {
      if (!p.isAlive() || System.nanoTime() > end) {
        kill(p);
        throw new IOException(cfg + " did not get ready: " + Files.readString(log));
      }
      Thread.sleep(100);
    }
    return p;
  }

  /** {@code beamgate gateway reload} against gateway A: its exit code. */
  int reload() throws Exception {
    String java = ProcessHandle.current().info().command().orElse("java");
    return new ProcessBuilder(java, "-jar", jar.toString(), "gateway", "reload", "--config",
        gatewayConfig().toString()).redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.appendTo(dir.resolve("reload.log").toFile()))
        .start().waitFor();
  }

  static void signal(Process p, String sig) throws Exception {
    new ProcessBuilder("kill", "-" + sig, Long.toString(p.pid())).inheritIO().start().waitFor();
  }

  static void kill(Process p) {
    if (p != null && p.isAlive()) {
      p.destroyForcibly();
      try {
        p.waitFor();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  @Override
  public void close() throws IOException {
    kill(bridge);
    kill(gateway);
    for (Backend b : backends) {
      if (b.process != null && b.process.isAlive()) {
        try {
          signal(b.process, "CONT");
        } catch (Exception e) {
          // it is killed next anyway
        }
      }
      kill(b.process);
      b.relay.close();
    }
    kill(holder);
    bridgeRelay.close();
  }
}
