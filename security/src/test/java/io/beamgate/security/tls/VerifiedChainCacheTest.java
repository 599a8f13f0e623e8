package io.beamgate.security.tls;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.beamgate.certs.DevCa;
import io.beamgate.certs.HeldCertificate;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.X509ExtendedTrustManager;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The cache of validated client chains, from the attacker's side: it never lets through a
 * chain the trust manager would refuse now. The trust manager under it counts its calls and
 * checks the certificates' dates at the test's clock (the JDK's PKIX checks them at the real
 * time, which a test does not move).
 */
class VerifiedChainCacheTest {
  @TempDir Path dir;
  DevCa ca;
  MovableClock clock;
  Counting pkix;

  /** A clock the test moves; no sleeping. */
  static final class MovableClock extends Clock {
    Instant now = Instant.now();

    @Override
    public Instant instant() {
      return now;
    }

    @Override
    public java.time.ZoneId getZone() {
      return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(java.time.ZoneId zone) {
      return this;
    }

    void add(Duration d) {
      now = now.plus(d);
    }
  }

  /** PKIX to the CA, with the dates checked at the test's clock; counts client checks. */
  static final class Counting extends X509ExtendedTrustManager {
    final X509ExtendedTrustManager pkix;
    final Clock clock;
    int calls;

    Counting(X509ExtendedTrustManager pkix, Clock clock) {
      this.pkix = pkix;
      this.clock = clock;
    }

    private void atClock(X509Certificate[] chain) throws CertificateException {
      calls++;
      for (X509Certificate c : chain) {
        c.checkValidity(java.util.Date.from(clock.instant()));
      }
    }

    @Override
    public void checkClientTrusted(X509Certificate[] c, String a, SSLEngine e)
        throws CertificateException {
      atClock(c);
      pkix.checkClientTrusted(c, a, e);
    }

    @Override
    public void checkClientTrusted(X509Certificate[] c, String a, Socket s)
        throws CertificateException {
      atClock(c);
      pkix.checkClientTrusted(c, a, s);
    }

    @Override
    public void checkClientTrusted(X509Certificate[] c, String a) throws CertificateException {
      atClock(c);
      pkix.checkClientTrusted(c, a);
    }

    @Override
    public void checkServerTrusted(X509Certificate[] c, String a, SSLEngine e) {
      throw new UnsupportedOperationException();
    }

    @Override
    public void checkServerTrusted(X509Certificate[] c, String a, Socket s) {
      throw new UnsupportedOperationException();
    }

    @Override
    public void checkServerTrusted(X509Certificate[] c, String a) {
      throw new UnsupportedOperationException();
    }

    @Override
    public X509Certificate[] getAcceptedIssuers() {
      return pkix.getAcceptedIssuers();
    }
  }

  @BeforeEach
  void setUp() throws Exception {
    ca = DevCa.init(dir.resolve("ca"), "cache CA", Duration.ofDays(1), false);
    clock = new MovableClock();
    pkix = new Counting(TrustManagers.pkix(List.of(ca.certificate().certificate()), null),
        clock);
  }

  VerifiedChainCache cache(int entries, Duration maxAge, Instant crlNextUpdate) {
    return new VerifiedChainCache(pkix, new ChainCacheLimits(entries, maxAge), crlNextUpdate,
        clock);
  }

  X509Certificate[] client(String cn) {
    return chain(ca.issue(HeldCertificate.builder().commonName(cn).clientAuth()));
  }

  static X509Certificate[] chain(HeldCertificate c) {
    return c.chain().toArray(new X509Certificate[0]);
  }

  @Test
  void aChainAcceptedOnceIsNotValidatedAgain() throws Exception {
    VerifiedChainCache c = cache(10, Duration.ofMinutes(5), null);
    X509Certificate[] alice = client("alice");
    c.checkClientTrusted(alice, "EC");
    c.checkClientTrusted(alice.clone(), "EC");
    assertEquals(1, pkix.calls);
    assertEquals(1, c.size());
  }

  @Test
  void eachOfTheThreeClientOverloadsGoesThroughTheCacheOnItsOwn() throws Exception {
    VerifiedChainCache c = cache(10, Duration.ofMinutes(5), null);
    X509Certificate[] alice = client("alice");
    for (int i = 0; i < 2; i++) {
      c.checkClientTrusted(alice, "EC");
      c.checkClientTrusted(alice, "EC", (SSLEngine) null);
      c.checkClientTrusted(alice, "EC", (Socket) null);
    }
    // one validation per overload: a chain validated by one is not trusted by another
    assertEquals(3, pkix.calls);
    c.checkClientTrusted(alice, "RSA");
    assertEquals(4, pkix.calls, "another authType is another entry");
  }

  @Test
  void aRefusedChainIsNeverRememberedAndRefusedEveryTime() throws Exception {
    DevCa foreign = DevCa.init(dir.resolve("foreign"), "foreign CA", Duration.ofDays(1), false);
    VerifiedChainCache c = cache(10, Duration.ofMinutes(5), null);
    X509Certificate[] mallory = chain(foreign.issue(HeldCertificate.builder()
        .commonName("mallory").clientAuth()));
    for (int i = 1; i <= 3; i++) {
      assertThrows(CertificateException.class, () -> c.checkClientTrusted(mallory, "EC"));
      assertEquals(i, pkix.calls);
    }
    assertEquals(0, c.size());
  }

  @Test
  void aCachedLeafWithAnotherIntermediateOfTheSameNameAndKeyIsValidatedAndRefused()
      throws Exception {
    HeldCertificate inter = ca.issue(HeldCertificate.builder().commonName("issuing")
        .certificateAuthority(0));
    HeldCertificate leaf = HeldCertificate.builder().commonName("alice").clientAuth()
        .signedBy(inter).build();
    X509Certificate[] good = {leaf.certificate(), inter.certificate()};
    VerifiedChainCache c = cache(10, Duration.ofMinutes(5), null);
    c.checkClientTrusted(good, "EC");
    // The attacker's intermediate: the same subject and key, so the cached leaf's signature
    // verifies under it, but issued by a CA the gateway does not trust.
    HeldCertificate foreignRoot = HeldCertificate.builder().commonName("foreign root")
        .certificateAuthority(1).build();
    HeldCertificate twin = HeldCertificate.builder().commonName("issuing")
        .certificateAuthority(0).keyPair(inter.keyPair()).signedBy(foreignRoot).build();
    X509Certificate[] forged = {leaf.certificate(), twin.certificate()};
    assertThrows(CertificateException.class, () -> c.checkClientTrusted(forged, "EC"));
    assertEquals(2, pkix.calls, "the forged chain was validated, not taken from the cache");
    // and the leaf alone, or with the intermediate twice, is another chain too
    c.checkClientTrusted(new X509Certificate[] {leaf.certificate(), inter.certificate(),
        inter.certificate()}, "EC");
    assertEquals(3, pkix.calls);
  }

  @Test
  void aCertificateThatExpiresAfterBeingCachedIsValidatedAgainAndRefused() throws Exception {
    Instant now = clock.instant();
    X509Certificate[] shortLived = chain(ca.issue(HeldCertificate.builder().commonName("brief")
        .clientAuth().validity(now.minus(Duration.ofMinutes(1)), now.plus(Duration.ofMinutes(2)))));
    VerifiedChainCache c = cache(10, Duration.ofHours(1), null);
    c.checkClientTrusted(shortLived, "EC");
    clock.add(Duration.ofMinutes(1));
    c.checkClientTrusted(shortLived, "EC");
    assertEquals(1, pkix.calls, "still within its dates: from the cache");
    clock.add(Duration.ofMinutes(2));
    assertThrows(java.security.cert.CertificateExpiredException.class,
        () -> c.checkClientTrusted(shortLived, "EC"));
    assertEquals(2, pkix.calls);
    assertEquals(0, c.size(), "the stale entry is dropped");
  }

  @Test
  void anEntryOlderThanTheMaxAgeIsValidatedAgain() throws Exception {
    VerifiedChainCache c = cache(10, Duration.ofMinutes(5), null);
    X509Certificate[] alice = client("alice");
    c.checkClientTrusted(alice, "EC");
    clock.add(Duration.ofMinutes(5).minusMillis(1));
    c.checkClientTrusted(alice, "EC");
    assertEquals(1, pkix.calls, "just within the max age");
    clock.add(Duration.ofMillis(1));
    c.checkClientTrusted(alice, "EC");
    assertEquals(2, pkix.calls, "at the max age");
  }

  @Test
  void noEntryOutlivesTheCrlsNextUpdate() throws Exception {
    Instant next = clock.instant().plus(Duration.ofMinutes(2));
    VerifiedChainCache c = cache(10, Duration.ofHours(1), next);
    X509Certificate[] alice = client("alice");
    c.checkClientTrusted(alice, "EC");
    clock.add(Duration.ofMinutes(1));
    c.checkClientTrusted(alice, "EC");
    assertEquals(1, pkix.calls);
    clock.add(Duration.ofMinutes(1));
    c.checkClientTrusted(alice, "EC");
    assertEquals(2, pkix.calls, "past the CRL's next update the chain is validated again");
  }

  @Test
  void aFullCacheEvictsTheLeastRecentlyUsedAndStaysCorrect() throws Exception {
    VerifiedChainCache c = cache(2, Duration.ofMinutes(5), null);
    X509Certificate[] a = client("a");
    X509Certificate[] b = client("b");
    X509Certificate[] d = client("d");
    c.checkClientTrusted(a, "EC");
    c.checkClientTrusted(b, "EC");
    c.checkClientTrusted(a, "EC"); // a is now the most recently used
    c.checkClientTrusted(d, "EC"); // b goes
    assertEquals(2, c.size());
    assertEquals(3, pkix.calls);
    c.checkClientTrusted(a, "EC");
    assertEquals(3, pkix.calls, "a stayed");
    c.checkClientTrusted(b, "EC");
    assertEquals(4, pkix.calls, "b was evicted and is validated again");
    DevCa foreign = DevCa.init(dir.resolve("foreign"), "foreign CA", Duration.ofDays(1), false);
    X509Certificate[] mallory = chain(foreign.issue(HeldCertificate.builder()
        .commonName("mallory").clientAuth()));
    assertThrows(CertificateException.class, () -> c.checkClientTrusted(mallory, "EC"));
    assertEquals(2, c.size());
  }

  @Test
  void zeroEntriesTurnsItOff() throws Exception {
    VerifiedChainCache c = cache(0, Duration.ofMinutes(5), null);
    X509Certificate[] alice = client("alice");
    c.checkClientTrusted(alice, "EC");
    c.checkClientTrusted(alice, "EC");
    assertEquals(2, pkix.calls);
    assertEquals(0, c.size());
  }

  @Test
  void aCachedChainRevokedByANewCrlIsRefusedByTheNewTrustManager() throws Exception {
    HeldCertificate srv = ca.issue(HeldCertificate.builder().commonName("s").serverAuth());
    srv.writeTo(dir.resolve("s.pem"), dir.resolve("s.key"));
    Path crl1 = dir.resolve("crl1.pem");
    Files.writeString(crl1, DevCa.pem(ca.crl(Duration.ofDays(1))));
    TlsSettings s = TlsSettings.of(dir.resolve("s.pem"), dir.resolve("s.key"),
        dir.resolve("ca/ca.pem")).withCrl(crl1);
    HeldCertificate alice = ca.issue(HeldCertificate.builder().commonName("alice")
        .clientAuth());
    X509ExtendedTrustManager before = TrustManagers.of(s);
    assertTrue(before instanceof VerifiedChainCache, "the default settings cache");
    before.checkClientTrusted(chain(alice), "EC");
    assertEquals(1, ((VerifiedChainCache) before).size());
    ca.revoke(alice.certificate());
    Path crl2 = dir.resolve("crl2.pem");
    Files.writeString(crl2, DevCa.pem(ca.crl(Duration.ofDays(1))));
    // What a reload does: the files read again, a new trust manager (and its own cache).
    X509ExtendedTrustManager after = TrustManagers.of(s.withCrl(crl2));
    CertificateException e = assertThrows(CertificateException.class,
        () -> after.checkClientTrusted(chain(alice), "EC"));
    assertTrue(String.valueOf(e.getMessage()).toLowerCase().contains("revoked"),
        e.getMessage());
  }

  @Test
  void theRecordingOfRefusedClientsSeesThroughTheCache() throws Exception {
    DevCa foreign = DevCa.init(dir.resolve("foreign"), "foreign CA", Duration.ofDays(1), false);
    X509ExtendedTrustManager tm = TrustManagers.recording(cache(10, Duration.ofMinutes(5), null));
    X509Certificate[] alice = client("alice");
    X509Certificate[] mallory = chain(foreign.issue(HeldCertificate.builder()
        .commonName("mallory").clientAuth()));
    TrustManagers.takeRefusedClient();
    tm.checkClientTrusted(alice, "EC", (SSLEngine) null);
    tm.checkClientTrusted(alice, "EC", (SSLEngine) null);
    assertEquals(null, TrustManagers.takeRefusedClient());
    assertThrows(CertificateException.class,
        () -> tm.checkClientTrusted(mallory, "EC", (SSLEngine) null));
    assertEquals(mallory[0], TrustManagers.takeRefusedClient());
  }

  @Test
  void limitsOutOfRangeAreRefusedWithTheirValue() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> new ChainCacheLimits(-1, Duration.ofMinutes(1)));
    assertTrue(e.getMessage().contains("-1"), e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> new ChainCacheLimits(1, Duration.ZERO));
  }
}
