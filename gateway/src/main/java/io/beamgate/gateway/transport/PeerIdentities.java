package io.beamgate.gateway.transport;

import io.beamgate.security.identity.IdentityException;
import io.beamgate.security.identity.PeerIdentity;
import io.netty.channel.Channel;
import io.netty.handler.ssl.SslHandler;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import javax.net.ssl.SSLPeerUnverifiedException;

/**
 * The one place the peer's identity is read from a TLS session (issue 12): the handler that
 * sees the handshake complete calls it once and hands the result to the connection's handler,
 * for either door and either side of a bridge link.
 */
public final class PeerIdentities {
  private PeerIdentities() {}

  /**
   * The identity of the peer on {@code ch}, whose handshake completed successfully.
   *
   * @throws IdentityException when it presented no certificate, or its leaf proves no usable
   *     identity (the message says why, for the audit record and the log)
   */
  public static PeerIdentity of(Channel ch) throws IdentityException {
    SslHandler ssl = ch.pipeline().get(SslHandler.class);
    if (ssl == null) {
      throw new IdentityException("no TLS on the connection (expected: a TLS handler)");
    }
    Certificate[] certs;
    try {
      certs = ssl.engine().getSession().getPeerCertificates();
    } catch (SSLPeerUnverifiedException e) {
      throw new IdentityException("no verified certificate: " + e.getMessage());
    }
    X509Certificate[] chain = new X509Certificate[certs.length];
    for (int i = 0; i < certs.length; i++) {
      if (!(certs[i] instanceof X509Certificate x)) {
        throw new IdentityException("certificate " + i + " is a " + certs[i].getType()
            + " certificate (expected: X.509)");
      }
      chain[i] = x;
    }
    // The client's address: from the PROXY header when a listed load balancer sent one.
    return PeerIdentity.of(chain, ProxyProtocolGate.peer(ch));
  }
}
