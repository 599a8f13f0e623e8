package io.beamgate.gateway.transport;

import io.beamgate.security.tls.ForwardingTrustManager;
import io.netty.handler.ssl.OpenSslCertificateException;
import java.net.Socket;
import java.security.cert.CertPathBuilderException;
import java.security.cert.CertPathValidatorException;
import java.security.cert.CertificateException;
import java.security.cert.PKIXReason;
import java.security.cert.X509Certificate;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.X509ExtendedTrustManager;

/**
 * Gives a client chain refused for want of a trusted CA the TLS alert {@code unknown_ca} (and
 * one whose leaf is not for TLS clients {@code unsupported_certificate}), as
 * HAProxy and openssl s_server do. Netty's OpenSSL contexts turn the trust manager's exception
 * into an X509 verify error, and BoringSSL the error into the alert: expired, not yet valid and
 * revoked have their own errors there, but a failed path building (a foreign CA, a self-signed
 * certificate) becomes "unspecified", sent as {@code internal_error}, which tells the client
 * the gateway is broken rather than that its certificate is not trusted. This names the error
 * {@code X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY}, the one OpenSSL itself reports for a
 * chain that leads to no trusted CA. The refusal, its message and its cause are unchanged
 * (the cause is kept, for the logs and the audit record); the JDK provider ignores the code.
 */
final class VerifyAlerts extends ForwardingTrustManager {
  /** OpenSSL's {@code X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY} (x509_vfy.h). */
  static final int UNABLE_TO_GET_ISSUER_CERT_LOCALLY = 20;


  VerifyAlerts(X509ExtendedTrustManager delegate) {
    super(delegate);
  }

  /** Whether {@code e} says the chain leads to none of the trusted CAs. */
  static boolean unknownCa(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
      // The JDK builds a path when the chain does not end at a trusted CA: its failure means
      // no path to one was found.
      if (t instanceof CertPathBuilderException) {
        return true;
      }
      if (t instanceof CertPathValidatorException v
          && v.getReason() == PKIXReason.NO_TRUST_ANCHOR) {
        return true;
      }
    }
    return false;
  }

  /** OpenSSL's {@code X509_V_ERR_INVALID_PURPOSE} (x509_vfy.h): sent as unsupported_certificate. */
  static final int INVALID_PURPOSE = 26;

  private static final String CLIENT_AUTH = "1.3.6.1.5.5.7.3.2";
  private static final String ANY_EKU = "2.5.29.37.0";

  /**
   * Whether the leaf names extended key usages of which none allows TLS client
   * authentication (a server's certificate presented as a client's): read from the
   * certificate itself, not from the JDK's message.
   */
  static boolean wrongPurpose(X509Certificate[] chain) {
    if (chain == null || chain.length == 0) {
      return false;
    }
    try {
      java.util.List<String> eku = chain[0].getExtendedKeyUsage();
      return eku != null && !eku.contains(CLIENT_AUTH) && !eku.contains(ANY_EKU);
    } catch (java.security.cert.CertificateParsingException e) {
      return false; // refused anyway; the alert stays the provider's
    }
  }

  private static CertificateException mapped(CertificateException e, X509Certificate[] chain) {
    if (e instanceof OpenSslCertificateException) {
      return e;
    }
    if (unknownCa(e)) {
      return new OpenSslCertificateException(e.getMessage(), e,
          UNABLE_TO_GET_ISSUER_CERT_LOCALLY);
    }
    if (wrongPurpose(chain)) {
      return new OpenSslCertificateException(e.getMessage(), e, INVALID_PURPOSE);
    }
    return e;
  }

  @Override
  public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
      throws CertificateException {
    try {
      delegate.checkClientTrusted(chain, authType, engine);
    } catch (CertificateException e) {
      throw mapped(e, chain);
    }
  }

  @Override
  public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket)
      throws CertificateException {
    try {
      delegate.checkClientTrusted(chain, authType, socket);
    } catch (CertificateException e) {
      throw mapped(e, chain);
    }
  }

  @Override
  public void checkClientTrusted(X509Certificate[] chain, String authType)
      throws CertificateException {
    try {
      delegate.checkClientTrusted(chain, authType);
    } catch (CertificateException e) {
      throw mapped(e, chain);
    }
  }
}
