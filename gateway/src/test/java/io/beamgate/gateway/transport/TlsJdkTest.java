package io.beamgate.gateway.transport;

import io.beamgate.security.tls.TlsException;
import io.beamgate.security.tls.TlsSettings;

/** The TLS conformance suite on the JDK's provider. */
class TlsJdkTest extends TlsContextsTest {
  @Override
  TlsSettings.Provider provider() {
    return TlsSettings.Provider.JDK;
  }
}
