package io.beamgate.certs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What the builder makes, as openssl sees it. */
class HeldCertificateTest {
  @TempDir Path dir;

  private Path write(String name, HeldCertificate c) throws Exception {
    Path f = dir.resolve(name + ".pem");
    c.writeTo(f, dir.resolve(name + ".key"));
    return f;
  }

  private Path writeCert(String name, HeldCertificate c) throws Exception {
    Path f = dir.resolve(name + "-only.pem");
    Files.writeString(f, c.certificatePem());
    return f;
  }

  @Test
  void chainThroughAnIntermediateVerifiesWithOpenssl() throws Exception {
    HeldCertificate root = HeldCertificate.builder().commonName("root").certificateAuthority(1)
        .build();
    HeldCertificate inter = HeldCertificate.builder().commonName("inter")
        .certificateAuthority(0).signedBy(root).build();
    HeldCertificate server = HeldCertificate.builder().commonName("gw").dns("gw.example")
        .ip("127.0.0.1").uri("spiffe://example.org/gw").serverAuth().signedBy(inter).build();
    assertEquals(2, server.chain().size(), "leaf and intermediate, not the root");
    Path rootPem = writeCert("root", root);
    Path chain = write("server", server);
    OpenSsl.Result ok = OpenSsl.run("verify", "-CAfile", rootPem.toString(), "-untrusted",
        chain.toString(), "-purpose", "sslserver", chain.toString());
    assertEquals(0, ok.exit(), ok.output());
    String text = OpenSsl.run("x509", "-in", chain.toString(), "-noout", "-text").output();
    assertTrue(text.contains("DNS:gw.example"), text);
    assertTrue(text.contains("IP Address:127.0.0.1"), text);
    assertTrue(text.contains("URI:spiffe://example.org/gw"), text);
    assertTrue(text.contains("TLS Web Server Authentication"), text);
    assertTrue(text.contains("CA:FALSE"), text);
    assertTrue(text.contains("ASN1 OID: prime256v1"), text);
    String rootText = OpenSsl.run("x509", "-in", rootPem.toString(), "-noout", "-text").output();
    assertTrue(rootText.contains("CA:TRUE, pathlen:1"), rootText);
    assertTrue(rootText.contains("Certificate Sign, CRL Sign"), rootText);
  }

  @Test
  void expiredAndNotYetValidAreRefusedByOpenssl() throws Exception {
    HeldCertificate ca = HeldCertificate.builder().certificateAuthority(0).build();
    Path caPem = writeCert("ca", ca);
    Instant now = Instant.now();
    HeldCertificate expired = HeldCertificate.builder().commonName("old").clientAuth()
        .validity(now.minus(Duration.ofDays(10)), now.minus(Duration.ofDays(1))).signedBy(ca)
        .build();
    HeldCertificate future = HeldCertificate.builder().commonName("new").clientAuth()
        .validity(now.plus(Duration.ofDays(1)), now.plus(Duration.ofDays(10))).signedBy(ca)
        .build();
    OpenSsl.Result e = OpenSsl.run("verify", "-CAfile", caPem.toString(),
        write("expired", expired).toString());
    assertTrue(e.exit() != 0 && e.output().contains("certificate has expired"), e.output());
    OpenSsl.Result f = OpenSsl.run("verify", "-CAfile", caPem.toString(),
        write("future", future).toString());
    assertTrue(f.exit() != 0 && f.output().contains("not yet valid"), f.output());
  }

  @Test
  void wrongExtendedKeyUsageIsRefusedForThatPurpose() throws Exception {
    HeldCertificate ca = HeldCertificate.builder().certificateAuthority(0).build();
    HeldCertificate serverOnly = HeldCertificate.builder().dns("s").serverAuth().signedBy(ca)
        .build();
    OpenSsl.Result r = OpenSsl.run("verify", "-CAfile", writeCert("ca", ca).toString(),
        "-purpose", "sslclient", write("s", serverOnly).toString());
    assertTrue(r.exit() != 0 && (r.output().contains("unsupported certificate purpose")
        || r.output().contains("unsuitable certificate purpose")),
        r.output());
  }

  @Test
  void rsaOnRequestAndNeverBelow2048() throws Exception {
    HeldCertificate rsa = HeldCertificate.builder().commonName("r").rsa(2048).build();
    String text = OpenSsl.run("x509", "-in", writeCert("rsa", rsa).toString(), "-noout",
        "-text").output();
    assertTrue(text.contains("rsaEncryption") && text.contains("2048 bit"), text);
    assertThrows(IllegalArgumentException.class, () -> HeldCertificate.builder().rsa(1024));
  }

  @Test
  void keyFileIsOwnerOnlyAndParsesAsPkcs8() throws Exception {
    HeldCertificate c = HeldCertificate.builder().commonName("k").build();
    write("k", c);
    Path key = dir.resolve("k.key");
    assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(key)));
    // PKCS#8 (not a "BEGIN EC ..." traditional key): the PEM label is exactly this.
    String label = "PRIVATE" + " KEY";
    assertTrue(Files.readString(key).startsWith("-----BEGIN " + label + "-----"));
    OpenSsl.Result r = OpenSsl.run("pkey", "-in", key.toString(), "-noout");
    assertEquals(0, r.exit(), r.output());
  }

  @Test
  void serialsAreRandomPositiveAndUnique() {
    Set<BigInteger> seen = new HashSet<>();
    for (int i = 0; i < 200; i++) {
      BigInteger s = HeldCertificate.builder().commonName("s" + i).build().serial();
      assertTrue(s.signum() > 0 && s.bitLength() <= 159 && s.bitLength() >= 150);
      assertTrue(seen.add(s), "duplicate serial");
    }
    assertNotEquals(1, seen.size());
  }

  @Test
  void badValidityIsRefused() {
    Instant now = Instant.now();
    assertThrows(IllegalArgumentException.class,
        () -> HeldCertificate.builder().validity(now, now.minusSeconds(1)));
  }
}
