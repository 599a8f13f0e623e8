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
 * a flood deserves. A refused connection takes a place among those told only once it has sent
 * its first bytes (a real client sends its ClientHello at once): connections that open and
 * send nothing, as in a connection flood, are closed after {@link #HELLO_WAIT_MILLIS} without
 * ever holding a place, so a flood of them cannot keep real clients from hearing why. A
 * refused connection that has started its handshake has {@link #HANDSHAKE_MILLIS} (or
 * {@code tls.handshake_timeout_ms}, if shorter) to finish it.
 */
final class FullRefusal extends ChannelInboundHandlerAdapter {
  /** Refused connections being told why at once, at most (and at most max_connections). */
  static final int MAX_TOLD = 64;
  /** How long the client has to read the frame and close its side before we close ours. */
  static final long LINGER_MILLIS = 2_000;
  /** How long a refused connection may stay silent before it is closed. */
  static final long HELLO_WAIT_MILLIS = 2_000;
  /** How long a refused connection told why may take over its handshake, at most. */
  static final long HANDSHAKE_MILLIS = 3_000;
  private final String reason;

  private FullRefusal(String reason) {
    this.reason = reason;
  }

  /**
   * Sets {@code ch} up to be told {@code reason} after its handshake, once it has sent its
   * first bytes and if {@code telling} then holds fewer than allowed; otherwise it is closed
   * without a word (at once, or after {@link #HELLO_WAIT_MILLIS} of silence).
   */
  static void install(SocketChannel ch, GatewayState st, AtomicInteger telling,
      int maxConnections, String reason) {
    ch.pipeline().addLast("full-wait", new WaitForHello(st, telling,
        Math.min(MAX_TOLD, maxConnections), reason));
  }

  /** Holds a refused connection until its first bytes, without a place among those told. */
  private static final class WaitForHello extends ChannelInboundHandlerAdapter {
    private final GatewayState st;
    private final AtomicInteger telling;
    private final int cap;
    private final String reason;
    private java.util.concurrent.ScheduledFuture<?> silence;

    WaitForHello(GatewayState st, AtomicInteger telling, int cap, String reason) {
      this.st = st;
      this.telling = telling;
      this.cap = cap;
      this.reason = reason;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
      silence = ctx.executor().schedule(() -> {
        ctx.close();
      }, HELLO_WAIT_MILLIS, TimeUnit.MILLISECONDS);
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      silence.cancel(false);
      if (telling.incrementAndGet() > cap) {
        telling.decrementAndGet();
        ReferenceCountUtil.release(msg);
        ctx.close();
        return;
      }
      SocketChannel ch = (SocketChannel) ctx.channel();
      ch.closeFuture().addListener(f -> telling.decrementAndGet());
      SslHandler tls = TlsContexts.handler(st.ssl(), ch.alloc(), st.tls());
      tls.setHandshakeTimeoutMillis(Math.min(HANDSHAKE_MILLIS,
          tls.getHandshakeTimeoutMillis() > 0 ? tls.getHandshakeTimeoutMillis()
              : HANDSHAKE_MILLIS));
      ch.pipeline().addLast("tls", tls).addLast("encoder", FrameEncoder.INSTANCE)
          .addLast("full", new FullRefusal(reason));
      ch.pipeline().remove(this);
      ch.pipeline().fireChannelRead(msg);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
      silence.cancel(false);
      ctx.fireChannelInactive();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      ctx.close();
    }
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
