package io.beamgate.gateway.server;

import io.beamgate.gateway.bridge.BridgeContext;
import io.beamgate.gateway.bridge.BridgeHandler;
import io.beamgate.gateway.ops.GatewayMetrics;
import io.beamgate.gateway.transport.PeerIdentities;
import io.beamgate.gateway.transport.TlsContexts;
import io.beamgate.security.audit.AuditRecord;
import io.beamgate.security.identity.IdentityException;
import io.beamgate.security.identity.PeerIdentity;
import io.beamgate.security.identity.Principal;
import io.beamgate.security.tls.TlsSettings;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import java.security.cert.X509Certificate;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The end of the TLS handshake on an accepted connection, and the one place the peer's
 * identity is computed (issue 12): a failed handshake or a certificate with no usable identity
 * is audited and closed here; otherwise the {@link PeerIdentity} goes to the handler of the
 * protocol ALPN chose. For {@code beamgate/1} it is fired as a user event that
 * {@link ClientConnection} takes; for {@code beamgate-bridge/1} the client handlers leave the
 * pipeline for the bridge's, and the {@link BridgeHandler} is given it. Either way this handler
 * then leaves the pipeline.
 */
final class TlsUp extends ChannelInboundHandlerAdapter {
  private static final Logger log = LoggerFactory.getLogger(TlsUp.class);
  /** The handlers of the client protocol, removed when the connection is a bridge link. */
  static final String[] CLIENT_HANDLERS = {"idle", "frames", "encoder", "client"};

  private final Consumer<AuditRecord> audit;
  private final GatewayMetrics metrics;
  private final BridgeContext bridge;
  private final BridgeHandler.Side bridgeSide;

  private final io.beamgate.gateway.grpc.GrpcDoor grpc;

  TlsUp(Consumer<AuditRecord> audit, GatewayMetrics metrics, BridgeContext bridge,
      BridgeHandler.Side bridgeSide, io.beamgate.gateway.grpc.GrpcDoor grpc) {
    this.grpc = grpc;
    this.audit = audit;
    this.metrics = metrics;
    this.bridge = bridge;
    this.bridgeSide = bridgeSide;
  }

  @Override
  public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
    if (!(evt instanceof SslHandshakeCompletionEvent e)) {
      super.userEventTriggered(ctx, evt);
      return;
    }
    String peer = io.beamgate.gateway.transport.ProxyProtocolGate.peer(ctx.channel());
    if (!e.isSuccess()) {
      if (Boolean.TRUE.equals(ctx.channel().attr(
          io.beamgate.gateway.transport.AlpnGuard.REFUSED).get())) {
        ctx.close(); // refused for its ALPN offer, and audited once, by the guard
        return;
      }
      refused(ctx, peer, e.cause());
      return;
    }
    PeerIdentity who;
    try {
      who = PeerIdentities.of(ctx.channel());
    } catch (IdentityException ex) {
      log.info("client {} refused: {}", peer, ex.getMessage());
      audit.accept(AuditRecord.from(peer).decision(AuditRecord.Decision.DENIED)
          .reason("identity: " + ex.getMessage()).outcome("closed").build());
      metrics.handshake("identity_refused");
      ctx.close();
      return;
    }
    ChannelPipeline p = ctx.pipeline();
    String alpn = p.get(SslHandler.class).applicationProtocol();
    if (TlsSettings.BRIDGE_ALPN.equals(alpn)) {
      toBridge(ctx, who);
      return;
    }
    if (TlsSettings.GRPC_ALPN.equals(alpn) && grpc != null) {
      // The gRPC door: the connection leaves the native client pipeline for the door's relay.
      leaveClientPipeline(p);
      p.remove(this);
      metrics.handshake("ok");
      grpc.attach(ctx.channel(), who);
      return;
    }
    metrics.handshake("ok");
    p.remove(this);
    ctx.fireUserEventTriggered(who);
  }

  /** The handshake failed: which certificate, when the trust manager refused one, and why. */
  private void refused(ChannelHandlerContext ctx, String peer, Throwable cause) {
    String why = TlsContexts.rootMessage(cause);
    X509Certificate refused = TlsContexts.takeRefusedClient();
    String fingerprint = refused == null ? null : Principal.fingerprint(refused);
    String serial = refused == null ? null : refused.getSerialNumber().toString(16);
    log.info("TLS handshake from {} failed: {}{}", peer, why, refused == null ? ""
        : " (certificate serial " + serial + ", sha256 " + fingerprint + ")");
    audit.accept(AuditRecord.from(peer).certificate(fingerprint, serial)
        .decision(AuditRecord.Decision.DENIED).reason("tls handshake: " + why).outcome("closed")
        .build());
    metrics.handshake("failed", io.beamgate.gateway.ops.HandshakeFailure.reason(cause, refused,
        java.time.Instant.now()));
    ctx.close();
  }

  /** ALPN beamgate-bridge/1: the connection leaves the client pipeline for the bridge's. */
  private void toBridge(ChannelHandlerContext ctx, PeerIdentity who) {
    ChannelPipeline p = ctx.pipeline();
    int q = bridge.bridgeSettings().maxQueueBytes();
    ctx.channel().config().setWriteBufferWaterMark(new WriteBufferWaterMark(q / 2, q));
    leaveClientPipeline(p);
    BridgeHandler h = BridgeHandler.forServer(bridge, bridgeSide, "bridge from " + who.address());
    BridgeHandler.install(p, bridge, h);
    p.remove(this);
    h.tlsUp(p.context(h), who);
  }

  /** Removes the native protocol's handlers: the connection goes to another door. */
  private static void leaveClientPipeline(ChannelPipeline p) {
    for (String name : CLIENT_HANDLERS) {
      p.remove(name);
    }
  }
}
