package io.beamgate.certs;

import java.io.IOException;
import java.io.StringWriter;
import java.math.BigInteger;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x500.X500NameBuilder;
import org.bouncycastle.asn1.x500.style.BCStyle;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.openssl.jcajce.JcaPKCS8Generator;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * A certificate and its private key, made on the fly: certificate authorities, intermediates,
 * server and client certificates, and broken ones for tests (expired, not yet valid, wrong key
 * usage). EC P-256 by default, RSA on request; random 159-bit serial numbers. In the spirit of
 * okhttp-tls's HeldCertificate.
 *
 * <pre>{@code
 * HeldCertificate ca = HeldCertificate.builder().commonName("dev CA").certificateAuthority(1)
 *     .build();
 * HeldCertificate server = HeldCertificate.builder().commonName("gw").dns("gw.example")
 *     .ip("127.0.0.1").serverAuth().signedBy(ca).build();
 * }</pre>
 */
public final class HeldCertificate {
  private static final SecureRandom RANDOM = new SecureRandom();

  private final X509Certificate certificate;
  private final KeyPair keyPair;
  private final List<X509Certificate> chain;

  private HeldCertificate(X509Certificate certificate, KeyPair keyPair,
      List<X509Certificate> chain) {
    this.certificate = certificate;
    this.keyPair = keyPair;
    this.chain = List.copyOf(chain);
  }

  /** Wraps an existing certificate and key (as read from files). */
  public static HeldCertificate of(X509Certificate certificate, KeyPair keyPair,
      List<X509Certificate> issuers) {
    List<X509Certificate> chain = new ArrayList<>();
    chain.add(certificate);
    chain.addAll(issuers);
    return new HeldCertificate(certificate, keyPair, chain);
  }

  public static Builder builder() {
    return new Builder();
  }

  public X509Certificate certificate() {
    return certificate;
  }

  public KeyPair keyPair() {
    return keyPair;
  }

  /** This certificate, then its issuers up to (not including) the root it was signed under. */
  public List<X509Certificate> chain() {
    return chain;
  }

  public BigInteger serial() {
    return certificate.getSerialNumber();
  }

  /** The certificate as PEM. */
  public String certificatePem() {
    return pem(List.of(certificate));
  }

  /** The chain as PEM, leaf first. */
  public String chainPem() {
    return pem(chain);
  }

  /** The private key as unencrypted PKCS#8 PEM. */
  public String privateKeyPkcs8Pem() {
    StringWriter w = new StringWriter();
    try (JcaPEMWriter pw = new JcaPEMWriter(w)) {
      pw.writeObject(new JcaPKCS8Generator(keyPair.getPrivate(), null));
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
    return w.toString();
  }

  static String pem(List<X509Certificate> certs) {
    StringWriter w = new StringWriter();
    try (JcaPEMWriter pw = new JcaPEMWriter(w)) {
      for (X509Certificate c : certs) {
        pw.writeObject(c);
      }
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
    return w.toString();
  }

  /**
   * Writes {@code certFile} (the chain, PEM) and {@code keyFile} (PKCS#8 PEM, created with mode
   * 0600 so no other user can ever read it, not even briefly).
   */
  public void writeTo(Path certFile, Path keyFile) throws IOException {
    Files.writeString(certFile, chainPem(), StandardCharsets.US_ASCII);
    writePrivate(keyFile, privateKeyPkcs8Pem());
  }

  static void writePrivate(Path file, String content) throws IOException {
    Files.deleteIfExists(file);
    Set<PosixFilePermission> owner = PosixFilePermissions.fromString("rw-------");
    try {
      Files.createFile(file, PosixFilePermissions.asFileAttribute(owner));
    } catch (UnsupportedOperationException e) {
      Files.createFile(file);
    }
    Files.writeString(file, content, StandardCharsets.US_ASCII, StandardOpenOption.WRITE,
        StandardOpenOption.TRUNCATE_EXISTING);
  }

  /** Makes a {@link HeldCertificate}. Safe defaults: EC P-256, valid from now for 24 hours. */
  public static final class Builder {
    private String commonName;
    private String organizationalUnit;
    private final List<String> dnsNames = new ArrayList<>();
    private final List<String> ipAddresses = new ArrayList<>();
    private final List<String> uris = new ArrayList<>();
    private Instant notBefore;
    private Instant notAfter;
    private Duration validity = Duration.ofHours(24);
    private int maxIntermediates = -1;
    private boolean serverAuth;
    private boolean clientAuth;
    private boolean rsa;
    private int rsaBits = 2048;
    private HeldCertificate issuer;
    private BigInteger serial;
    private KeyPair keyPair;

    private Builder() {}

    public Builder commonName(String cn) {
      this.commonName = cn;
      return this;
    }

    public Builder organizationalUnit(String ou) {
      this.organizationalUnit = ou;
      return this;
    }

    /** A DNS subject alternative name. */
    public Builder dns(String name) {
      dnsNames.add(Objects.requireNonNull(name));
      return this;
    }

    /** An IP address subject alternative name. */
    public Builder ip(String address) {
      ipAddresses.add(Objects.requireNonNull(address));
      return this;
    }

    /** A URI subject alternative name (a SPIFFE ID, say). */
    public Builder uri(String uri) {
      uris.add(Objects.requireNonNull(uri));
      return this;
    }

    /** Valid for {@code d} from now. */
    public Builder validity(Duration d) {
      this.validity = d;
      this.notBefore = null;
      this.notAfter = null;
      return this;
    }

    /** Valid between two instants (in the past for an expired one, future for not-yet-valid). */
    public Builder validity(Instant from, Instant until) {
      if (!until.isAfter(from)) {
        throw new IllegalArgumentException("validity: " + from + " .. " + until
            + " (expected: until after from)");
      }
      this.notBefore = from;
      this.notAfter = until;
      return this;
    }

    /** A CA certificate that may sign {@code maxIntermediates} levels of CAs below it. */
    public Builder certificateAuthority(int maxIntermediates) {
      if (maxIntermediates < 0) {
        throw new IllegalArgumentException("maxIntermediates: " + maxIntermediates
            + " (expected: >= 0)");
      }
      this.maxIntermediates = maxIntermediates;
      return this;
    }

    /** Extended key usage serverAuth (TLS servers). */
    public Builder serverAuth() {
      this.serverAuth = true;
      return this;
    }

    /** Extended key usage clientAuth (TLS clients). */
    public Builder clientAuth() {
      this.clientAuth = true;
      return this;
    }

    public Builder rsa(int bits) {
      if (bits < 2048) {
        throw new IllegalArgumentException("RSA key size: " + bits + " (expected: >= 2048)");
      }
      this.rsa = true;
      this.rsaBits = bits;
      return this;
    }

    public Builder ecdsa256() {
      this.rsa = false;
      return this;
    }

    /** Signed by {@code issuer} (self-signed when never called). */
    public Builder signedBy(HeldCertificate issuer) {
      this.issuer = issuer;
      return this;
    }

    /** A chosen serial number (tests of duplicates); random otherwise. */
    public Builder serialNumber(BigInteger serial) {
      this.serial = serial;
      return this;
    }

    /** Uses an existing key pair instead of generating one. */
    public Builder keyPair(KeyPair kp) {
      this.keyPair = kp;
      return this;
    }

    public HeldCertificate build() {
      try {
        KeyPair kp = keyPair != null ? keyPair : generateKeyPair();
        Instant from = notBefore != null ? notBefore : Instant.now().minusSeconds(60);
        Instant until = notAfter != null ? notAfter : from.plus(validity).plusSeconds(60);
        X500Name subject = name();
        X500Name issuerName = issuer == null ? subject
            : X500Name.getInstance(issuer.certificate().getSubjectX500Principal().getEncoded());
        KeyPair signingKey = issuer == null ? kp : issuer.keyPair();
        BigInteger sn = serial != null ? serial : new BigInteger(159, RANDOM).setBit(158);
        X509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(issuerName, sn,
            Date.from(from), Date.from(until), subject, kp.getPublic());
        JcaX509ExtensionUtils ext = new JcaX509ExtensionUtils();
        b.addExtension(Extension.subjectKeyIdentifier, false,
            ext.createSubjectKeyIdentifier(kp.getPublic()));
        if (issuer != null) {
          b.addExtension(Extension.authorityKeyIdentifier, false,
              ext.createAuthorityKeyIdentifier(issuer.certificate()));
        }
        if (maxIntermediates >= 0) {
          b.addExtension(Extension.basicConstraints, true, new BasicConstraints(maxIntermediates));
          b.addExtension(Extension.keyUsage, true,
              new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign));
        } else {
          b.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
          int usage = KeyUsage.digitalSignature | (rsa ? KeyUsage.keyEncipherment : 0);
          b.addExtension(Extension.keyUsage, true, new KeyUsage(usage));
          List<KeyPurposeId> purposes = new ArrayList<>();
          if (serverAuth) {
            purposes.add(KeyPurposeId.id_kp_serverAuth);
          }
          if (clientAuth) {
            purposes.add(KeyPurposeId.id_kp_clientAuth);
          }
          if (!purposes.isEmpty()) {
            b.addExtension(Extension.extendedKeyUsage, false,
                new ExtendedKeyUsage(purposes.toArray(KeyPurposeId[]::new)));
          }
        }
        List<GeneralName> sans = new ArrayList<>();
        uris.forEach(u -> sans.add(new GeneralName(GeneralName.uniformResourceIdentifier, u)));
        dnsNames.forEach(d -> sans.add(new GeneralName(GeneralName.dNSName, d)));
        for (String ip : ipAddresses) {
          InetAddress a = InetAddress.getByName(ip);
          sans.add(new GeneralName(GeneralName.iPAddress,
              new org.bouncycastle.asn1.DEROctetString(a.getAddress())));
        }
        if (!sans.isEmpty()) {
          b.addExtension(Extension.subjectAlternativeName, false,
              new GeneralNames(sans.toArray(GeneralName[]::new)));
        }
        String alg = signingKey.getPrivate().getAlgorithm().equals("RSA") ? "SHA256withRSA"
            : "SHA256withECDSA";
        X509Certificate cert = new JcaX509CertificateConverter().setProvider(Pki.PROVIDER)
            .getCertificate(b.build(new JcaContentSignerBuilder(alg).setProvider(Pki.PROVIDER)
                .build(signingKey.getPrivate())));
        List<X509Certificate> chain = new ArrayList<>();
        chain.add(cert);
        if (issuer != null && issuer.chain().size() > 0
            && !isSelfSigned(issuer.certificate())) {
          chain.addAll(issuer.chain());
        }
        return new HeldCertificate(cert, kp, chain);
      } catch (GeneralSecurityException | IOException | OperatorCreationException e) {
        throw new IllegalStateException("cannot make the certificate: " + e.getMessage(), e);
      }
    }

    private X500Name name() {
      X500NameBuilder nb = new X500NameBuilder(BCStyle.INSTANCE);
      if (organizationalUnit != null) {
        nb.addRDN(BCStyle.OU, organizationalUnit);
      }
      nb.addRDN(BCStyle.CN, commonName != null ? commonName
          : "beamgate " + Long.toHexString(RANDOM.nextLong()));
      return nb.build();
    }

    private KeyPair generateKeyPair() throws GeneralSecurityException {
      if (rsa) {
        KeyPairGenerator g = KeyPairGenerator.getInstance("RSA");
        g.initialize(rsaBits, RANDOM);
        return g.generateKeyPair();
      }
      KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
      g.initialize(new ECGenParameterSpec("secp256r1"), RANDOM);
      return g.generateKeyPair();
    }
  }

  static boolean isSelfSigned(X509Certificate c) {
    return c.getSubjectX500Principal().equals(c.getIssuerX500Principal());
  }
}
