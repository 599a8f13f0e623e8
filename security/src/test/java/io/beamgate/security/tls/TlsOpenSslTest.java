package io.beamgate.security.tls;

/** The TLS conformance suite on OpenSSL (BoringSSL through netty-tcnative). */
class TlsOpenSslTest extends TlsContextsTest {
  @Override
  TlsSettings.Provider provider() {
    return TlsSettings.Provider.OPENSSL;
  }
}
