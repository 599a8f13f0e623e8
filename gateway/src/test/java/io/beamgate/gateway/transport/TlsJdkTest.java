package io.beamgate.gateway.transport;

import io.beamgate.security.tls.TlsException;
import io.beamgate.security.tls.TlsSettings;

/** The TLS conformance suite on the JDK's provider. */
class TlsJdkTest extends TlsContextsTest {
  @Override
  TlsSettings.Provider provider() {
    return TlsSettings.Provider.JDK;
  }

  @Override
  String alertFor(String refusal) {
    // The JDK's server sends certificate_unknown for every refused client chain (JDK 17).
    return "alert certificate unknown";
  }
}
