package io.beamgate.security.tls;

import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.X509CRL;
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import javax.net.ssl.KeyManager;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.X509ExtendedTrustManager;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.openssl.PEMEncryptedKeyPair;
import org.bouncycastle.openssl.PEMKeyPair;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.pkcs.PKCS8EncryptedPrivateKeyInfo;

/**
 * One side's TLS material as plain JDK objects: its private key and certificate chain, and the
 * trust manager that validates the peer (PKIX to the CAs, with the CRL when there is one).
 * Loaded from PEM files ({@link #load}) or built in memory ({@link #of}, for tests and
 * embedders); the transport turns it into its own context (the gateway's
 * {@code io.beamgate.gateway.transport.TlsContexts} for Netty, {@link #keyManagers()} for the
 * JDK's {@code SSLContext}). No transport types here.
 *
 * @param privateKey this side's key
 * @param certificateChain this side's certificate, then its intermediates
 * @param trustManager validates the peer's chain
 */
public record TlsMaterial(PrivateKey privateKey, List<X509Certificate> certificateChain,
    X509ExtendedTrustManager trustManager) {
  private static final char[] NO_PASSWORD = new char[0];

  public TlsMaterial {
    Objects.requireNonNull(privateKey, "privateKey");
    Objects.requireNonNull(trustManager, "trustManager");
    certificateChain = List.copyOf(certificateChain);
    if (certificateChain.isEmpty()) {
      throw new IllegalArgumentException("certificateChain: empty (expected: the certificate"
          + " of the key, then its intermediates)");
    }
  }

  /** In memory: trust {@code cas}, revoke by {@code crl} when it is not null. */
  public static TlsMaterial of(PrivateKey key, List<X509Certificate> chain,
      List<X509Certificate> cas, X509CRL crl) throws TlsException {
    return new TlsMaterial(key, chain, TrustManagers.pkix(cas, crl));
  }

  /**
   * From the files of {@code s}: the key must be owner-only, the CA bundle must hold a
   * certificate, the CRL (when set) must be signed by one of them and current.
   */
  public static TlsMaterial load(TlsSettings s) throws TlsException {
    checkPrivate(s.privateKey());
    PrivateKey key = readPrivateKey(s.privateKey());
    List<X509Certificate> chain = TrustManagers.readCertificates(s.certificateChain(),
        "the certificate chain");
    return new TlsMaterial(key, chain, TrustManagers.of(s));
  }

  /** The key and chain as JDK key managers, for an {@code SSLContext}. */
  public KeyManager[] keyManagers() throws TlsException {
    try {
      KeyStore ks = KeyStore.getInstance("PKCS12");
      ks.load(null, null);
      ks.setKeyEntry("key", privateKey, NO_PASSWORD,
          certificateChain.toArray(new X509Certificate[0]));
      KeyManagerFactory kmf = KeyManagerFactory.getInstance(
          KeyManagerFactory.getDefaultAlgorithm());
      kmf.init(ks, NO_PASSWORD);
      return kmf.getKeyManagers();
    } catch (GeneralSecurityException | IOException e) {
      throw new TlsException("cannot make key managers: " + e.getMessage(), e);
    }
  }

  /** An unencrypted PEM private key (PKCS#8, or the older SEC1/PKCS#1 forms). */
  public static PrivateKey readPrivateKey(Path file) throws TlsException {
    Object pem;
    try (Reader r = Files.newBufferedReader(file, StandardCharsets.US_ASCII);
         PEMParser parser = new PEMParser(r)) {
      pem = parser.readObject();
    } catch (IOException e) {
      throw new TlsException(file + ": cannot read the private key: " + e.getMessage(), e);
    }
    if (pem instanceof PKCS8EncryptedPrivateKeyInfo || pem instanceof PEMEncryptedKeyPair) {
      throw new TlsException(file + ": the private key is encrypted (expected: an unencrypted"
          + " PKCS#8 PEM key, owner-only)");
    }
    PrivateKeyInfo info = pem instanceof PrivateKeyInfo p ? p
        : pem instanceof PEMKeyPair kp ? kp.getPrivateKeyInfo() : null;
    if (info == null) {
      throw new TlsException(file + ": no private key in it (expected: a PEM PRIVATE KEY)");
    }
    byte[] der;
    try {
      der = info.getEncoded();
    } catch (IOException e) {
      throw new TlsException(file + ": cannot read the private key: " + e.getMessage(), e);
    }
    for (String algorithm : List.of("EC", "RSA", "Ed25519", "Ed448", "RSASSA-PSS")) {
      try {
        return KeyFactory.getInstance(algorithm).generatePrivate(new PKCS8EncodedKeySpec(der));
      } catch (GeneralSecurityException e) {
        // not this algorithm; try the next
      }
    }
    throw new TlsException(file + ": unsupported private key algorithm "
        + info.getPrivateKeyAlgorithm().getAlgorithm() + " (expected: EC, RSA or EdDSA)");
  }

  /** Key files readable or writable by group or others are refused. */
  public static void checkPrivate(Path key) throws TlsException {
    try {
      Set<PosixFilePermission> perms = Files.getPosixFilePermissions(key);
      if (perms.contains(PosixFilePermission.GROUP_READ)
          || perms.contains(PosixFilePermission.OTHERS_READ)
          || perms.contains(PosixFilePermission.GROUP_WRITE)
          || perms.contains(PosixFilePermission.OTHERS_WRITE)) {
        throw new TlsException(key + ": private key is accessible to group or others (mode "
            + PosixFilePermissions.toString(perms) + "); make it owner-only, e.g. chmod 600");
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
