package io.beamgate.security.tls;

/** The TLS conformance suite on the JDK's provider. */
class TlsJdkTest extends TlsContextsTest {
  @Override
  TlsSettings.Provider provider() {
    return TlsSettings.Provider.JDK;
  }
}
