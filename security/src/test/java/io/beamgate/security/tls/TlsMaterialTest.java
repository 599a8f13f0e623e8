package io.beamgate.security.tls;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.beamgate.certs.DevCa;
import io.beamgate.certs.HeldCertificate;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.cert.X509CRL;
import java.time.Duration;
import java.util.List;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLEngineResult.HandshakeStatus;
import javax.net.ssl.SSLException;
import javax.net.ssl.TrustManager;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * TLS material as plain JDK objects, without a transport: built in memory, it completes a
 * mutually authenticated handshake between two JDK {@link SSLEngine}s; revocation and the
 * key-file rule refuse what they should.
 */
class TlsMaterialTest {
  @TempDir Path dir;

  @Test
  void inMemoryMaterialShakesHandsWithTheJdk() throws Exception {
    DevCa ca = DevCa.init(dir.resolve("ca"), "mem CA", Duration.ofDays(1), false);
    HeldCertificate server = ca.issue(HeldCertificate.builder().commonName("s")
        .dns("localhost").serverAuth());
    HeldCertificate client = ca.issue(HeldCertificate.builder().commonName("c").clientAuth());
    List<java.security.cert.X509Certificate> cas = List.of(ca.certificate().certificate());
    TlsMaterial s = TlsMaterial.of(server.keyPair().getPrivate(), server.chain(), cas,
        ca.crl(Duration.ofDays(1)));
    TlsMaterial c = TlsMaterial.of(client.keyPair().getPrivate(), client.chain(), cas, null);
    handshake(s, c);
  }

  @Test
  void aRevokedClientIsRefusedAndRecorded() throws Exception {
    DevCa ca = DevCa.init(dir.resolve("ca"), "mem CA", Duration.ofDays(1), false);
    HeldCertificate server = ca.issue(HeldCertificate.builder().commonName("s")
        .dns("localhost").serverAuth());
    HeldCertificate client = ca.issue(HeldCertificate.builder().commonName("c").clientAuth());
    ca.revoke(client.certificate());
    X509CRL crl = ca.crl(Duration.ofDays(1));
    List<java.security.cert.X509Certificate> cas = List.of(ca.certificate().certificate());
    TlsMaterial s = TlsMaterial.of(server.keyPair().getPrivate(), server.chain(), cas, crl);
    TlsMaterial c = TlsMaterial.of(client.keyPair().getPrivate(), client.chain(), cas, null);
    TrustManagers.takeRefusedClient();
    assertThrows(SSLException.class, () -> handshake(s, c));
    assertEquals(client.certificate(), TrustManagers.takeRefusedClient());
  }

  @Test
  void loadsFromFilesAndRefusesAnOpenKey() throws Exception {
    DevCa ca = DevCa.init(dir.resolve("ca"), "file CA", Duration.ofDays(1), false);
    ca.issue(HeldCertificate.builder().commonName("s").serverAuth())
        .writeTo(dir.resolve("s.pem"), dir.resolve("s.key"));
    TlsSettings settings = TlsSettings.of(dir.resolve("s.pem"), dir.resolve("s.key"),
        dir.resolve("ca/ca.pem"));
    assertEquals("s", TlsMaterial.load(settings).certificateChain().get(0)
        .getSubjectX500Principal().getName().replace("CN=", ""));
    Files.setPosixFilePermissions(dir.resolve("s.key"),
        PosixFilePermissions.fromString("rw-r--r--"));
    TlsException e = assertThrows(TlsException.class, () -> TlsMaterial.load(settings));
    assertTrue(e.getMessage().contains("accessible to group or others"), e.getMessage());
  }

  @Test
  void aFileWithoutAKeyIsRefusedWithItsName() throws Exception {
    Path notKey = dir.resolve("not.key");
    Files.writeString(notKey, "hello\n");
    TlsException e = assertThrows(TlsException.class, () -> TlsMaterial.readPrivateKey(notKey));
    assertTrue(e.getMessage().startsWith(notKey + ": no private key"), e.getMessage());
  }

  /** Runs a TLS 1.3 handshake between two engines in memory; throws what either refuses. */
  private static void handshake(TlsMaterial server, TlsMaterial client) throws Exception {
    SSLEngine s = engine(server, false);
    SSLEngine c = engine(client, true);
    ByteBuffer empty = ByteBuffer.allocate(0);
    ByteBuffer c2s = ByteBuffer.allocate(1 << 17);
    ByteBuffer s2c = ByteBuffer.allocate(1 << 17);
    ByteBuffer sink = ByteBuffer.allocate(1 << 17);
    c.beginHandshake();
    s.beginHandshake();
    for (int i = 0; i < 200; i++) {
      if (done(c) && done(s)) {
        return;
      }
      step(c, empty, c2s, s2c, sink);
      step(s, empty, s2c, c2s, sink);
    }
    throw new AssertionError("handshake did not finish: client " + c.getHandshakeStatus()
        + ", server " + s.getHandshakeStatus());
  }

  private static boolean done(SSLEngine e) {
    HandshakeStatus h = e.getHandshakeStatus();
    return h == HandshakeStatus.NOT_HANDSHAKING || h == HandshakeStatus.FINISHED;
  }

  private static void step(SSLEngine e, ByteBuffer empty, ByteBuffer out, ByteBuffer in,
      ByteBuffer sink) throws SSLException {
    Runnable task;
    while ((task = e.getDelegatedTask()) != null) {
      task.run();
    }
    e.wrap(empty, out);
    in.flip();
    e.unwrap(in, sink);
    in.compact();
    while ((task = e.getDelegatedTask()) != null) {
      task.run();
    }
  }

  private static SSLEngine engine(TlsMaterial m, boolean client) throws Exception {
    SSLContext ctx = SSLContext.getInstance("TLSv1.3");
    TrustManager tm = client ? m.trustManager() : TrustManagers.recording(m.trustManager());
    ctx.init(m.keyManagers(), new TrustManager[] {tm}, null);
    SSLEngine e = ctx.createSSLEngine("localhost", 443);
    e.setUseClientMode(client);
    if (!client) {
      e.setNeedClientAuth(true);
    }
    return e;
  }
}
