package io.beamgate.client;

import io.beamgate.client.GatewayException.Code;
import io.beamgate.gateway.protocol.TlsProfile;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.util.Collection;
import java.util.Set;
import javax.net.ssl.TrustManagerFactory;

/**
 * The client's TLS context from its PEM files: its certificate and key (read by Netty), the
 * CAs that may issue the gateway's certificate (PKIX), the shared {@link TlsProfile}. The
 * client does not use the security module (it would bring BouncyCastle and the server's
 * configuration); the key-file rule below is the same as the gateway's (owner-only).
 */
final class ClientTls {
  private ClientTls() {}

  static SslContext context(ClientConfig config) throws GatewayException {
    checkPrivate(config.privateKey());
    try {
      SslContextBuilder b = SslContextBuilder.forClient().keyManager(
          config.certificateChain().toFile(), config.privateKey().toFile())
          .trustManager(trustManagers(config.trustedCas()));
      return TlsProfile.apply(b, provider(config.tlsProvider()), false, TlsProfile.ALPN)
          .build();
    } catch (GatewayException e) {
      throw e;
    } catch (Exception e) {
      throw GatewayException.local(Code.TLS, "cannot make the client TLS context from "
          + config.certificateChain() + " and " + config.privateKey() + ": "
          + e.getMessage(), e);
    }
  }

  private static TlsProfile.Provider provider(ClientConfig.TlsProvider p) {
    return switch (p) {
      case JDK -> TlsProfile.Provider.JDK;
      case OPENSSL -> TlsProfile.Provider.OPENSSL;
      case AUTO -> TlsProfile.Provider.AUTO;
    };
  }

  /** PKIX validation of the gateway's chain to the CA bundle. */
  private static TrustManagerFactory trustManagers(Path cas)
      throws GatewayException, GeneralSecurityException, IOException {
    KeyStore ks = KeyStore.getInstance(KeyStore.getDefaultType());
    ks.load(null, null);
    int i = 0;
    try (InputStream in = Files.newInputStream(cas)) {
      Collection<? extends Certificate> certs =
          CertificateFactory.getInstance("X.509").generateCertificates(in);
      for (Certificate c : certs) {
        ks.setCertificateEntry("ca" + i++, c);
      }
    } catch (IOException | GeneralSecurityException e) {
      throw GatewayException.local(Code.TLS, cas + ": cannot read the CA certificates: "
          + e.getMessage(), e);
    }
    if (i == 0) {
      throw GatewayException.local(Code.TLS, cas + ": no certificate in it", null);
    }
    TrustManagerFactory tmf = TrustManagerFactory.getInstance("PKIX");
    tmf.init(ks);
    return tmf;
  }

  /** Key files readable or writable by group or others are refused. */
  private static void checkPrivate(Path key) throws GatewayException {
    try {
      Set<PosixFilePermission> perms = Files.getPosixFilePermissions(key);
      if (perms.contains(PosixFilePermission.GROUP_READ)
          || perms.contains(PosixFilePermission.OTHERS_READ)
          || perms.contains(PosixFilePermission.GROUP_WRITE)
          || perms.contains(PosixFilePermission.OTHERS_WRITE)) {
        throw GatewayException.local(Code.TLS, key + ": private key is accessible to group or"
            + " others (mode " + PosixFilePermissions.toString(perms)
            + "); make it owner-only, e.g. chmod 600", null);
      }
    } catch (UnsupportedOperationException e) {
      // not a POSIX file system
    } catch (IOException e) {
      throw GatewayException.local(Code.TLS, key + ": cannot read the private key: "
          + e.getMessage(), e);
    }
  }
}
