package io.beamgate.gateway.protocol;

import io.netty.handler.ssl.ApplicationProtocolConfig;
import io.netty.handler.ssl.ApplicationProtocolConfig.Protocol;
import io.netty.handler.ssl.ApplicationProtocolConfig.SelectedListenerFailureBehavior;
import io.netty.handler.ssl.ApplicationProtocolConfig.SelectorFailureBehavior;
import io.netty.handler.ssl.OpenSsl;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The TLS both ends of a beamgate link agree on, for Netty's {@link SslContextBuilder}: TLS 1.3
 * only unless TLS 1.2 is asked for, and then only ECDHE key exchange with AEAD ciphers; the
 * application protocols by ALPN; OpenSSL (BoringSSL via netty-tcnative) when it loads, else the
 * JDK, and the log says which and why. Shared by the Java client and the gateway's transport
 * (which adds client authentication, its key material and the CRL); key material itself is not
 * here, so this class needs neither the security module nor BouncyCastle.
 */
public final class TlsProfile {
  private static final Logger log = LoggerFactory.getLogger(TlsProfile.class);
  /** The client protocol (protobuf frames, beamgate.v1). */
  public static final String ALPN = "beamgate/1";
  /** The link between two gateways that bridge two clusters. */
  public static final String BRIDGE_ALPN = "beamgate-bridge/1";
  public static final List<String> TLS13 = List.of("TLS_AES_128_GCM_SHA256",
      "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256");
  public static final List<String> TLS12_AEAD = List.of(
      "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
      "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256", "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
      "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256");
  private static volatile boolean providerLogged;

  /** Which TLS implementation. */
  public enum Provider {
    /** OpenSSL when netty-tcnative loads here, else the JDK. */
    AUTO,
    JDK,
    OPENSSL
  }

  static {
    // Renegotiation is a downgrade and DoS vector; refuse it from clients (JDK, TLS 1.2).
    System.setProperty("jdk.tls.rejectClientInitiatedRenegotiation", "true");
  }

  private TlsProfile() {}

  /**
   * Applies the provider, protocols, ciphers and ALPN offer to {@code b}; the caller adds key
   * and trust material (and, on a server, client authentication).
   *
   * @throws IllegalStateException when OPENSSL is asked for and netty-tcnative does not load
   */
  public static SslContextBuilder apply(SslContextBuilder b, Provider provider,
      boolean allowTls12, String... alpn) {
    List<String> protocols = allowTls12 ? List.of("TLSv1.3", "TLSv1.2") : List.of("TLSv1.3");
    List<String> ciphers = new ArrayList<>(TLS13);
    if (allowTls12) {
      ciphers.addAll(TLS12_AEAD);
    }
    return b.sslProvider(provider(provider))
        .protocols(protocols)
        .ciphers(ciphers)
        .applicationProtocolConfig(new ApplicationProtocolConfig(Protocol.ALPN,
            SelectorFailureBehavior.NO_ADVERTISE, SelectedListenerFailureBehavior.ACCEPT,
            alpn));
  }

  /** Netty's provider for {@code wanted}; AUTO logs its choice once per JVM. */
  public static SslProvider provider(Provider wanted) {
    if (wanted == Provider.JDK) {
      return SslProvider.JDK;
    }
    if (wanted == Provider.OPENSSL) {
      if (!OpenSsl.isAvailable()) {
        throw new IllegalStateException("TLS provider OPENSSL asked for, but netty-tcnative"
            + " does not load here: " + OpenSsl.unavailabilityCause());
      }
      return SslProvider.OPENSSL;
    }
    SslProvider p = OpenSsl.isAvailable() ? SslProvider.OPENSSL : SslProvider.JDK;
    if (!providerLogged) {
      providerLogged = true;
      if (p == SslProvider.OPENSSL) {
        log.info("TLS provider: OpenSSL ({})", OpenSsl.versionString());
      } else {
        log.info("TLS provider: JDK (netty-tcnative is not available: {})",
            OpenSsl.unavailabilityCause() == null ? "unknown"
                : OpenSsl.unavailabilityCause().getMessage());
      }
    }
    return p;
  }
}
