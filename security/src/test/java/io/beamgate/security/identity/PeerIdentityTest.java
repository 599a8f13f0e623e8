package io.beamgate.security.identity;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.beamgate.certs.HeldCertificate;
import io.beamgate.security.audit.AuditRecord;
import java.net.InetSocketAddress;
import java.security.cert.X509Certificate;
import org.junit.jupiter.api.Test;

class PeerIdentityTest {
  @Test
  void theIdentityIsTheLeafsPrincipalWithItsChainAndAddress() throws Exception {
    X509Certificate leaf = HeldCertificate.builder().dns("app.example").build().certificate();
    PeerIdentity who = PeerIdentity.of(new X509Certificate[] {leaf},
        PeerIdentity.address(new InetSocketAddress("127.0.0.1", 5000)));
    assertEquals(Principal.of(leaf), who.principal());
    assertEquals("app.example", who.name());
    assertEquals("127.0.0.1:5000", who.address(), "no leading slash");
    X509Certificate[] chain = who.chain();
    assertSame(leaf, chain[0]);
    chain[0] = null;
    assertSame(leaf, who.chain()[0], "the chain handed out is a copy");
    assertNotSame(who.chain(), who.chain());
  }

  @Test
  void noCertificateIsNoIdentity() {
    IdentityException e = assertThrows(IdentityException.class,
        () -> PeerIdentity.of(new X509Certificate[0], "127.0.0.1:5000"));
    assertTrue(e.getMessage().contains("no client certificate"), e.getMessage());
  }

  @Test
  void anAuditRecordOfTheIdentityNamesItsPrincipalCertificateAndAddress() throws Exception {
    X509Certificate leaf = HeldCertificate.builder().uri("spiffe://t/app").build().certificate();
    PeerIdentity who = PeerIdentity.of(new X509Certificate[] {leaf}, "10.0.0.7:41000");
    AuditRecord r = AuditRecord.of(who).link("to-b").mfa("kv:get/1")
        .decision(AuditRecord.Decision.ALLOWED).build();
    assertEquals(AuditRecord.VERSION, r.v());
    assertEquals("spiffe://t/app", r.principal());
    assertEquals(who.principal().fingerprintSha256(), r.fingerprint());
    assertEquals(who.principal().serialHex(), r.serial());
    assertEquals("10.0.0.7:41000", r.peer());
    assertEquals("to-b", r.link());
    assertThrows(NullPointerException.class, () -> AuditRecord.of(who).build(),
        "a record needs a decision");
  }
}
