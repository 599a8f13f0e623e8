package io.beamgate.bench.jmh;

import io.beamgate.certs.DevCa;
import io.beamgate.certs.HeldCertificate;
import io.beamgate.security.tls.ChainCacheLimits;
import io.beamgate.security.tls.TrustManagers;
import io.beamgate.security.tls.VerifiedChainCache;
import java.nio.file.Files;
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
    X509CRL crl = revocation.equals("crl") ? ca.crl(Duration.ofDays(1)) : null;
    pkix = TrustManagers.pkix(List.of(ca.certificate().certificate()), crl);
    cached = new VerifiedChainCache(TrustManagers.pkix(List.of(ca.certificate().certificate()),
        crl), ChainCacheLimits.DEFAULT, crl == null ? null : crl.getNextUpdate().toInstant(),
        Clock.systemUTC());
    chain = ca.issue(HeldCertificate.builder().commonName("c").clientAuth()).chain()
        .toArray(new X509Certificate[0]);
    cached.checkClientTrusted(chain, "EC", (SSLEngine) null);
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
