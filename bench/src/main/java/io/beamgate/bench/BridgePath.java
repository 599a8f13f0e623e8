package io.beamgate.bench;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;

/**
 * The bridge path of Issue 6 §4: an erl node of "cluster B" (its own cookie) calls
 * {@code rpc:call(ClusterA, erlang, element, ...)}, where ClusterA is the node gateway B runs
 * to stand for the other cluster; gateway B relays over its mTLS link to gateway A (the run's
 * {@link GatewayPath} gateway, which admits gateway B by the bench client certificate's rule),
 * which calls the run's plain-distribution erl server. Gateway B is {@code beamgate gateway
 * run} in its own JVM. Its anchor is the same erl client calling the TLS-distribution server
 * directly ("erl-tls").
 */
final class BridgePath implements AutoCloseable {
  /** Cluster B's cookie: not the run's (cluster A's), as two clusters would have. */
  static final String COOKIE_B = "beamgate_bench_cluster_b";

  private final Process process;
  private final String exposedNode;

  private BridgePath(Process process, String exposedNode) {
    this.process = process;
    this.exposedNode = exposedNode;
  }

  /**
   * Starts gateway B with a bridge to gateway A at {@code gatewayAPort}, and waits until the
   * link is up. Gateway B presents the bench client certificate (which gateway A's policy
   * names) and expects gateway A's server certificate.
   */
  static BridgePath start(int epmdPort, BenchPki pki, Path dir, Path jar, int gatewayAPort,
      String host, long pid) throws Exception {
    Files.createDirectories(dir);
    Path cookie = dir.resolve("cookie");
    Files.writeString(cookie, COOKIE_B, StandardCharsets.US_ASCII);
    Files.setPosixFilePermissions(cookie, PosixFilePermissions.fromString("rw-------"));
    Files.writeString(dir.resolve("policy.yaml"), """
        version: 1
        rules:
          - id: nobody
            principals: ["uri:spiffe://beamgate-bench/nobody"]
            calls: ["erlang:node/0"]
        """);
    String exposed = "bgb_ca_" + pid + "@" + host;
    Path config = dir.resolve("gateway.yaml");
    Files.writeString(config, """
        version: 1
        listen: {address: 127.0.0.1, port: %d}
        tls:
          certificate: %s
          key: %s
          client_cas: %s
        cluster:
          node_name: bgb_gwb_%d@%s
          cookie_file: cookie
          listen_address: 127.0.0.1
          epmd_port: %d
          backends: [bgb_nobody_%d@%s]
        policy: policy.yaml
        audit: audit.jsonl
        reload: {watch_interval_ms: 0, admin_socket: admin.sock}
        bridges:
          - name: a
            connect: {host: localhost, port: %d}
            expect: "dns:localhost"
            node_name: %s
        """.formatted(Handshakes.freePort(), pki.client().cert().toAbsolutePath(),
        pki.client().key().toAbsolutePath(), pki.caFile().toAbsolutePath(), pid, host,
        epmdPort, pid, host, gatewayAPort, exposed));
    Process p = GatewayPath.run(jar, config, dir.resolve("gateway.log"), "bridge a: up to",
        "--backend-wait", "1");
    return new BridgePath(p, exposed);
  }

  /** Gateway B's JVM. */
  long pid() {
    return process.pid();
  }

  String exposedNode() {
    return exposedNode;
  }

  /** The erl client of cluster B calling through the bridge, named "bridge" in the report. */
  Harness.Client client(Path codeDir, int epmdPort, long pid) {
    Harness.Client erl = new ErlClient("bridge", epmdPort, codeDir, exposedNode, "tcp",
        List.of(), "bgb_brc_" + pid, COOKIE_B);
    return new Harness.Client() {
      private boolean warmed;

      @Override
      public String name() {
        return "bridge";
      }

      @Override
      public Harness.Result run(int conc, int size, int seconds) throws Exception {
        // Both gateways are long-running servers in their own JVMs: the first time, give
        // their JITs a few seconds of calls in flight before anything counts (as for the
        // gateway path).
        if (!warmed) {
          warmed = true;
          erl.run(16, 100, 4);
        }
        return erl.run(conc, size, seconds);
      }
    };
  }

  @Override
  public void close() {
    Profiler.stop(process);
  }
}
