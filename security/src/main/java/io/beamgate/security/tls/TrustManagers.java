package io.beamgate.security.tls;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
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
import java.time.Clock;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Date;
import java.util.EnumSet;
import java.util.List;
import javax.net.ssl.CertPathTrustManagerParameters;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509ExtendedTrustManager;
import javax.net.ssl.X509TrustManager;

/**
 * JDK trust managers for beamgate's links: PKIX validation to a CA bundle, with validity dates
 * and, when a CRL is given, revocation without fallback (an unknown status fails). Built from
 * files or in memory; no transport types.
 */
public final class TrustManagers {
  private TrustManagers() {}

  /** PKIX validation to {@code cas}, revocation by {@code crl} when it is not null. */
  public static X509ExtendedTrustManager pkix(List<X509Certificate> cas, X509CRL crl)
      throws TlsException {
    try {
      KeyStore ks = KeyStore.getInstance(KeyStore.getDefaultType());
      ks.load(null, null);
      int i = 0;
      for (X509Certificate ca : cas) {
        ks.setCertificateEntry("ca" + i++, ca);
      }
      PKIXBuilderParameters params = new PKIXBuilderParameters(ks, new X509CertSelector());
      if (crl != null) {
        params.addCertStore(CertStore.getInstance("Collection",
            new CollectionCertStoreParameters(List.of(crl))));
        PKIXRevocationChecker rc = (PKIXRevocationChecker) CertPathBuilder.getInstance("PKIX")
            .getRevocationChecker();
        rc.setOptions(EnumSet.of(PKIXRevocationChecker.Option.PREFER_CRLS,
            PKIXRevocationChecker.Option.NO_FALLBACK));
        params.addCertPathChecker(rc);
      }
      // With a CRL the checker above does it, without fallback; without one there is none.
      params.setRevocationEnabled(false);
      TrustManagerFactory tmf = TrustManagerFactory.getInstance("PKIX");
      tmf.init(new CertPathTrustManagerParameters(params));
      for (TrustManager tm : tmf.getTrustManagers()) {
        if (tm instanceof X509ExtendedTrustManager x) {
          return x;
        }
      }
      throw new TlsException("no X.509 trust manager for the CAs");
    } catch (GeneralSecurityException | IOException e) {
      if (e instanceof TlsException te) {
        throw te;
      }
      throw new TlsException("cannot make a trust manager for the CAs: " + e.getMessage(), e);
    }
  }

  /**
   * The trust manager of {@code s}: its CA bundle and, when set, its CRL; the client chains it
   * accepts are remembered as {@link TlsSettings#chainCache()} says ({@link VerifiedChainCache}).
   */
  public static X509ExtendedTrustManager of(TlsSettings s) throws TlsException {
    List<X509Certificate> cas = readCertificates(s.trustedCas());
    X509CRL crl = s.crl() == null ? null : readCrl(s.crl(), cas);
    X509ExtendedTrustManager pkix = pkix(cas, crl);
    if (!s.chainCache().enabled()) {
      return pkix;
    }
    return new VerifiedChainCache(pkix, s.chainCache(),
        crl == null ? null : crl.getNextUpdate().toInstant(), Clock.systemUTC());
  }

  /**
   * Checks client certificate chains as the server's handshake does (CA bundle, CRL, EKU), for
   * re-checking connections that are already open when the CAs or the CRL change.
   */
  public static X509TrustManager clientValidator(TlsSettings s) throws TlsException {
    // Each re-check is of a chain once, after a change: nothing to gain from a cache.
    return of(s.withChainCache(ChainCacheLimits.OFF));
  }

  /**
   * Wraps {@code delegate} so that the leaf of a client chain it refuses can be taken with
   * {@link #takeRefusedClient()} on the thread of the failed handshake.
   */
  public static X509ExtendedTrustManager recording(X509ExtendedTrustManager delegate) {
    return new RecordingTrustManager(delegate);
  }

  /**
   * The client certificate the server's last handshake on this thread refused (untrusted,
   * expired, revoked...), once, or null: for the audit record of the refusal.
   */
  public static X509Certificate takeRefusedClient() {
    return RecordingTrustManager.takeRefused();
  }

  /** The CA certificates of a PEM bundle; refuses a file with none. */
  public static List<X509Certificate> readCertificates(Path file) throws TlsException {
    return readCertificates(file, "the CA certificates");
  }

  /** The certificates of a PEM file ({@code what}, for the message); refuses one with none. */
  static List<X509Certificate> readCertificates(Path file, String what) throws TlsException {
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
      if (e instanceof TlsException te) {
        throw te;
      }
      throw new TlsException(file + ": cannot read " + what + ": " + e.getMessage(), e);
    }
  }

  /** Reads the CRL; refuses one that is unreadable, not signed by a trusted CA, or stale. */
  public static X509CRL readCrl(Path file, List<X509Certificate> cas) throws TlsException {
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
}
