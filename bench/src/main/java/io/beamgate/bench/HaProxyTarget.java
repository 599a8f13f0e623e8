package io.beamgate.bench;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;

/**
 * The handshake goal's anchor (issue 17): Debian's HAProxy terminating the same mutual-TLS 1.3
 * handshakes as the gateway — two threads ({@code nbthread 2}), the bench server certificate
 * and key, the bench CA as {@code ca-file}, {@code verify required}, TLS 1.3 only — in the
 * foreground ({@code -db}), its configuration in the run's temporary directory, stopped by its
 * PID.
 *
 * <p>What it does after a handshake: nothing but hold the connection. Its TCP frontend waits
 * for data ({@code tcp-request inspect-delay}) and rejects the connection when the wait ends,
 * so no backend is ever connected to. That is the handshake work and little else: a backend
 * (even a trivial one) would add a TCP connect and an accept per handshake on the same two
 * cores, which the gateway does not do per connection (it reaches its cluster over links that
 * are already open). Holding the connection, rather than rejecting it as soon as the handshake
 * is done, keeps the mutual-TLS probe meaningful: the bench client is "accepted" only when the
 * connection stays open after its handshake, as with the other targets. Session tickets are
 * off ({@code no-tls-tickets}): by default HAProxy sends two after each TLS 1.3 handshake,
 * which the gateway does not (Netty's OpenSSL contexts disable them), and s_time never uses
 * them; with them off both servers send the same messages.
 */
final class HaProxyTarget implements AutoCloseable {
  static final String NAME = "haproxy";
  /** Its threads: the gateway's default I/O threads on this 2-core machine, and the goal's. */
  static final int THREADS = 2;

  final Handshakes.TlsTarget target;
  private final Process process;

  private HaProxyTarget(Handshakes.TlsTarget target, Process process) {
    this.target = target;
    this.process = process;
  }

  /** Where HAProxy is, or null when it is not installed. */
  static String binary() {
    for (String p : List.of("/usr/sbin/haproxy", "/usr/local/sbin/haproxy")) {
      if (Files.isExecutable(Path.of(p))) {
        return p;
      }
    }
    return null;
  }

  /** Why HAProxy cannot be the anchor here, or null when it can. */
  static String unavailable() {
    return binary() == null ? "haproxy is not installed (expected: /usr/sbin/haproxy, Debian's"
        + " haproxy package)" : null;
  }

  /** Writes the configuration and the certificate bundle under {@code dir} and starts it. */
  static HaProxyTarget start(BenchPki pki, Path dir) throws Exception {
    String bin = binary();
    if (bin == null) {
      throw new IOException(unavailable());
    }
    Files.createDirectories(dir);
    // HAProxy's crt takes the chain and the key in one PEM file.
    Path pem = dir.resolve("server.pem");
    Files.writeString(pem, Files.readString(pki.server().cert()) + "\n"
        + Files.readString(pki.server().key()), StandardCharsets.US_ASCII);
    Files.setPosixFilePermissions(pem, PosixFilePermissions.fromString("rw-------"));
    int port = Handshakes.freePort();
    Path cfg = dir.resolve("haproxy.cfg");
    Files.writeString(cfg, config(port, pem, pki.caFile()), StandardCharsets.US_ASCII);
    Path log = dir.resolve("haproxy.log");
    Process p = new ProcessBuilder(bin, "-db", "-f", cfg.toString()).redirectErrorStream(true)
        .redirectOutput(log.toFile()).start();
    HaProxyTarget h = new HaProxyTarget(new Handshakes.TlsTarget(NAME, "127.0.0.1", port,
        pki.client()), p);
    try {
      Handshakes.awaitListening(p, port, "haproxy (" + cfg + "; its output: " + log + ")");
      return h;
    } catch (Exception e) {
      h.close();
      throw new IOException(e.getMessage() + ": " + Files.readString(log), e);
    }
  }

  /**
   * The configuration: one TCP frontend, TLS 1.3 only with OpenSSL's default TLS 1.3 suites
   * and groups (the client, s_time, offers X25519 first, as it does to the other targets),
   * client certificates required and verified to the CA. No logging: the gateway's audit
   * records connections, but HAProxy without a log target is the cheaper anchor, which is the
   * point of an anchor.
   */
  static String config(int port, Path pem, Path ca) {
    return """
        global
            nbthread %d
            maxconn 4096
            ssl-default-bind-options no-tls-tickets
        defaults
            mode tcp
            timeout connect 5s
            timeout client 30s
            timeout server 30s
        frontend handshakes
            bind 127.0.0.1:%d ssl crt %s ca-file %s verify required ssl-min-ver TLSv1.3
            tcp-request inspect-delay 10s
            tcp-request content reject if WAIT_END
            default_backend nowhere
        backend nowhere
        """.formatted(THREADS, port, pem.toAbsolutePath(), ca.toAbsolutePath());
  }

  long pid() {
    return process.pid();
  }

  @Override
  public void close() {
    Harness.kill(process);
  }
}
