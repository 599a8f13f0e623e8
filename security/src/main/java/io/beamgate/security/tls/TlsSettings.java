package io.beamgate.security.tls;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;

/**
 * What a TLS context is made from.
 *
 * @param certificateChain PEM: this side's certificate, then its intermediates
 * @param privateKey PEM, PKCS#8, unencrypted; must not be readable by group or others
 * @param trustedCas PEM bundle of the CAs that may issue the peer's certificate
 * @param crl PEM certificate revocation list, or null for none; when set, it must be readable
 *     and current (its nextUpdate not passed), or no context is made (fail closed)
 * @param allowTls12 also accept TLS 1.2, then only with ECDHE and AEAD suites (default: 1.3 only)
 * @param handshakeTimeout a handshake not complete by then is abandoned
 * @param provider which TLS implementation: AUTO (OpenSSL when it loads, else the JDK), or one
 *     explicitly
 * @param chainCache how many validated client chains the server remembers, and how long
 *     ({@link VerifiedChainCache}; default {@link ChainCacheLimits#DEFAULT})
 */
public record TlsSettings(Path certificateChain, Path privateKey, Path trustedCas, Path crl,
    boolean allowTls12, Duration handshakeTimeout, Provider provider,
    ChainCacheLimits chainCache) {
  /** The TLS implementation. */
  public enum Provider {
    AUTO, JDK, OPENSSL
  }

  /** The client protocol (protobuf frames, beamgate.v1). */
  public static final String ALPN = "beamgate/1";
  /** The link between two gateways that bridge two clusters. */
  public static final String BRIDGE_ALPN = "beamgate-bridge/1";
  /** The same client requests as the gRPC service beamgate.v1.Gateway (HTTP/2). */
  public static final String GRPC_ALPN = "h2";

  public TlsSettings {
    Objects.requireNonNull(certificateChain, "certificateChain");
    Objects.requireNonNull(privateKey, "privateKey");
    Objects.requireNonNull(trustedCas, "trustedCas");
    Objects.requireNonNull(handshakeTimeout, "handshakeTimeout");
    Objects.requireNonNull(provider, "provider");
    Objects.requireNonNull(chainCache, "chainCache");
    if (handshakeTimeout.isNegative() || handshakeTimeout.isZero()) {
      throw new IllegalArgumentException("handshakeTimeout: " + handshakeTimeout
          + " (expected: > 0)");
    }
  }

  public static TlsSettings of(Path chain, Path key, Path cas) {
    return new TlsSettings(chain, key, cas, null, false, Duration.ofSeconds(10), Provider.AUTO,
        ChainCacheLimits.DEFAULT);
  }

  public TlsSettings withCrl(Path crlFile) {
    return new TlsSettings(certificateChain, privateKey, trustedCas, crlFile, allowTls12,
        handshakeTimeout, provider, chainCache);
  }

  public TlsSettings withTls12(boolean allow) {
    return new TlsSettings(certificateChain, privateKey, trustedCas, crl, allow,
        handshakeTimeout, provider, chainCache);
  }

  public TlsSettings withHandshakeTimeout(Duration d) {
    return new TlsSettings(certificateChain, privateKey, trustedCas, crl, allowTls12, d,
        provider, chainCache);
  }

  public TlsSettings withProvider(Provider p) {
    return new TlsSettings(certificateChain, privateKey, trustedCas, crl, allowTls12,
        handshakeTimeout, p, chainCache);
  }

  public TlsSettings withChainCache(ChainCacheLimits limits) {
    return new TlsSettings(certificateChain, privateKey, trustedCas, crl, allowTls12,
        handshakeTimeout, provider, limits);
  }
}
