package io.beamgate.gateway.transport;

import io.beamgate.security.tls.TlsException;
import io.beamgate.security.tls.TlsSettings;

/** The TLS conformance suite on OpenSSL (BoringSSL through netty-tcnative). */
class TlsOpenSslTest extends TlsContextsTest {
  @Override
  TlsSettings.Provider provider() {
    return TlsSettings.Provider.OPENSSL;
  }

  @Override
  String alertFor(String refusal) {
    return switch (refusal) {
      // as HAProxy and openssl s_server say it (not internal_error)
      case "foreign CA", "self-signed" -> "alert unknown ca";
      case "expired" -> "alert certificate expired";
      case "revoked" -> "alert certificate revoked";
      case "wrong EKU" -> "alert unsupported certificate";
      default -> throw new IllegalArgumentException(refusal);
    };
  }
}
