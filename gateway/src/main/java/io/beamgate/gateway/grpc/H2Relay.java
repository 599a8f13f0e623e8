package io.beamgate.gateway.grpc;

import io.beamgate.gateway.transport.TlsContexts;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.util.ReferenceCountUtil;
import java.util.ArrayDeque;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Relays one gRPC connection's decrypted bytes between its TLS channel (this handler, last in
 * that pipeline) and the local channel to the in-JVM gRPC server ({@link #back()}), with
 * backpressure both ways: a side whose peer cannot take more stops reading until it can.
 * Either side closing closes the other.
 */
final class H2Relay extends ChannelInboundHandlerAdapter {
  private static final Logger log = LoggerFactory.getLogger(H2Relay.class);

  private final Channel tls;
  private volatile Channel local;
  // Bytes read before the local channel was connected (TLS event loop only).
  private final ArrayDeque<Object> early = new ArrayDeque<>();

  H2Relay(Channel tls) {
    this.tls = tls;
  }

  /** Called once the local channel is connected (on its own event loop). */
  void connected(Channel ch) {
    tls.eventLoop().execute(() -> {
      local = ch;
      if (!tls.isActive()) {
        ch.close();
        early.forEach(ReferenceCountUtil::release);
        early.clear();
        return;
      }
      while (!early.isEmpty()) {
        ch.write(early.poll());
      }
      ch.flush();
    });
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    Channel l = local;
    if (l == null) {
      early.add(msg);
      return;
    }
    l.write(msg);
    if (!l.isWritable()) {
      tls.config().setAutoRead(false); // the gRPC server is behind: wait for it
    }
  }

  @Override
  public void channelReadComplete(ChannelHandlerContext ctx) {
    Channel l = local;
    if (l != null) {
      l.flush();
    }
  }

  @Override
  public void channelWritabilityChanged(ChannelHandlerContext ctx) {
    Channel l = local;
    if (tls.isWritable() && l != null) {
      l.config().setAutoRead(true); // the client reads again
    }
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    Channel l = local;
    if (l != null) {
      l.close();
    }
    early.forEach(ReferenceCountUtil::release);
    early.clear();
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    log.debug("gRPC connection from {}: {}", tls.remoteAddress(), TlsContexts.rootMessage(cause));
    ctx.close();
  }

  /** The handler of the local channel's side. */
  ChannelInboundHandlerAdapter back() {
    return new ChannelInboundHandlerAdapter() {
      @Override
      public void channelRead(ChannelHandlerContext ctx, Object msg) {
        tls.write(msg);
        if (!tls.isWritable()) {
          ctx.channel().config().setAutoRead(false); // the client is behind: wait for it
        }
      }

      @Override
      public void channelReadComplete(ChannelHandlerContext ctx) {
        tls.flush();
      }

      @Override
      public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        if (ctx.channel().isWritable()) {
          tls.config().setAutoRead(true); // the gRPC server takes bytes again
        }
      }

      @Override
      public void channelInactive(ChannelHandlerContext ctx) {
        tls.close();
      }

      @Override
      public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        log.debug("gRPC relay to the local server: {}", TlsContexts.rootMessage(cause));
        ctx.close();
      }
    };
  }
}
