package io.beamgate.gateway.config;

import java.io.IOException;
import java.io.InputStream;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.Signature;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.openssl.PEMEncryptedKeyPair;
import org.bouncycastle.openssl.PEMKeyPair;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;
import org.bouncycastle.pkcs.PKCS8EncryptedPrivateKeyInfo;

/**
 * The listener's TLS files, checked one by one as the TLS stacks will judge them at run time,
 * so that {@code gateway check} reports each problem with what to do: the server certificate's
 * dates and extended key usage, whether the key is the certificate's, and whether the client
 * CA file holds CAs. What these checks pass, {@code TlsMaterial} still loads afterwards.
 */
final class TlsFilesCheck {
  /** A server certificate closer than this to its end is a warning. */
  static final Duration EXPIRY_WARNING = Duration.ofDays(30);
  private static final String SERVER_AUTH = "1.3.6.1.5.5.7.3.1";
  private static final String ANY_EKU = "2.5.29.37.0";

  private final List<String> errors;
  private final List<String> warnings;
  private final Instant now;

  TlsFilesCheck(List<String> errors, List<String> warnings, Instant now) {
    this.errors = errors;
    this.warnings = warnings;
    this.now = now;
  }

  /** Checks the server certificate and its key; true when no error was found. */
  boolean server(Path certFile, Path keyFile) {
    int before = errors.size();
    List<X509Certificate> chain = certificates(certFile, "tls.certificate",
        "the server's certificate chain, PEM, its own certificate first");
    if (chain != null) {
      X509Certificate leaf = chain.get(0);
      dates(certFile, leaf);
      extendedKeyUsage(certFile, leaf);
    }
    String secret = ConfigCheck.secretProblem(keyFile, "tls.key");
    if (secret != null) {
      errors.add(secret);
    } else {
      PrivateKey key = privateKey(keyFile);
      if (key != null && chain != null) {
        keyMatches(key, chain.get(0).getPublicKey(), keyFile, certFile);
      }
    }
    return errors.size() == before;
  }

  /** Checks that the client CA file holds CAs; true when no error was found. */
  boolean clientCas(Path file) {
    int before = errors.size();
    List<X509Certificate> cas = certificates(file, "tls.client_cas",
        "the PEM certificates of the CAs that issue client certificates");
    if (cas == null) {
      return false;
    }
    for (int i = 0; i < cas.size(); i++) {
      X509Certificate ca = cas.get(i);
      String which = "tls.client_cas " + file + ": certificate " + (i + 1) + " ("
          + ca.getSubjectX500Principal().getName() + ")";
      if (ca.getBasicConstraints() < 0) {
        errors.add(which + " is not a CA (no basicConstraints CA:true), so no client"
            + " certificate validates against it: give the certificate of the CA that issues"
            + " client certificates, not a client's or the server's own");
      } else if (ca.getKeyUsage() != null && !ca.getKeyUsage()[5]) {
        errors.add(which + " has a key usage without keyCertSign: certificates it signed are"
            + " refused; re-issue the CA with keyCertSign");
      }
    }
    return errors.size() == before;
  }

  /** Only reads the CRL (for when the CAs cannot be used to check it further). */
  void crlReadable(Path file) {
    try (InputStream in = Files.newInputStream(file)) {
      if (CertificateFactory.getInstance("X.509").generateCRLs(in).isEmpty()) {
        errors.add("tls.crl " + file + ": no CRL in it (expected: one PEM or DER CRL)");
      }
    } catch (IOException | GeneralSecurityException e) {
      errors.add("tls.crl " + file + ": cannot read the CRL (refusing to run without it): "
          + e.getClass().getSimpleName() + ": " + e.getMessage());
    }
  }

  private List<X509Certificate> certificates(Path file, String key, String expected) {
    try (InputStream in = Files.newInputStream(file)) {
      List<X509Certificate> out = new ArrayList<>();
      for (java.security.cert.Certificate c : CertificateFactory.getInstance("X.509")
          .generateCertificates(in)) {
        out.add((X509Certificate) c);
      }
      if (out.isEmpty()) {
        errors.add(key + " " + file + ": no certificate in it (expected: " + expected + ")");
        return null;
      }
      return out;
    } catch (IOException | GeneralSecurityException e) {
      errors.add(key + " " + file + ": cannot read it (" + e.getClass().getSimpleName() + ": "
          + e.getMessage() + "; expected: " + expected + ")");
      return null;
    }
  }

  private void dates(Path file, X509Certificate c) {
    Instant from = c.getNotBefore().toInstant();
    Instant until = c.getNotAfter().toInstant();
    String which = "tls.certificate " + file + ": the server certificate ("
        + c.getSubjectX500Principal().getName() + ")";
    if (now.isAfter(until)) {
      errors.add(which + " expired on " + until + ", " + days(until, now) + " ago: clients"
          + " refuse it; renew it, then reload the gateway");
    } else if (now.isBefore(from)) {
      errors.add(which + " is not valid before " + from + " (in " + days(now, from) + "):"
          + " clients refuse it until then; check this machine's clock, or issue one valid"
          + " now");
    } else if (Duration.between(now, until).compareTo(EXPIRY_WARNING) < 0) {
      warnings.add(which + " expires on " + until + ", in " + days(now, until) + ": renew it"
          + " before then (a reload picks up the new one)");
    }
  }

  private static String days(Instant a, Instant b) {
    long d = ChronoUnit.DAYS.between(a, b);
    return d == 0 ? "less than a day" : d == 1 ? "1 day" : d + " days";
  }

  private void extendedKeyUsage(Path file, X509Certificate c) {
    List<String> eku;
    try {
      eku = c.getExtendedKeyUsage();
    } catch (java.security.cert.CertificateParsingException e) {
      errors.add("tls.certificate " + file + ": unreadable extended key usage: "
          + e.getMessage());
      return;
    }
    if (eku != null && !eku.contains(SERVER_AUTH) && !eku.contains(ANY_EKU)) {
      errors.add("tls.certificate " + file + ": the extended key usage " + names(eku)
          + " has no serverAuth: TLS clients (the JDK, OTP's ssl, other gateways) refuse it"
          + " as a server certificate; issue it with serverAuth (beamgate certs issue"
          + " --server, or --gateway for a bridging gateway)");
    }
  }

  private static List<String> names(List<String> oids) {
    List<String> out = new ArrayList<>();
    for (String oid : oids) {
      out.add(switch (oid) {
        case "1.3.6.1.5.5.7.3.2" -> "clientAuth";
        case "1.3.6.1.5.5.7.3.3" -> "codeSigning";
        case "1.3.6.1.5.5.7.3.4" -> "emailProtection";
        default -> oid;
      });
    }
    return out;
  }

  private PrivateKey privateKey(Path file) {
    String what = "tls.key " + file + ": ";
    try (Reader r = Files.newBufferedReader(file, StandardCharsets.US_ASCII);
        PEMParser p = new PEMParser(r)) {
      for (Object o; (o = p.readObject()) != null; ) {
        JcaPEMKeyConverter conv = new JcaPEMKeyConverter();
        if (o instanceof PrivateKeyInfo info) {
          return conv.getPrivateKey(info);
        }
        if (o instanceof PEMKeyPair pair) {
          return conv.getKeyPair(pair).getPrivate();
        }
        if (o instanceof PKCS8EncryptedPrivateKeyInfo || o instanceof PEMEncryptedKeyPair) {
          errors.add(what + "the key is encrypted, and the gateway has no passphrase for it;"
              + " give an unencrypted PKCS#8 key, owner-only (chmod 400)");
          return null;
        }
      }
      errors.add(what + "no private key in it (expected: a PEM-encoded PKCS#8 private key)");
    } catch (IOException | RuntimeException e) {
      errors.add(what + "cannot read the private key (" + e.getMessage()
          + "; expected: a PEM-encoded PKCS#8 private key)");
    }
    return null;
  }

  /** Signs with the key and verifies with the certificate: the one test every key type has. */
  private void keyMatches(PrivateKey key, PublicKey pub, Path keyFile, Path certFile) {
    String alg = switch (key.getAlgorithm()) {
      case "RSA" -> "SHA256withRSA";
      case "EC", "ECDSA" -> "SHA256withECDSA";
      case "Ed25519", "EdDSA" -> "Ed25519";
      case "Ed448" -> "Ed448";
      default -> null;
    };
    boolean matches;
    try {
      if (alg == null || !key.getAlgorithm().equals(pub.getAlgorithm())
          && !(key.getAlgorithm().startsWith("EC") && pub.getAlgorithm().startsWith("EC"))) {
        matches = alg == null; // a type we cannot test is left to the TLS stack below
      } else {
        byte[] probe = "beamgate key check".getBytes(StandardCharsets.US_ASCII);
        Signature s = Signature.getInstance(alg);
        s.initSign(key);
        s.update(probe);
        byte[] sig = s.sign();
        Signature v = Signature.getInstance(alg);
        v.initVerify(pub);
        v.update(probe);
        matches = v.verify(sig);
      }
    } catch (GeneralSecurityException e) {
      matches = false;
    }
    if (!matches) {
      errors.add("tls.key " + keyFile + ": not the key of the certificate in " + certFile
          + " (their public keys differ): every handshake would fail; give the key the"
          + " certificate was issued for");
    }
  }
}
