package io.beamgate.bench;

import io.beamgate.bench.BenchPki.CertFiles;
import io.beamgate.certs.DevCa;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.file.Path;
import java.security.KeyFactory;
import java.security.KeyStore;
import java.security.Principal;
import java.security.PrivateKey;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.net.ssl.KeyManager;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509ExtendedKeyManager;

/**
 * Full mutual-TLS 1.3 handshakes per second under the same load of concurrent
 * {@code openssl s_time} processes, against any {@link TlsTarget}: HAProxy, {@code openssl
 * s_server}, beamgate's listener. The target is only a host, a port and the files the client
 * presents, so the same load and the same {@link #probe} run against each.
 */
final class Handshakes {
  private Handshakes() {}

  /** A TLS listener to load: where it is, and the client certificate to present. */
  record TlsTarget(String name, String host, int port, CertFiles client) {}

  /** What the target answered to the bench client, to no certificate, to another CA's. */
  record Probe(String accepted, String refusedWithoutCert, String refusedOtherCa) {}

  /**
   * {@code connections} full handshakes completed by {@code clients} s_time processes together
   * in {@code wallSeconds}, and the target's own CPU time over the same window, all its threads
   * but a JVM's JIT compilers ({@code -1} when it could not be read), and its JIT compilers';
   * the machine's load average at the end.
   */
  record Result(String target, int round, int clients, long connections, double wallSeconds,
      long serverCpuNs, long jitNs, String load, Probe probe) {
    double rate() {
      return connections / wallSeconds;
    }

    /** The target's CPU-µs per handshake (NaN when not read). */
    double serverCpuUs() {
      return serverCpuNs < 0 || connections == 0 ? Double.NaN : serverCpuNs / 1000.0 / connections;
    }

    /** The target's CPU time over the window, in cores busy (NaN when not read). */
    double serverCores() {
      return serverCpuNs < 0 ? Double.NaN : serverCpuNs / 1e9 / wallSeconds;
    }
  }

  /**
   * s_time counts a connection when its own side of the handshake is done; in TLS 1.3 that is
   * before the server has checked the client's certificate, so s_time alone would count
   * connections the server refuses. This shows the target accepts the bench client and refuses
   * one without a certificate and one of another CA; it throws otherwise.
   */
  static Probe checkMutualTls(TlsTarget target, CertFiles otherCa) throws Exception {
    Probe p = new Probe(probe(target, target.client()), probe(target, null),
        probe(target, otherCa));
    if (!p.accepted().equals("accepted") || p.refusedWithoutCert().equals("accepted")
        || p.refusedOtherCa().equals("accepted")) {
      throw new IllegalStateException(target.name() + " is not enforcing mutual TLS as"
          + " expected: " + p);
    }
    return p;
  }

  /** The number of concurrent s_time processes of the handshake goal (issue 17). */
  static final int CLIENTS = 8;

  /**
   * Loads {@code target} (its process {@code pid}) for {@code seconds} with {@code clients}
   * concurrent {@code openssl s_time -new} processes (each one connection at a time, a full
   * handshake each, no session reuse, TLS 1.3, the client certificate presented, the server's
   * chain verified), all started together. The rate is the sum of their counts over the wall
   * time from the first start to the last exit, measured here (s_time's own "real seconds" are
   * whole seconds); the target's CPU time is read over the same window.
   */
  static Result measure(TlsTarget target, long pid, Probe probe, int round, int seconds,
      int clients) throws Exception {
    List<String> cmd = new ArrayList<>(List.of("openssl", "s_time", "-connect",
        target.host() + ":" + target.port(), "-new", "-time", Integer.toString(seconds),
        "-tls1_3", "-cert", target.client().cert().toString(), "-key",
        target.client().key().toString(), "-CAfile", target.client().ca().toString(),
        "-verify", "2"));
    Cpu.Sample cpu0 = Cpu.sample(pid);
    long t0 = System.nanoTime();
    List<Process> ps = new ArrayList<>();
    List<java.util.concurrent.Future<String>> outs = new ArrayList<>();
    long connections = 0;
    // A thread per s_time to wait for it: not the common pool, where waiting tasks could
    // hold every worker while the output readers they wait for queue behind them.
    java.util.concurrent.ExecutorService waiters =
        java.util.concurrent.Executors.newFixedThreadPool(clients);
    try {
      for (int i = 0; i < clients; i++) {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        ps.add(p);
        outs.add(waiters.submit(() -> Harness.output(p, seconds + 30L)));
      }
      for (java.util.concurrent.Future<String> f : outs) {
        String out = f.get();
        Matcher m = Pattern.compile("(\\d+) connections in [\\d.]+s").matcher(out);
        if (!m.find()) {
          throw new IOException("s_time printed no count: " + out.replaceAll("\\*+", "*..."));
        }
        connections += Long.parseLong(m.group(1));
      }
    } finally {
      ps.forEach(Harness::kill);
      waiters.shutdownNow();
    }
    double wall = (System.nanoTime() - t0) / 1e9;
    Cpu.Sample cpu1 = Cpu.sample(pid);
    long cpu = cpu0.threads().isEmpty() || cpu1.threads().isEmpty() ? -1
        : Cpu.deltaNs(cpu0, cpu1);
    long jit = Cpu.jitNs(cpu0, cpu1);
    return new Result(target.name(), round, clients, connections, wall, cpu, jit,
        Harness.loadAverage(), probe);
  }

  /**
   * One TLS 1.3 connection to {@code target} presenting {@code client} (none when null):
   * "accepted" when, after the handshake, the server keeps the connection open for a second;
   * otherwise "refused (...)" with the alert or the close that came instead.
   */
  static String probe(TlsTarget target, CertFiles client) throws Exception {
    SSLContext ctx = context(client, target.client().ca());
    try (SSLSocket s = (SSLSocket) ctx.getSocketFactory().createSocket()) {
      s.connect(new InetSocketAddress(target.host(), target.port()), 5000);
      SSLParameters params = s.getSSLParameters();
      params.setProtocols(new String[] {"TLSv1.3"});
      params.setEndpointIdentificationAlgorithm("HTTPS");
      s.setSSLParameters(params);
      s.setSoTimeout(1000);
      try {
        s.startHandshake();
        int b = s.getInputStream().read();
        return b < 0 ? "refused (closed)" : "accepted";
      } catch (SocketTimeoutException e) {
        return "accepted";
      } catch (SSLException e) {
        return "refused (" + e.getMessage() + ")";
      } catch (IOException e) {
        return "refused (" + e.getClass().getSimpleName() + ": " + e.getMessage() + ")";
      }
    }
  }

  /**
   * A TLS client context presenting {@code client}'s chain (none when null), trusting {@code ca}.
   * The chain is presented whatever issuers the server asks for, so a certificate of another CA
   * really reaches the server (the JDK's own key manager would send none).
   */
  static SSLContext context(CertFiles client, Path ca) throws Exception {
    KeyStore trust = KeyStore.getInstance("PKCS12");
    trust.load(null, null);
    int i = 0;
    for (X509Certificate c : jdkCertificates(ca)) {
      trust.setCertificateEntry("ca" + i++, c);
    }
    TrustManagerFactory tmf = TrustManagerFactory.getInstance(
        TrustManagerFactory.getDefaultAlgorithm());
    tmf.init(trust);
    KeyManager[] kms = null;
    if (client != null) {
      kms = new KeyManager[] {new Presenting(jdkPrivateKey(client.key()),
          jdkCertificates(client.cert()).toArray(X509Certificate[]::new))};
    }
    SSLContext ctx = SSLContext.getInstance("TLSv1.3");
    ctx.init(kms, tmf.getTrustManagers(), null);
    return ctx;
  }

  /**
   * The certificates of a PEM file as the JDK's own objects: certs-dev reads them with
   * BouncyCastle, whose EC keys say "ECDSA" where the JDK's TLS stack expects "EC".
   */
  static List<X509Certificate> jdkCertificates(Path pem) throws Exception {
    CertificateFactory cf = CertificateFactory.getInstance("X.509");
    List<X509Certificate> out = new ArrayList<>();
    for (X509Certificate c : DevCa.readCertificates(pem)) {
      out.add((X509Certificate) cf.generateCertificate(
          new ByteArrayInputStream(c.getEncoded())));
    }
    return out;
  }

  static PrivateKey jdkPrivateKey(Path pem) throws Exception {
    PrivateKey k = DevCa.readPrivateKey(pem);
    String alg = k.getAlgorithm().equals("ECDSA") ? "EC" : k.getAlgorithm();
    return KeyFactory.getInstance(alg).generatePrivate(new PKCS8EncodedKeySpec(k.getEncoded()));
  }

  /** A client key manager with one key and chain, chosen for every server. */
  private static final class Presenting extends X509ExtendedKeyManager {
    private final PrivateKey key;
    private final X509Certificate[] chain;

    Presenting(PrivateKey key, X509Certificate[] chain) {
      this.key = key;
      this.chain = chain;
    }

    @Override
    public String chooseClientAlias(String[] keyType, Principal[] issuers, Socket socket) {
      return "client";
    }

    @Override
    public String chooseEngineClientAlias(String[] keyType, Principal[] issuers,
        SSLEngine engine) {
      return "client";
    }

    @Override
    public String[] getClientAliases(String keyType, Principal[] issuers) {
      return new String[] {"client"};
    }

    @Override
    public X509Certificate[] getCertificateChain(String alias) {
      return chain.clone();
    }

    @Override
    public PrivateKey getPrivateKey(String alias) {
      return key;
    }

    @Override
    public String[] getServerAliases(String keyType, Principal[] issuers) {
      return null;
    }

    @Override
    public String chooseServerAlias(String keyType, Principal[] issuers, Socket socket) {
      return null;
    }
  }

  /** A free loopback port (bound, then released: a race we accept in a benchmark). */
  static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }

  /** Waits up to ten seconds until {@code p} ({@code what}) accepts on {@code port}. */
  static void awaitListening(Process p, int port, String what) throws Exception {
    for (int i = 0; ; i++) {
      try (Socket probe = new Socket()) {
        probe.connect(new InetSocketAddress("127.0.0.1", port), 500);
        return;
      } catch (IOException e) {
        if (i > 200 || !p.isAlive()) {
          throw new IOException(what + " did not listen on " + port + (p.isAlive() ? ""
              : " (exit " + p.exitValue() + ")"));
        }
        Thread.sleep(50);
      }
    }
  }

  /**
   * {@code openssl s_server} with mutual TLS: TLS 1.3 only, the bench server certificate, a
   * client certificate required ({@code -Verify}) and verification errors fatal
   * ({@code -verify_return_error}; without it s_server only logs them). It serves one connection
   * at a time, as s_time makes them. Its stdin stays open (s_server stops on end of input);
   * its output goes to a log file. Closed by PID.
   */
  static final class SServer implements AutoCloseable {
    final TlsTarget target;
    private final Process process;

    private SServer(TlsTarget target, Process process) {
      this.target = target;
      this.process = process;
    }

    static SServer start(BenchPki pki, Path dir) throws Exception {
      int port = freePort();
      Process p = new ProcessBuilder("openssl", "s_server", "-accept", "127.0.0.1:" + port,
          "-cert", pki.server().cert().toString(), "-key", pki.server().key().toString(),
          "-CAfile", pki.caFile().toString(), "-Verify", "2", "-verify_return_error",
          "-tls1_3", "-quiet")
          .redirectErrorStream(true)
          .redirectOutput(dir.resolve("s_server-" + port + ".log").toFile())
          .start();
      SServer s = new SServer(new TlsTarget("openssl s_server", "127.0.0.1", port, pki.client()),
          p);
      try {
        awaitListening(p, port, "openssl s_server");
        return s;
      } catch (Exception e) {
        s.close();
        throw e;
      }
    }

    long pid() {
      return process.pid();
    }

    @Override
    public void close() {
      Harness.kill(process);
    }
  }
}
