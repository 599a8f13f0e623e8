package io.beamgate.gateway.transport;

import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelPipeline;
import java.io.IOException;

/**
 * First in a connection's pipeline: when the socket itself fails (a read ending in a connection
 * reset, typically a client that closed without close_notify), closes the channel from here,
 * before the TLS handler, so that no close_notify is written to a peer that is gone. Closing
 * from a later handler goes through the TLS handler, whose close writes close_notify, fails
 * with a broken pipe and builds another exception: about 5% of a full handshake's CPU in the
 * gateway when openssl s_time resets every connection (docs/performance-notes.md). The failure
 * still goes on to the other handlers, which log it and, the channel being closed, close
 * nothing more.
 */
@ChannelHandler.Sharable
public final class PeerReset extends ChannelInboundHandlerAdapter {
  /** Stateless: one for every connection. */
  public static final PeerReset INSTANCE = new PeerReset();

  private PeerReset() {}

  /** Puts it first in {@code p}. */
  public static void install(ChannelPipeline p) {
    p.addFirst("peer-reset", INSTANCE);
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    // Here, first, an exception can only come from the transport: an I/O error on the socket.
    if (cause instanceof IOException && ctx.channel().isActive()) {
      ctx.close();
    }
    ctx.fireExceptionCaught(cause);
  }
}
