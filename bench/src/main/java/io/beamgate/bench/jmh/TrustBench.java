package io.beamgate.bench.jmh;

import io.beamgate.certs.DevCa;
import io.beamgate.certs.HeldCertificate;
import io.beamgate.security.tls.ChainCacheLimits;
import io.beamgate.security.tls.TrustManagers;
import io.beamgate.security.tls.VerifiedChainCache;
import java.io.ByteArrayInputStream;
import java.nio.file.Files;
import java.security.cert.CertificateFactory;
import java.security.cert.X509CRL;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.X509ExtendedTrustManager;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * The server's check of a client chain on each full handshake: PKIX to the CA, with or
 * without a CRL, and the same behind the cache of validated chains once the chain is in it (a
 * client reconnecting with the same certificates).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class TrustBench {
  /** With the CA's CRL (revocation checked, no fallback) or without one. */
  @Param({"crl", "none"})
  public String revocation;

  X509ExtendedTrustManager pkix;
  X509ExtendedTrustManager cached;
  X509Certificate[] chain;

  @Setup
  public void setUp() throws Exception {
    DevCa ca = DevCa.init(Files.createTempDirectory("trust-bench-"), "bench CA",
        Duration.ofDays(1), false);
    // The JDK's own certificate objects, as the TLS stack hands them over (certs-dev makes
    // BouncyCastle ones, which the JDK's validator would convert on every call).
    CertificateFactory cf = CertificateFactory.getInstance("X.509");
    X509Certificate caCert = jdk(cf, ca.certificate().certificate());
    X509CRL crl = null;
    if (revocation.equals("crl")) {
      crl = (X509CRL) cf.generateCRL(new ByteArrayInputStream(
          ca.crl(Duration.ofDays(1)).getEncoded()));
    }
    pkix = TrustManagers.pkix(List.of(caCert), crl);
    cached = new VerifiedChainCache(TrustManagers.pkix(List.of(caCert), crl),
        ChainCacheLimits.DEFAULT, crl == null ? null : crl.getNextUpdate().toInstant(),
        Clock.systemUTC());
    chain = new X509Certificate[] {jdk(cf, ca.issue(HeldCertificate.builder().commonName("c")
        .clientAuth()).certificate())};
    cached.checkClientTrusted(chain, "EC", (SSLEngine) null);
  }

  private static X509Certificate jdk(CertificateFactory cf, X509Certificate c) throws Exception {
    return (X509Certificate) cf.generateCertificate(new ByteArrayInputStream(c.getEncoded()));
  }

  @Benchmark
  public X509Certificate[] uncached() throws Exception {
    pkix.checkClientTrusted(chain, "EC", (SSLEngine) null);
    return chain;
  }

  @Benchmark
  public X509Certificate[] cached() throws Exception {
    cached.checkClientTrusted(chain, "EC", (SSLEngine) null);
    return chain;
  }
}
