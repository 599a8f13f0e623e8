package io.beamgate.gateway.server;

import io.beamgate.certs.DevCa;
import io.beamgate.certs.HeldCertificate;
import io.beamgate.gateway.config.GatewayConfig;
import io.beamgate.gateway.config.GatewayConfigFile;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.List;

/**
 * A gateway's files in a temporary directory: a dev CA, the server's certificate, client
 * certificates (alice, bob, and refused kinds), a CRL, the cookie, a policy and a config.
 * Certificates are made fresh for each test; no key is ever committed.
 */
public final class TestBed {
  /**
   * {@code beamgate gateway run ARGS} as its own process (this JVM's java and class path),
   * standard output discarded: for tests of what only a process shows (signals, logging,
   * sd_notify). The caller redirects standard error and sets the environment as it needs.
   */
  public static ProcessBuilder gatewayRun(String... args) {
    java.util.List<String> cmd = new java.util.ArrayList<>(java.util.List.of(
        java.nio.file.Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-cp", System.getProperty("java.class.path"), "io.beamgate.gateway.cli.Main",
        "gateway", "run"));
    cmd.addAll(java.util.List.of(args));
    return new ProcessBuilder(cmd).redirectOutput(ProcessBuilder.Redirect.DISCARD);
  }

  /**
   * Compiles and starts the scale tests' run counter (test resource scaletest.erl: each call's
   * key counted on the backend) on {@code backend}.
   */
  public static void loadScaletest(io.beamgate.node.testing.ErlNode backend) throws Exception {
    Path src = Path.of(TestBed.class.getResource("/scaletest.erl").toURI());
    backend.evalOk("{ok, scaletest, Bin} = compile:file(\"" + src + "\", [binary,"
        + " return_errors]), {module, scaletest} = code:load_binary(scaletest,"
        + " \"scaletest.erl\", Bin), scaletest:start().");
  }

  private static final java.util.concurrent.atomic.AtomicInteger SEQ =
      new java.util.concurrent.atomic.AtomicInteger();
  public final Path dir;
  public final DevCa ca;
  public final String cookie;
  public final Path config;
  public final Path policy;
  public final Path audit;

  public TestBed(Path dir) throws IOException {
    this(dir, null, null);
  }

  /**
   * A gateway's files issued by {@code shared}'s CA (null: a new CA), its certificate also
   * named {@code dns} and good for client authentication too, as a bridging gateway's is.
   */
  public TestBed(Path dir, TestBed shared, String dns) throws IOException {
    this.dir = dir;
    Files.createDirectories(dir);
    this.ca = shared == null
        ? DevCa.init(dir.resolve("ca"), "beamgate test CA", Duration.ofDays(2), false)
        : shared.ca;
    HeldCertificate.Builder sb = HeldCertificate.builder().commonName("gateway")
        .dns("localhost").ip("127.0.0.1").serverAuth();
    if (dns != null) {
      sb = HeldCertificate.builder().commonName(dns).dns(dns).dns("localhost")
          .ip("127.0.0.1").serverAuth().clientAuth();
    }
    HeldCertificate server = ca.issue(sb);
    server.writeTo(dir.resolve("gateway.pem"), dir.resolve("gateway.key"));
    Files.copy((shared == null ? dir : shared.dir).resolve("ca").resolve(DevCa.CERT),
        dir.resolve("ca.pem"));
    writeCrl();
    this.cookie = "cookie" + Long.toHexString(System.nanoTime());
    Path c = dir.resolve("cookie");
    Files.writeString(c, cookie, StandardCharsets.US_ASCII);
    Files.setPosixFilePermissions(c, PosixFilePermissions.fromString("rw-------"));
    this.config = dir.resolve("gateway.yaml");
    this.policy = dir.resolve("policy.yaml");
    this.audit = dir.resolve("audit.jsonl");
  }

  /** Issues a client certificate with SAN {@code uri:spiffe://test/NAME}; returns its files. */
  public Client client(String name) throws IOException {
    return client(name, HeldCertificate.builder().commonName(name)
        .uri("spiffe://test/" + name).clientAuth());
  }

  public Client client(String name, HeldCertificate.Builder b) throws IOException {
    HeldCertificate h = ca.issue(b);
    return write(name, h);
  }

  public Client write(String name, HeldCertificate h) throws IOException {
    String file = name + "-" + SEQ.incrementAndGet();
    Path cert = dir.resolve(file + ".pem");
    Path key = dir.resolve(file + ".key");
    h.writeTo(cert, key);
    return new Client(name, cert, key, dir.resolve("ca.pem"), h);
  }

  /** A client's files. */
  public record Client(String name, Path cert, Path key, Path ca, HeldCertificate held) {}

  public void writeCrl() throws IOException {
    Files.writeString(dir.resolve("clients.crl"), DevCa.pem(ca.crl(Duration.ofDays(1))),
        StandardCharsets.US_ASCII);
  }

  public void writePolicy(String yaml) throws IOException {
    Path tmp = dir.resolve("policy.yaml.tmp");
    Files.writeString(tmp, yaml, StandardCharsets.UTF_8);
    Files.move(tmp, policy, java.nio.file.StandardCopyOption.REPLACE_EXISTING,
        java.nio.file.StandardCopyOption.ATOMIC_MOVE);
  }

  /** Writes the configuration for {@code backends} and loads it. */
  public GatewayConfig writeConfig(List<String> backends, int epmdPort, String routing,
      String extra) throws Exception {
    StringBuilder b = new StringBuilder();
    for (String n : backends) {
      b.append("    - ").append(n).append('\n');
    }
    String yaml = "version: 1\n"
        + "listen: {address: 127.0.0.1, port: " + io.beamgate.node.testing.RealEpmd.freePort()
        + "}\n"
        + "tls:\n  certificate: gateway.pem\n  key: gateway.key\n  client_cas: ca.pem\n"
        + "  crl: clients.crl\n"
        + "cluster:\n  node_name: gw" + Long.toHexString(System.nanoTime()) + "@127.0.0.1\n"
        + "  cookie_file: cookie\n  listen_address: 127.0.0.1\n  epmd_port: " + epmdPort + "\n"
        + "  backends:\n" + b
        + "  routing: " + routing + "\n  reconnect_min_ms: 50\n  reconnect_max_ms: 500\n"
        + "policy: policy.yaml\n"
        + (extra.matches("(?s)(.*\n)?audit:.*") ? "" : "audit: audit.jsonl\n")
        + (extra.contains("reload:") ? ""
            : "reload: {watch_interval_ms: 200, admin_socket: admin.sock}\n")
        + extra;
    Files.writeString(config, yaml, StandardCharsets.UTF_8);
    return GatewayConfigFile.load(config);
  }

  public static Instant now() {
    return Instant.now();
  }

  public String auditText() throws IOException {
    return Files.exists(audit) ? Files.readString(audit, StandardCharsets.UTF_8) : "";
  }
}
