package io.beamgate.gateway.server;

import io.beamgate.gateway.proto.Error;
import io.beamgate.gateway.proto.ServerFrame;
import io.beamgate.gateway.protocol.FrameEncoder;
import io.beamgate.gateway.transport.TlsContexts;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import io.netty.util.ReferenceCountUtil;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A connection past {@code limits.max_connections}: the TLS handshake completes so that the
 * client can read why, one error frame (id 0, RESOURCE_EXHAUSTED) says the gateway is full,
 * and the connection closes. Nothing the client sends is read. A closed socket alone would
 * read as "closed the connection during the TLS handshake", which sends people looking for a
 * certificate problem.
 *
 * <p>Telling costs a handshake, so at most {@link #MAX_TOLD} refused connections (and never
 * more than max_connections itself) are told at once; past that they are closed at once, as
 * a flood deserves.
 */
final class FullRefusal extends ChannelInboundHandlerAdapter {
  /** Refused connections being told why at once, at most (and at most max_connections). */
  static final int MAX_TOLD = 64;
  /** How long the client has to read the frame and close its side before we close ours. */
  static final long LINGER_MILLIS = 2_000;
  private final String reason;

  private FullRefusal(String reason) {
    this.reason = reason;
  }

  /**
   * Sets {@code ch} up to be told {@code reason} after its handshake; or closes it at once
   * when {@code telling} already holds as many as allowed. Returns whether it will be told.
   */
  static boolean install(SocketChannel ch, GatewayState st, AtomicInteger telling,
      int maxConnections, String reason) {
    if (telling.incrementAndGet() > Math.min(MAX_TOLD, maxConnections)) {
      telling.decrementAndGet();
      ch.close();
      return false;
    }
    ch.closeFuture().addListener(f -> telling.decrementAndGet());
    ch.pipeline()
        .addLast("tls", TlsContexts.handler(st.ssl(), ch.alloc(), st.tls()))
        .addLast("encoder", FrameEncoder.INSTANCE)
        .addLast("full", new FullRefusal(reason));
    return true;
  }

  @Override
  public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
    if (!(evt instanceof SslHandshakeCompletionEvent e)) {
      ctx.fireUserEventTriggered(evt);
      return;
    }
    String alpn = ctx.pipeline().get(SslHandler.class).applicationProtocol();
    if (!e.isSuccess() || io.beamgate.security.tls.TlsSettings.BRIDGE_ALPN.equals(alpn)
        || io.beamgate.security.tls.TlsSettings.GRPC_ALPN.equals(alpn)) {
      // A bridge link does not read client frames (it retries with backoff); a gRPC client
      // would not either (it sees the connection close: UNAVAILABLE).
      ctx.close();
      return;
    }
    ServerFrame f = ServerFrame.newBuilder().setId(0).setError(Error.newBuilder()
        .setCode(Error.Code.RESOURCE_EXHAUSTED).setMessage(reason).setReason(reason)).build();
    ctx.writeAndFlush(f).addListener(w -> {
      // close_notify, then wait for the client to close: closing at once could reset the
      // connection under a request the client already sent, and lose the frame with it.
      ctx.pipeline().get(SslHandler.class).closeOutbound();
      ctx.executor().schedule(() -> ctx.close(), LINGER_MILLIS, TimeUnit.MILLISECONDS);
    });
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    ReferenceCountUtil.release(msg); // no request is served here
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    ctx.close();
  }
}
