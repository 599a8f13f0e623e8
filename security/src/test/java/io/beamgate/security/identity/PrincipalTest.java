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
    assertFalse(PrincipalMatcher.parse("uri:dns:app.example").matches(cnOnly));
    assertTrue(PrincipalMatcher.parse("cn:app.example").matches(cnOnly));
  }

  @Test
  void aCertificateWithTwoUriSansIsRefusedNotMatchedOnEither() {
    IdentityException e = assertThrows(IdentityException.class, () -> Principal.of(
        HeldCertificate.builder().uri("spiffe://test/nobody").uri("spiffe://test/alice")
            .build().certificate()));
    assertTrue(e.getMessage().contains("2 URI SANs [spiffe://test/nobody, spiffe://test/alice]")
        && e.getMessage().contains("expected: exactly one"), e.getMessage());
  }

  @Test
  void rulesMatchTheOneNameOnlyNeverASecondSanOrTheCn() throws Exception {
    // Named as the first DNS SAN; the second gives no rights.
    Principal dns = Principal.of(HeldCertificate.builder().commonName("alice")
        .dns("nobody.example").dns("alice.example").build().certificate());
    assertEquals("nobody.example", dns.name());
    assertTrue(PrincipalMatcher.parse("dns:nobody.example").matches(dns));
    assertFalse(PrincipalMatcher.parse("dns:alice.example").matches(dns));
    assertFalse(PrincipalMatcher.parse("dns:alice*").matches(dns));
    assertFalse(PrincipalMatcher.parse("cn:alice").matches(dns), "the CN is not its name");
    // Named as its URI SAN: its DNS SAN and CN give no rights.
    Principal uri = Principal.of(HeldCertificate.builder().commonName("alice")
        .dns("alice.example").uri("spiffe://test/nobody").build().certificate());
    assertEquals("spiffe://test/nobody", uri.name());
    assertFalse(PrincipalMatcher.parse("dns:alice.example").matches(uri));
    assertFalse(PrincipalMatcher.parse("cn:alice").matches(uri));
    assertTrue(PrincipalMatcher.parse("uri:spiffe://test/*").matches(uri));
    // A fingerprint pins the certificate whatever its name.
    assertTrue(PrincipalMatcher.parse("sha256:" + uri.fingerprintSha256()).matches(uri));
    assertTrue(PrincipalMatcher.parse("sha256:" + dns.fingerprintSha256()).matches(dns));
  }

  @Test
  void valuesNoCertificateCanCarryAreRefusedWithTheReason() {
    String hex = "ab".repeat(32);
    String[][] cases = {
        {"sha256:abc", "3 hex digits (expected: 64"},
        {"sha256:" + hex + "ab", "66 hex digits"},
        {"sha256:" + hex.substring(2) + "zz", "'z' is not a hex digit"},
        {"uri:app.example", "not an absolute URI"},
        {"uri:spiffe://example.org/my app", "space"},
        {"uri:spiffe://example.org/a b*", "space"},
        {"uri:spif fe*", "space"},
        {"uri:1spiffe://x", "not an absolute URI"},
        {"uri:spiffe://example.org/a^b", "not a URI"},
        {"dns:under_score.example", "'under_score' is not a DNS label"},
        {"dns:-lead.example", "not a DNS label"},
        {"dns:a..example", "'' is not a DNS label"},
        {"dns:trailing.", "'' is not a DNS label"},
        {"dns:" + "a".repeat(64) + ".example", "not a DNS label"},
        {"dns:spiffe://example.org", "not a DNS label"},
        {"dns:" + "a.".repeat(127) + "a", "255 characters"},
    };
    for (String[] c : cases) {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> PrincipalMatcher.parse(c[0]), c[0]);
      assertTrue(e.getMessage().startsWith("principal rule '" + c[0] + "': ")
          && e.getMessage().contains(c[1]), c[0] + " -> " + e.getMessage());
    }
    // ...and what certificates do carry is accepted.
    for (String good : new String[] {"sha256:" + hex, "sha256:" + hex.toUpperCase()
        .replaceAll("(..)(?!$)", "$1:"), "uri:spiffe://example.org/app",
        "uri:spiffe://example.org/ns/*", "uri:urn:uuid:0f8fad5b-d9cb-469f-a165-70867728950e",
        "uri:spif*", "dns:client.example.org", "dns:Client-1.Example.ORG", "dns:x",
        "dns:client-*", "dns:api.*", "cn:legacy client", "cn:a_b*"}) {
      PrincipalMatcher.parse(good);
    }
  }

  @Test
  void veryBroadPrefixesSayWhyAndNarrowOnesDoNot() {
    String[][] broad = {
        {"uri:spif*", "every URI whose scheme starts with 'spif'"},
        {"uri:spiffe:*", "every spiffe: URI"},
        {"uri:spiffe://*", "every spiffe: URI"},
        {"uri:spiffe://example.org*", "ends inside the authority 'example.org'"},
        {"uri:spiffe://example.org/*", "every workload of spiffe://example.org"},
        {"dns:client-*", "every DNS name starting with 'client-'"},
        {"dns:client.example*", "every DNS name starting with 'client.example'"},
    };
    for (String[] b : broad) {
      String why = PrincipalMatcher.parse(b[0]).breadth();
      assertTrue(why != null && why.contains(b[1]), b[0] + " -> " + why);
    }
    for (String narrow : new String[] {"uri:spiffe://example.org/ns/*",
        "uri:spiffe://example.org/app", "dns:api.example.org", "dns:api.example.*",
        "cn:a*", "sha256:" + "0".repeat(64)}) {
      assertEquals(null, PrincipalMatcher.parse(narrow).breadth(), narrow);
    }
  }

  @Test
  void exactAndExplicitPrefixMatching() throws Exception {
    Principal p = Principal.of(HeldCertificate.builder().uri("spiffe://example.org/ns/a/app")
        .build().certificate());
    assertTrue(PrincipalMatcher.parse("uri:spiffe://example.org/ns/a/app").matches(p));
    assertFalse(PrincipalMatcher.parse("uri:spiffe://example.org/ns/a").matches(p),
        "no implicit prefix");
    assertTrue(PrincipalMatcher.parse("uri:spiffe://example.org/ns/*").matches(p));
    assertFalse(PrincipalMatcher.parse("uri:spiffe://example.org/other/*").matches(p));
    Principal host = Principal.of(HeldCertificate.builder().dns("Host.Example").build()
        .certificate());
    assertTrue(PrincipalMatcher.parse("dns:host.example").matches(host), "DNS is case-blind");
    assertTrue(PrincipalMatcher.parse("dns:HOST.*").matches(host));
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
