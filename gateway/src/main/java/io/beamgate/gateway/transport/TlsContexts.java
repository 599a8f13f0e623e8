package io.beamgate.gateway.transport;

import io.beamgate.gateway.protocol.TlsProfile;
import io.beamgate.security.tls.TlsException;
import io.beamgate.security.tls.TlsMaterial;
import io.beamgate.security.tls.TlsSettings;
import io.beamgate.security.tls.TrustManagers;
import io.netty.buffer.ByteBufAllocator;
import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslHandler;
import java.security.cert.X509Certificate;
import javax.net.ssl.X509TrustManager;

/**
 * Netty TLS contexts for the gateway's mutually authenticated links, from the security
 * module's JDK material ({@link TlsMaterial}) and the protocol's {@link TlsProfile} (TLS 1.3
 * only unless TLS 1.2 is asked for, then ECDHE with AEAD only; ALPN; OpenSSL when it loads).
 * The server requires a client certificate (fail closed) and validates it to the configured
 * CAs, with validity dates and, when a CRL is configured, revocation without fallback. Lives
 * with the transport that uses it, so that security carries no Netty type.
 */
public final class TlsContexts {
  private TlsContexts() {}

  /** The server side: requires and validates a client certificate; every ALPN protocol. */
  public static SslContext server(TlsSettings s) throws TlsException {
    TlsMaterial m = TlsMaterial.load(s);
    try {
      return server(m, s);
    } catch (TlsException e) {
      throw new TlsException("cannot make the server TLS context from "
          + s.certificateChain() + " and " + s.privateKey() + ": " + e.getMessage(), e);
    }
  }

  /** The server side from material already in hand (in memory, or loaded). */
  public static SslContext server(TlsMaterial m, TlsSettings s) throws TlsException {
    try {
      SslContextBuilder b = SslContextBuilder.forServer(m.privateKey(), m.certificateChain());
      return apply(b, s, TlsSettings.ALPN, TlsSettings.BRIDGE_ALPN, TlsSettings.GRPC_ALPN)
          .trustManager(new VerifyAlerts(TrustManagers.recording(m.trustManager())))
          .clientAuth(ClientAuth.REQUIRE).build();
    } catch (Exception e) {
      throw new TlsException(e.getMessage(), e);
    }
  }

  /** The client side: presents its certificate and validates the server's. */
  public static SslContext client(TlsSettings s) throws TlsException {
    return client(s, TlsSettings.ALPN);
  }

  /** As {@link #client(TlsSettings)}, offering the application protocol {@code alpn}. */
  public static SslContext client(TlsSettings s, String alpn) throws TlsException {
    TlsMaterial m = TlsMaterial.load(s);
    try {
      SslContextBuilder b = SslContextBuilder.forClient()
          .keyManager(m.privateKey(), m.certificateChain());
      return apply(b, s, alpn).trustManager(m.trustManager()).build();
    } catch (Exception e) {
      throw new TlsException("cannot make the client TLS context from "
          + s.certificateChain() + " and " + s.privateKey() + ": " + e.getMessage(), e);
    }
  }

  /** A handler for one connection, with the handshake timeout applied. */
  public static SslHandler handler(SslContext ctx, ByteBufAllocator alloc, TlsSettings s) {
    SslHandler h = ctx.newHandler(alloc);
    h.setHandshakeTimeoutMillis(s.handshakeTimeout().toMillis());
    return h;
  }

  /** See {@link TrustManagers#clientValidator}. */
  public static X509TrustManager clientValidator(TlsSettings s) throws TlsException {
    return TrustManagers.clientValidator(s);
  }

  /** See {@link TrustManagers#takeRefusedClient}. */
  public static X509Certificate takeRefusedClient() {
    return TrustManagers.takeRefusedClient();
  }

  private static SslContextBuilder apply(SslContextBuilder b, TlsSettings s, String... alpn)
      throws TlsException {
    try {
      return TlsProfile.apply(b, provider(s.provider()), s.allowTls12(), alpn);
    } catch (IllegalStateException e) {
      throw new TlsException(e.getMessage(), e);
    }
  }

  private static TlsProfile.Provider provider(TlsSettings.Provider p) {
    return switch (p) {
      case JDK -> TlsProfile.Provider.JDK;
      case OPENSSL -> TlsProfile.Provider.OPENSSL;
      case AUTO -> TlsProfile.Provider.AUTO;
    };
  }

  /**
   * Why a handshake or a TLS connection failed, for logs and audit records: the innermost
   * cause's message, or its class when it has none (never "null").
   */
  public static String rootMessage(Throwable t) {
    Throwable c = t;
    while (c.getCause() != null && c.getCause() != c) {
      c = c.getCause();
    }
    return c.getMessage() == null ? c.getClass().getSimpleName() : c.getMessage();
  }
}
