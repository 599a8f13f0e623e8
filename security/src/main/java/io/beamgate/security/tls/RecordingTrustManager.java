package io.beamgate.security.tls;

import java.net.Socket;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.X509ExtendedTrustManager;

/**
 * Validates client chains with the PKIX trust manager it wraps, and remembers the leaf of a
 * chain it refused, so that the handshake failure that follows can be audited with the
 * refused certificate's serial and fingerprint (an operator looking for a revoked or expired
 * client wants to know which certificate it was). The leaf is kept per thread: the handshake
 * and its failure event run on the connection's event loop, one after the other.
 */
final class RecordingTrustManager extends ForwardingTrustManager {
  private static final ThreadLocal<X509Certificate> REFUSED = new ThreadLocal<>();

  RecordingTrustManager(X509ExtendedTrustManager delegate) {
    super(delegate);
  }

  /** The leaf of the last chain refused on this thread, once; null when there is none. */
  static X509Certificate takeRefused() {
    X509Certificate c = REFUSED.get();
    REFUSED.remove();
    return c;
  }

  private static void refused(X509Certificate[] chain) {
    REFUSED.set(chain != null && chain.length > 0 ? chain[0] : null);
  }

  @Override
  public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
      throws CertificateException {
    REFUSED.remove();
    try {
      delegate.checkClientTrusted(chain, authType, engine);
    } catch (CertificateException | RuntimeException e) {
      refused(chain);
      throw e;
    }
  }

  @Override
  public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket)
      throws CertificateException {
    REFUSED.remove();
    try {
      delegate.checkClientTrusted(chain, authType, socket);
    } catch (CertificateException | RuntimeException e) {
      refused(chain);
      throw e;
    }
  }

  @Override
  public void checkClientTrusted(X509Certificate[] chain, String authType)
      throws CertificateException {
    REFUSED.remove();
    try {
      delegate.checkClientTrusted(chain, authType);
    } catch (CertificateException | RuntimeException e) {
      refused(chain);
      throw e;
    }
  }
}
