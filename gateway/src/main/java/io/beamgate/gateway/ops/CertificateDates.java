package io.beamgate.gateway.ops;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.cert.CRL;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.cert.X509CRL;
import java.security.cert.X509Certificate;
import java.time.Instant;

/**
 * The dates an operator alerts on, read from the PEM files in force: the listener's
 * certificate's not-after, the earliest not-after of the client CAs, the CRL's next update.
 * Null where a file has none or cannot be read (the reload that loaded them has checked them).
 */
public record CertificateDates(Instant certificateNotAfter, Instant clientCasNotAfter,
    Instant crlNextUpdate) {

  public static CertificateDates read(Path certificate, Path clientCas, Path crl) {
    return new CertificateDates(firstNotAfter(certificate, false),
        firstNotAfter(clientCas, true), nextUpdate(crl));
  }

  /** The leaf's not-after ({@code earliest}: the earliest of all the file holds). */
  private static Instant firstNotAfter(Path p, boolean earliest) {
    if (p == null) {
      return null;
    }
    try (InputStream in = Files.newInputStream(p)) {
      Instant out = null;
      for (Certificate c : CertificateFactory.getInstance("X.509").generateCertificates(in)) {
        Instant t = ((X509Certificate) c).getNotAfter().toInstant();
        if (out == null || (earliest && t.isBefore(out))) {
          out = t;
        }
        if (!earliest) {
          break;
        }
      }
      return out;
    } catch (IOException | GeneralSecurityException | ClassCastException e) {
      return null;
    }
  }

  private static Instant nextUpdate(Path p) {
    if (p == null) {
      return null;
    }
    try (InputStream in = Files.newInputStream(p)) {
      for (CRL c : CertificateFactory.getInstance("X.509").generateCRLs(in)) {
        if (c instanceof X509CRL x && x.getNextUpdate() != null) {
          return x.getNextUpdate().toInstant();
        }
      }
      return null;
    } catch (IOException | GeneralSecurityException e) {
      return null;
    }
  }
}
