package io.beamgate.gateway.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.handler.ssl.NotSslRecordException;
import io.netty.handler.ssl.SslHandshakeTimeoutException;
import java.nio.channels.ClosedChannelException;
import java.security.cert.CertPathBuilderException;
import java.security.cert.CertPathValidatorException;
import java.security.cert.CertificateException;
import java.time.Instant;
import javax.net.ssl.SSLHandshakeException;
import org.junit.jupiter.api.Test;

/**
 * The reasons of failed handshakes, from the exceptions the JDK and OpenSSL engines raise
 * (MetricsStagesTest sees the common ones from real handshakes).
 */
class HandshakeFailureTest {
  static String reason(Throwable t) {
    String r = HandshakeFailure.reason(t, null, Instant.now());
    assertTrue(HandshakeFailure.REASONS.contains(r), r);
    return r;
  }

  static Throwable handshake(String message, Throwable cause) {
    SSLHandshakeException e = new SSLHandshakeException(message);
    e.initCause(cause);
    return e;
  }

  @Test
  void eachReason() {
    assertEquals("timeout", reason(new SslHandshakeTimeoutException("timed out after 10ms")));
    assertEquals("unknown_ca", reason(handshake("PKIX path building failed",
        new CertificateException(new CertPathBuilderException(
            "unable to find valid certification path to requested target")))));
    assertEquals("revoked", reason(handshake("x", new CertificateException(
        new CertPathValidatorException("Certificate has been revoked", null, null, -1,
            CertPathValidatorException.BasicReason.REVOKED)))));
    assertEquals("unknown_ca", reason(new SSLHandshakeException(
        "error:10000418:SSL routines:OPENSSL_internal:TLSV1_ALERT_UNKNOWN_CA")));
    assertEquals("no_client_cert", reason(new SSLHandshakeException(
        "Empty client certificate chain")));
    assertEquals("alpn", reason(new SSLHandshakeException(
        "No matching application protocol")));
    assertEquals("protocol", reason(new NotSslRecordException("not an SSL/TLS record")));
    assertEquals("protocol", reason(new SSLHandshakeException(
        "The client supported protocol versions [TLSv1] are not accepted")));
    assertEquals("bad_certificate", reason(handshake("x",
        new CertificateException("Extended key usage does not permit use for TLS client"))));
    assertEquals("closed", reason(new ClosedChannelException()));
    assertEquals("other", reason(new IllegalStateException("?")));
  }
}
