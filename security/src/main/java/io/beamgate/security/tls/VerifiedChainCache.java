package io.beamgate.security.tls;

import java.net.Socket;
import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.cert.CertificateEncodingException;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLSession;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.X509ExtendedTrustManager;

/**
 * Remembers the client chains its trust manager accepted, so that a client reconnecting with
 * the same certificates skips the PKIX path validation (about a sixth of a full handshake's
 * CPU in the gateway). It skips nothing else: the TLS CertificateVerify, the client's proof
 * that it holds the leaf's private key, is still checked by the TLS engine on every handshake;
 * only the validation of byte-for-byte identical certificates is not repeated.
 *
 * <p>Why it is safe:
 * <ul>
 *   <li>The key is a SHA-256 over the whole chain's DER (each certificate length-prefixed, in
 *       order), the authType, the TLS version and which overload was called: any other
 *       intermediate, order or extra certificate is another key, validated in full.
 *   <li>Only successes are kept; a refused chain is validated again every time.
 *   <li>An entry is used only while now is within every certificate's notBefore..notAfter,
 *       before the CRL's nextUpdate (when there is a CRL; after it the validation fails closed,
 *       and so must the cache) and within {@link ChainCacheLimits#maxAge()} of its validation.
 *   <li>One cache per trust manager: a CA bundle or CRL change builds a new trust manager (a
 *       reload builds a new server context), so it starts empty.
 * </ul>
 * Bounded: past {@link ChainCacheLimits#maxEntries()} the least recently used chain goes.
 */
public final class VerifiedChainCache extends ForwardingTrustManager {
  /** When an accepted chain may be trusted again without validation. */
  private record Entry(Instant notBefore, Instant notAfter, Instant validatedAt) {}

  private final ChainCacheLimits limits;
  private final Instant crlNextUpdate;
  private final Clock clock;
  private final LinkedHashMap<ByteBuffer, Entry> entries;

  /**
   * Caches the client chains {@code delegate} accepts.
   *
   * @param crlNextUpdate the next update of the CRL {@code delegate} checks revocation with,
   *     or null when it has none
   */
  public VerifiedChainCache(X509ExtendedTrustManager delegate, ChainCacheLimits limits,
      Instant crlNextUpdate, Clock clock) {
    super(delegate);
    this.limits = Objects.requireNonNull(limits, "limits");
    this.crlNextUpdate = crlNextUpdate;
    this.clock = Objects.requireNonNull(clock, "clock");
    int max = limits.maxEntries();
    this.entries = new LinkedHashMap<>(16, 0.75f, true) {
      @Override
      protected boolean removeEldestEntry(Map.Entry<ByteBuffer, Entry> eldest) {
        return size() > max;
      }
    };
  }

  /** How many chains it holds now. */
  public int size() {
    synchronized (entries) {
      return entries.size();
    }
  }

  @Override
  public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
      throws CertificateException {
    ByteBuffer key = key(chain, authType, 'E', engine == null ? null
        : engine.getHandshakeSession());
    if (!known(key)) {
      delegate.checkClientTrusted(chain, authType, engine);
      remember(key, chain);
    }
  }

  @Override
  public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket)
      throws CertificateException {
    SSLSession s = socket instanceof SSLSocket ssl ? ssl.getHandshakeSession() : null;
    ByteBuffer key = key(chain, authType, 'S', s);
    if (!known(key)) {
      delegate.checkClientTrusted(chain, authType, socket);
      remember(key, chain);
    }
  }

  @Override
  public void checkClientTrusted(X509Certificate[] chain, String authType)
      throws CertificateException {
    ByteBuffer key = key(chain, authType, 'P', null);
    if (!known(key)) {
      delegate.checkClientTrusted(chain, authType);
      remember(key, chain);
    }
  }

  /** Whether {@code key} was accepted and may still be trusted now; drops it when not. */
  private boolean known(ByteBuffer key) {
    if (key == null) {
      return false;
    }
    Instant now = clock.instant();
    synchronized (entries) {
      Entry e = entries.get(key);
      if (e == null) {
        return false;
      }
      if (now.isBefore(e.notBefore()) || !now.isBefore(e.notAfter())
          || !now.isBefore(e.validatedAt().plus(limits.maxAge()))) {
        entries.remove(key);
        return false;
      }
      return true;
    }
  }

  /** Keeps an accepted chain, bounded by its certificates' dates and the CRL's. */
  private void remember(ByteBuffer key, X509Certificate[] chain) {
    if (key == null) {
      return;
    }
    Instant notBefore = Instant.MIN;
    Instant notAfter = crlNextUpdate == null ? Instant.MAX : crlNextUpdate;
    for (X509Certificate c : chain) {
      Instant from = c.getNotBefore().toInstant();
      Instant to = c.getNotAfter().toInstant();
      notBefore = from.isAfter(notBefore) ? from : notBefore;
      notAfter = to.isBefore(notAfter) ? to : notAfter;
    }
    Entry e = new Entry(notBefore, notAfter, clock.instant());
    synchronized (entries) {
      entries.put(key, e);
    }
  }

  /**
   * The digest that names a chain, or null when there is nothing to cache (the cache off, an
   * empty chain, a certificate that cannot be encoded: then the delegate decides alone).
   */
  private ByteBuffer key(X509Certificate[] chain, String authType, char overload,
      SSLSession handshake) {
    if (!limits.enabled() || chain == null || chain.length == 0) {
      return null;
    }
    try {
      MessageDigest d = MessageDigest.getInstance("SHA-256");
      // The engine's checks depend on the TLS version (its signature algorithm constraints),
      // so the same chain validated under another version, or by another overload, is
      // validated again.
      String protocol = handshake == null ? "" : String.valueOf(handshake.getProtocol());
      text(d, String.valueOf(overload));
      text(d, protocol);
      text(d, String.valueOf(authType));
      for (X509Certificate c : chain) {
        if (c == null) {
          return null;
        }
        bytes(d, c.getEncoded());
      }
      return ByteBuffer.wrap(d.digest());
    } catch (CertificateEncodingException e) {
      return null;
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is missing from this JDK", e);
    }
  }

  private static void text(MessageDigest d, String s) {
    bytes(d, s.getBytes(java.nio.charset.StandardCharsets.UTF_8));
  }

  /** Length-prefixed, so that no two different sequences hash the same bytes. */
  private static void bytes(MessageDigest d, byte[] b) {
    d.update((byte) (b.length >>> 24));
    d.update((byte) (b.length >>> 16));
    d.update((byte) (b.length >>> 8));
    d.update((byte) b.length);
    d.update(b);
  }
}
