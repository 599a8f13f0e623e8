package io.beamgate.gateway.transport;

import io.beamgate.security.tls.TlsException;
import io.beamgate.security.tls.TlsSettings;

/** The TLS conformance suite on OpenSSL (BoringSSL through netty-tcnative). */
class TlsOpenSslTest extends TlsContextsTest {
  @Override
  TlsSettings.Provider provider() {
    return TlsSettings.Provider.OPENSSL;
  }
}
