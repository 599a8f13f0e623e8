package io.beamgate.security.identity;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.beamgate.certs.HeldCertificate;
import java.security.MessageDigest;
import java.util.HexFormat;
import org.junit.jupiter.api.Test;

class PrincipalTest {
  @Test
  void uriThenDnsThenCn() throws Exception {
    Principal all = Principal.of(HeldCertificate.builder().commonName("cn-name")
        .dns("host.example").uri("spiffe://example.org/app").build().certificate());
    assertEquals("spiffe://example.org/app", all.name());
    assertEquals(Principal.Kind.URI, all.kind());
    Principal dns = Principal.of(HeldCertificate.builder().commonName("cn-name")
        .dns("host.example").build().certificate());
    assertEquals("host.example", dns.name());
    assertEquals(Principal.Kind.DNS, dns.kind());
    Principal cn = Principal.of(HeldCertificate.builder().commonName("legacy client")
        .build().certificate());
    assertEquals("legacy client", cn.name());
    assertEquals(Principal.Kind.CN, cn.kind());
  }

  @Test
  void fingerprintIsSha256OfTheCertificate() throws Exception {
    HeldCertificate c = HeldCertificate.builder().commonName("f").build();
    Principal p = Principal.of(c.certificate());
    assertEquals(HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256")
        .digest(c.certificate().getEncoded())), p.fingerprintSha256());
    assertTrue(PrincipalMatcher.parse("sha256:" + p.fingerprintSha256().toUpperCase())
        .matches(p));
    assertEquals(c.serial().toString(16), p.serialHex());
  }

  @Test
  void aCnNeverSatisfiesASanRule() throws Exception {
    Principal cnOnly = Principal.of(HeldCertificate.builder().commonName("app.example")
        .build().certificate());
    assertFalse(PrincipalMatcher.parse("dns:app.example").matches(cnOnly));
    assertFalse(PrincipalMatcher.parse("uri:app.example").matches(cnOnly));
    assertTrue(PrincipalMatcher.parse("cn:app.example").matches(cnOnly));
  }

  @Test
  void exactAndExplicitPrefixMatching() throws Exception {
    Principal p = Principal.of(HeldCertificate.builder().uri("spiffe://example.org/ns/a/app")
        .dns("Host.Example").build().certificate());
    assertTrue(PrincipalMatcher.parse("uri:spiffe://example.org/ns/a/app").matches(p));
    assertFalse(PrincipalMatcher.parse("uri:spiffe://example.org/ns/a").matches(p),
        "no implicit prefix");
    assertTrue(PrincipalMatcher.parse("uri:spiffe://example.org/ns/*").matches(p));
    assertFalse(PrincipalMatcher.parse("uri:spiffe://example.org/other/*").matches(p));
    assertTrue(PrincipalMatcher.parse("dns:host.example").matches(p), "DNS is case-blind");
  }

  @Test
  void nulControlAndLookAlikeCharactersAreRefused() {
    for (String bad : new String[] {"evil\u0000.example", "tab\tname", "p\u0430ypal.example"}) {
      IdentityException e = assertThrows(IdentityException.class, () -> Principal.of(
          HeldCertificate.builder().commonName(bad).build().certificate()), bad);
      assertTrue(e.getMessage().contains("refused"), e.getMessage());
    }
    // IA5String SANs cannot hold non-ASCII, but they can hold a NUL.
    IdentityException dns = assertThrows(IdentityException.class, () -> Principal.of(
        HeldCertificate.builder().dns("good.example\u0000.evil.com").build().certificate()));
    assertTrue(dns.getMessage().contains("NUL"), dns.getMessage());
  }

  @Test
  void badRulesAreExplained() {
    for (String bad : new String[] {"app.example", "email:x", "uri:", "uri:*", "uri:a*b*",
        "sha256:ab*", "dns:b\u0430d"}) {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> PrincipalMatcher.parse(bad), bad);
      assertTrue(e.getMessage().contains("principal rule"), e.getMessage());
    }
  }
}
