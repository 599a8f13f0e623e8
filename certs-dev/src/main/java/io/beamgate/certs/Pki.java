package io.beamgate.certs;

import java.security.Provider;
import org.bouncycastle.jce.provider.BouncyCastleProvider;

/** The BouncyCastle provider, used by instance (never installed globally). */
final class Pki {
  static final Provider PROVIDER = new BouncyCastleProvider();

  private Pki() {}
}
