package io.beamgate.security.tls;

import io.netty.buffer.ByteBufAllocator;
import io.netty.handler.ssl.ApplicationProtocolConfig;
import io.netty.handler.ssl.ApplicationProtocolConfig.Protocol;
import io.netty.handler.ssl.ApplicationProtocolConfig.SelectedListenerFailureBehavior;
import io.netty.handler.ssl.ApplicationProtocolConfig.SelectorFailureBehavior;
import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.OpenSsl;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslProvider;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.CRL;
import java.security.cert.CertPathBuilder;
import java.security.cert.CertStore;
import java.security.cert.CertificateFactory;
import java.security.cert.CollectionCertStoreParameters;
import java.security.cert.PKIXBuilderParameters;
import java.security.cert.PKIXRevocationChecker;
import java.security.cert.X509CRL;
import java.security.cert.X509CertSelector;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Date;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import javax.net.ssl.CertPathTrustManagerParameters;
import javax.net.ssl.TrustManagerFactory;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Netty TLS contexts for beamgate's mutually authenticated links. TLS 1.3 only unless TLS 1.2
 * is asked for, and then only ECDHE key exchange with AEAD ciphers; no renegotiation (there is
 * none in 1.3; the JDK is told to refuse client-initiated renegotiation in 1.2); the server
 * requires a client certificate (fail closed); the peer's chain is validated to the configured
 * CAs, with validity dates and, when a CRL is configured, revocation (no fallback: an unknown
 * status fails). OpenSSL (BoringSSL via netty-tcnative) when available, else the JDK; the log
 * says which and why.
 */
public final class TlsContexts {
  private static final Logger log = LoggerFactory.getLogger(TlsContexts.class);
  static final List<String> TLS13 = List.of("TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384",
      "TLS_CHACHA20_POLY1305_SHA256");
  static final List<String> TLS12_AEAD = List.of(
      "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
      "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256", "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
      "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256");
  private static volatile boolean providerLogged;

  static {
    // Renegotiation is a downgrade and DoS vector; refuse it from clients (JDK, TLS 1.2).
    System.setProperty("jdk.tls.rejectClientInitiatedRenegotiation", "true");
  }

  private TlsContexts() {}

  /** The server side: requires and validates a client certificate. */
  public static SslContext server(TlsSettings s) throws TlsException {
    checkPrivate(s.privateKey());
    try {
      SslContextBuilder b = SslContextBuilder.forServer(s.certificateChain().toFile(),
          s.privateKey().toFile());
      return common(b, s, TlsSettings.ALPN, TlsSettings.BRIDGE_ALPN)
          .trustManager(recording(trustManagers(s)))
          .clientAuth(ClientAuth.REQUIRE).build();
    } catch (TlsException e) {
      throw e;
    } catch (Exception e) {
      throw new TlsException("cannot make the server TLS context from "
          + s.certificateChain() + " and " + s.privateKey() + ": " + e.getMessage(), e);
    }
  }

  /** The client side: presents its certificate and validates the server's. */
  public static SslContext client(TlsSettings s) throws TlsException {
    return client(s, TlsSettings.ALPN);
  }

  /** As {@link #client(TlsSettings)}, offering the application protocol {@code alpn}. */
  public static SslContext client(TlsSettings s, String alpn) throws TlsException {
    checkPrivate(s.privateKey());
    try {
      SslContextBuilder b = SslContextBuilder.forClient().keyManager(
          s.certificateChain().toFile(), s.privateKey().toFile());
      return common(b, s, alpn).build();
    } catch (TlsException e) {
      throw e;
    } catch (Exception e) {
      throw new TlsException("cannot make the client TLS context from "
          + s.certificateChain() + " and " + s.privateKey() + ": " + e.getMessage(), e);
    }
  }

  /**
   * The client certificate the server's last handshake on this thread refused (untrusted,
   * expired, revoked...), once, or null: for the audit record of the refusal.
   */
  public static X509Certificate takeRefusedClient() {
    return RecordingTrustManager.takeRefused();
  }

  private static javax.net.ssl.TrustManager recording(TrustManagerFactory tmf)
      throws TlsException {
    for (javax.net.ssl.TrustManager tm : tmf.getTrustManagers()) {
      if (tm instanceof javax.net.ssl.X509ExtendedTrustManager x) {
        return new RecordingTrustManager(x);
      }
    }
    throw new TlsException("no X.509 trust manager for the client CAs");
  }

  /** A handler for one connection, with the handshake timeout applied. */
  public static SslHandler handler(SslContext ctx, ByteBufAllocator alloc, TlsSettings s) {
    SslHandler h = ctx.newHandler(alloc);
    h.setHandshakeTimeoutMillis(s.handshakeTimeout().toMillis());
    return h;
  }

  private static SslContextBuilder common(SslContextBuilder b, TlsSettings s, String... alpn)
      throws TlsException, GeneralSecurityException, IOException {
    SslProvider provider = provider(s.provider());
    List<String> protocols = s.allowTls12() ? List.of("TLSv1.3", "TLSv1.2") : List.of("TLSv1.3");
    List<String> ciphers = new ArrayList<>(TLS13);
    if (s.allowTls12()) {
      ciphers.addAll(TLS12_AEAD);
    }
    return b.sslProvider(provider)
        .protocols(protocols)
        .ciphers(ciphers)
        .trustManager(trustManagers(s))
        .applicationProtocolConfig(new ApplicationProtocolConfig(Protocol.ALPN,
            SelectorFailureBehavior.NO_ADVERTISE, SelectedListenerFailureBehavior.ACCEPT,
            alpn));
  }

  private static SslProvider provider(TlsSettings.Provider wanted) throws TlsException {
    if (wanted == TlsSettings.Provider.JDK) {
      return SslProvider.JDK;
    }
    if (wanted == TlsSettings.Provider.OPENSSL) {
      if (!OpenSsl.isAvailable()) {
        throw new TlsException("TLS provider OPENSSL asked for, but netty-tcnative does not"
            + " load here: " + OpenSsl.unavailabilityCause());
      }
      return SslProvider.OPENSSL;
    }
    SslProvider p = OpenSsl.isAvailable() ? SslProvider.OPENSSL : SslProvider.JDK;
    if (!providerLogged) {
      providerLogged = true;
      if (p == SslProvider.OPENSSL) {
        log.info("TLS provider: OpenSSL ({})", OpenSsl.versionString());
      } else {
        log.info("TLS provider: JDK (netty-tcnative is not available: {})",
            OpenSsl.unavailabilityCause() == null ? "unknown"
                : OpenSsl.unavailabilityCause().getMessage());
      }
    }
    return p;
  }

  /**
   * Checks client certificate chains as the server's handshake does (CA bundle, CRL, EKU), for
   * re-checking connections that are already open when the CAs or the CRL change.
   */
  public static javax.net.ssl.X509TrustManager clientValidator(TlsSettings s)
      throws TlsException {
    try {
      for (javax.net.ssl.TrustManager tm : trustManagers(s).getTrustManagers()) {
        if (tm instanceof javax.net.ssl.X509TrustManager x) {
          return x;
        }
      }
      throw new TlsException("no X.509 trust manager for " + s.trustedCas());
    } catch (TlsException e) {
      throw e;
    } catch (Exception e) {
      throw new TlsException("cannot load " + s.trustedCas() + ": " + e.getMessage(), e);
    }
  }

  /** PKIX validation to the CA bundle, with the CRL when one is configured. */
  static TrustManagerFactory trustManagers(TlsSettings s)
      throws TlsException, GeneralSecurityException, IOException {
    List<X509Certificate> cas = readCertificates(s.trustedCas());
    KeyStore ks = KeyStore.getInstance(KeyStore.getDefaultType());
    ks.load(null, null);
    int i = 0;
    for (X509Certificate ca : cas) {
      ks.setCertificateEntry("ca" + i++, ca);
    }
    PKIXBuilderParameters params = new PKIXBuilderParameters(ks, new X509CertSelector());
    if (s.crl() != null) {
      X509CRL crl = readCrl(s.crl(), cas);
      params.addCertStore(CertStore.getInstance("Collection",
          new CollectionCertStoreParameters(List.of(crl))));
      PKIXRevocationChecker rc = (PKIXRevocationChecker) CertPathBuilder.getInstance("PKIX")
          .getRevocationChecker();
      rc.setOptions(EnumSet.of(PKIXRevocationChecker.Option.PREFER_CRLS,
          PKIXRevocationChecker.Option.NO_FALLBACK));
      params.addCertPathChecker(rc);
      params.setRevocationEnabled(false); // the checker above does it, without fallback
    } else {
      params.setRevocationEnabled(false);
    }
    TrustManagerFactory tmf = TrustManagerFactory.getInstance("PKIX");
    tmf.init(new CertPathTrustManagerParameters(params));
    return tmf;
  }

  static List<X509Certificate> readCertificates(Path file) throws TlsException {
    try (InputStream in = Files.newInputStream(file)) {
      Collection<? extends java.security.cert.Certificate> certs =
          CertificateFactory.getInstance("X.509").generateCertificates(in);
      List<X509Certificate> out = new ArrayList<>();
      for (java.security.cert.Certificate c : certs) {
        out.add((X509Certificate) c);
      }
      if (out.isEmpty()) {
        throw new TlsException(file + ": no certificate in it");
      }
      return out;
    } catch (IOException | GeneralSecurityException e) {
      throw new TlsException(file + ": cannot read the CA certificates: " + e.getMessage(), e);
    }
  }

  /** Reads the CRL; refuses one that is unreadable, not signed by a trusted CA, or stale. */
  static X509CRL readCrl(Path file, List<X509Certificate> cas) throws TlsException {
    Collection<? extends CRL> crls;
    try (InputStream in = Files.newInputStream(file)) {
      crls = CertificateFactory.getInstance("X.509").generateCRLs(in);
    } catch (IOException | GeneralSecurityException e) {
      throw new TlsException(file + ": cannot read the CRL (refusing to run without it): "
          + e.getMessage(), e);
    }
    if (crls.size() != 1) {
      throw new TlsException(file + ": " + crls.size() + " CRLs (expected: 1)");
    }
    X509CRL crl = (X509CRL) crls.iterator().next();
    boolean signed = false;
    for (X509Certificate ca : cas) {
      try {
        crl.verify(ca.getPublicKey());
        signed = true;
        break;
      } catch (GeneralSecurityException e) {
        // try the next CA
      }
    }
    if (!signed) {
      throw new TlsException(file + ": the CRL is not signed by any trusted CA");
    }
    Date next = crl.getNextUpdate();
    if (next == null || next.before(new Date())) {
      throw new TlsException(file + ": the CRL is stale (next update was due " + next
          + "); refusing to run on an out-of-date revocation list");
    }
    return crl;
  }

  /** Key files readable by group or others are refused. */
  static void checkPrivate(Path key) throws TlsException {
    try {
      Set<PosixFilePermission> perms = Files.getPosixFilePermissions(key);
      if (perms.contains(PosixFilePermission.GROUP_READ)
          || perms.contains(PosixFilePermission.OTHERS_READ)
          || perms.contains(PosixFilePermission.GROUP_WRITE)
          || perms.contains(PosixFilePermission.OTHERS_WRITE)) {
        throw new TlsException(key + ": private key is accessible to group or others (mode "
            + java.nio.file.attribute.PosixFilePermissions.toString(perms)
            + "); make it owner-only, e.g. chmod 600");
      }
    } catch (UnsupportedOperationException e) {
      // not a POSIX file system
    } catch (IOException e) {
      if (e instanceof TlsException te) {
        throw te;
      }
      throw new TlsException(key + ": cannot read the private key: " + e.getMessage(), e);
    }
  }
}
