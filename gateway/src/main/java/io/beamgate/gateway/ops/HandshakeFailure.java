package io.beamgate.gateway.ops;

import java.nio.channels.ClosedChannelException;
import java.security.cert.CertPathBuilderException;
import java.security.cert.CertPathValidatorException;
import java.security.cert.CertificateException;
import java.security.cert.CertificateExpiredException;
import java.security.cert.CertificateNotYetValidException;
import java.security.cert.PKIXReason;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.Locale;
import java.util.Set;

/**
 * Why a client's TLS handshake failed, as one word of a bounded set (a metric label): what an
 * operator acts on differs for each (renew a client's certificate, fix a CA bundle, look for a
 * scanner). Read from the exception the JDK or OpenSSL engine raised and, when the trust
 * manager got that far, the certificate it refused.
 */
public final class HandshakeFailure {
  /** Every reason {@link #reason} returns. */
  public static final Set<String> REASONS = Set.of("timeout", "expired", "not_yet_valid",
      "revoked", "unknown_ca", "no_client_cert", "alpn", "protocol", "bad_certificate",
      "closed", "other");

  private HandshakeFailure() {}

  /**
   * @param cause the handshake's failure (SslHandshakeCompletionEvent.cause())
   * @param refused the client certificate the trust manager refused, or null
   */
  public static String reason(Throwable cause, X509Certificate refused, Instant now) {
    String text = messages(cause);
    if (has(cause, io.netty.handler.ssl.SslHandshakeTimeoutException.class)) {
      return "timeout";
    }
    if (refused != null && now.isAfter(refused.getNotAfter().toInstant())) {
      return "expired";
    }
    if (refused != null && now.isBefore(refused.getNotBefore().toInstant())) {
      return "not_yet_valid";
    }
    if (has(cause, CertificateExpiredException.class)) {
      return "expired";
    }
    if (has(cause, CertificateNotYetValidException.class)) {
      return "not_yet_valid";
    }
    CertPathValidatorException v = find(cause, CertPathValidatorException.class);
    if (v != null && v.getReason() == CertPathValidatorException.BasicReason.REVOKED
        || text.contains("revoked")) {
      return "revoked";
    }
    if (v != null && v.getReason() == PKIXReason.NO_TRUST_ANCHOR
        || has(cause, CertPathBuilderException.class)
        || text.contains("unable to find valid certification path")
        || text.contains("unknown_ca") || text.contains("unknown ca")) {
      return "unknown_ca";
    }
    if (text.contains("empty client certificate chain")
        || text.contains("peer not authenticated") || text.contains("certificate_required")
        || text.contains("did not return a certificate")
        || text.contains("peer_did_not_return_a_certificate")) {
      return "no_client_cert";
    }
    if (text.contains("application protocol") || text.contains("no_application_protocol")
        || text.contains("alpn")) {
      return "alpn";
    }
    if (refused != null || has(cause, CertificateException.class)
        || text.contains("bad_certificate") || text.contains("certificate_unknown")) {
      return "bad_certificate";
    }
    if (has(cause, io.netty.handler.ssl.NotSslRecordException.class)
        || text.contains("protocol_version") || text.contains("protocol version") || text.contains("no cipher suites")
        || text.contains("no_shared_cipher") || text.contains("wrong_version_number")
        || text.contains("unsupported protocol") || text.contains("handshake_failure")
        || text.contains("not an ssl/tls record") || text.contains("insufficient_security")) {
      return "protocol";
    }
    if (has(cause, ClosedChannelException.class) || text.contains("connection reset")
        || text.contains("closed")) {
      return "closed";
    }
    return "other";
  }

  private static boolean has(Throwable t, Class<? extends Throwable> type) {
    return find(t, type) != null;
  }

  private static <T extends Throwable> T find(Throwable t, Class<T> type) {
    for (int i = 0; t != null && i < 16; t = t.getCause(), i++) {
      if (type.isInstance(t)) {
        return type.cast(t);
      }
    }
    return null;
  }

  /** Every message along the cause chain, lower case. */
  private static String messages(Throwable t) {
    StringBuilder sb = new StringBuilder();
    for (int i = 0; t != null && i < 16; t = t.getCause(), i++) {
      sb.append(t.getClass().getSimpleName()).append(": ").append(t.getMessage()).append('\n');
    }
    return sb.toString().toLowerCase(Locale.ROOT);
  }
}
