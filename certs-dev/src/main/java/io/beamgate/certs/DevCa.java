package io.beamgate.certs;

import java.io.IOException;
import java.io.Reader;
import java.io.StringReader;
import java.io.StringWriter;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.PrivateKey;
import java.security.cert.X509CRL;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.bouncycastle.asn1.x509.CRLReason;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.X509v2CRLBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CRLConverter;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * A development certificate authority kept in a directory: {@code ca.pem} (the certificate),
 * {@code ca.key} (its PKCS#8 key, mode 0600), {@code revoked.txt} (revoked serials, one
 * {@code hex-serial epoch-seconds} a line) and {@code crl-number.txt}. For development and
 * tests only: production admins bring their own CA.
 */
public final class DevCa {
  public static final String CERT = "ca.pem";
  public static final String KEY = "ca.key";
  public static final String REVOKED = "revoked.txt";
  public static final String CRL_NUMBER = "crl-number.txt";

  private final Path dir;
  private final HeldCertificate ca;

  private DevCa(Path dir, HeldCertificate ca) {
    this.dir = dir;
    this.ca = ca;
  }

  public HeldCertificate certificate() {
    return ca;
  }

  public Path dir() {
    return dir;
  }

  /** Creates a CA in {@code dir} (made with mode 0700 if missing); refuses to overwrite one. */
  public static DevCa init(Path dir, String commonName, Duration validity, boolean rsa)
      throws IOException {
    if (Files.exists(dir.resolve(KEY)) || Files.exists(dir.resolve(CERT))) {
      throw new IOException("a CA already exists in " + dir + " (refusing to overwrite it)");
    }
    if (!Files.exists(dir)) {
      try {
        Files.createDirectories(dir,
            PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
      } catch (UnsupportedOperationException e) {
        Files.createDirectories(dir);
      }
    }
    HeldCertificate.Builder b = HeldCertificate.builder().commonName(commonName)
        .certificateAuthority(1).validity(validity);
    if (rsa) {
      b.rsa(2048);
    }
    HeldCertificate ca = b.build();
    ca.writeTo(dir.resolve(CERT), dir.resolve(KEY));
    Files.writeString(dir.resolve(REVOKED), "");
    Files.writeString(dir.resolve(CRL_NUMBER), "1\n");
    return new DevCa(dir, ca);
  }

  /** Opens the CA in {@code dir}. */
  public static DevCa open(Path dir) throws IOException {
    Path certFile = dir.resolve(CERT);
    Path keyFile = dir.resolve(KEY);
    if (!Files.exists(certFile) || !Files.exists(keyFile)) {
      throw new IOException("no CA in " + dir + " (expected " + CERT + " and " + KEY
          + "; make one with `beamgate certs init-ca --out " + dir + "`)");
    }
    X509Certificate cert = readCertificates(certFile).get(0);
    PrivateKey key = readPrivateKey(keyFile);
    return new DevCa(dir, HeldCertificate.of(cert, new KeyPair(cert.getPublicKey(), key),
        List.of()));
  }

  /** Issues a certificate signed by this CA. */
  public HeldCertificate issue(HeldCertificate.Builder b) {
    return b.signedBy(ca).build();
  }

  /** Records {@code cert} as revoked; it must have been issued by this CA. */
  public void revoke(X509Certificate cert) throws IOException {
    try {
      cert.verify(ca.certificate().getPublicKey());
    } catch (GeneralSecurityException e) {
      throw new IOException("the certificate (serial " + cert.getSerialNumber().toString(16)
          + ") was not issued by this CA");
    }
    Map<BigInteger, Instant> revoked = revoked();
    if (revoked.containsKey(cert.getSerialNumber())) {
      return;
    }
    Files.writeString(dir.resolve(REVOKED), cert.getSerialNumber().toString(16) + " "
        + Instant.now().getEpochSecond() + "\n", StandardCharsets.US_ASCII,
        java.nio.file.StandardOpenOption.APPEND);
  }

  /** Revoked serials and when. */
  public Map<BigInteger, Instant> revoked() throws IOException {
    Map<BigInteger, Instant> m = new LinkedHashMap<>();
    Path f = dir.resolve(REVOKED);
    if (!Files.exists(f)) {
      return m;
    }
    int n = 0;
    for (String line : Files.readAllLines(f, StandardCharsets.US_ASCII)) {
      n++;
      if (line.isBlank()) {
        continue;
      }
      String[] p = line.trim().split("\\s+");
      try {
        m.put(new BigInteger(p[0], 16), Instant.ofEpochSecond(Long.parseLong(p[1])));
      } catch (RuntimeException e) {
        throw new IOException(f + ":" + n + ": expected 'hex-serial epoch-seconds'");
      }
    }
    return m;
  }

  /** A CRL of every revoked serial, valid for {@code validity}, with the next CRL number. */
  public X509CRL crl(Duration validity) throws IOException {
    try {
      Instant now = Instant.now();
      X509v2CRLBuilder b = new X509v2CRLBuilder(
          new X509CertificateHolder(ca.certificate().getEncoded()).getSubject(), Date.from(now));
      b.setNextUpdate(Date.from(now.plus(validity)));
      for (Map.Entry<BigInteger, Instant> e : revoked().entrySet()) {
        b.addCRLEntry(e.getKey(), Date.from(e.getValue()), CRLReason.unspecified);
      }
      BigInteger number = nextCrlNumber();
      b.addExtension(Extension.cRLNumber, false, new org.bouncycastle.asn1.x509.CRLNumber(number));
      b.addExtension(Extension.authorityKeyIdentifier, false,
          new JcaX509ExtensionUtils().createAuthorityKeyIdentifier(ca.certificate()));
      String alg = ca.keyPair().getPrivate().getAlgorithm().equals("RSA") ? "SHA256withRSA"
          : "SHA256withECDSA";
      return new JcaX509CRLConverter().setProvider(Pki.PROVIDER).getCRL(b.build(
          new JcaContentSignerBuilder(alg).setProvider(Pki.PROVIDER)
              .build(ca.keyPair().getPrivate())));
    } catch (GeneralSecurityException | OperatorCreationException e) {
      throw new IOException("cannot make the CRL: " + e.getMessage(), e);
    }
  }

  private BigInteger nextCrlNumber() throws IOException {
    Path f = dir.resolve(CRL_NUMBER);
    BigInteger n = Files.exists(f) ? new BigInteger(Files.readString(f).trim()) : BigInteger.ONE;
    Files.writeString(f, n.add(BigInteger.ONE) + "\n");
    return n;
  }

  public static String pem(X509CRL crl) {
    StringWriter w = new StringWriter();
    try (JcaPEMWriter pw = new JcaPEMWriter(w)) {
      pw.writeObject(crl);
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
    return w.toString();
  }

  /** Every certificate in a PEM file, in order. */
  public static List<X509Certificate> readCertificates(Path file) throws IOException {
    List<X509Certificate> out = new ArrayList<>();
    try (Reader r = new StringReader(Files.readString(file, StandardCharsets.US_ASCII));
        PEMParser p = new PEMParser(r)) {
      for (Object o; (o = p.readObject()) != null; ) {
        if (o instanceof X509CertificateHolder h) {
          out.add(new JcaX509CertificateConverter().setProvider(Pki.PROVIDER).getCertificate(h));
        }
      }
    } catch (GeneralSecurityException e) {
      throw new IOException(file + ": not a valid certificate: " + e.getMessage(), e);
    }
    if (out.isEmpty()) {
      throw new IOException(file + ": no PEM certificate found");
    }
    return out;
  }

  /** A PKCS#8 PEM private key. */
  public static PrivateKey readPrivateKey(Path file) throws IOException {
    try (Reader r = new StringReader(Files.readString(file, StandardCharsets.US_ASCII));
        PEMParser p = new PEMParser(r)) {
      Object o = p.readObject();
      if (o instanceof PrivateKeyInfo info) {
        return new JcaPEMKeyConverter().setProvider(Pki.PROVIDER).getPrivateKey(info);
      }
      throw new IOException(file + ": expected an unencrypted PKCS#8 private key (BEGIN"
          + " PRIVATE KEY)");
    }
  }
}
