package io.beamgate.node.dist;

import io.beamgate.node.dist.HandshakeException.Reason;
import io.beamgate.node.etf.EtfDecoder;
import io.beamgate.node.etf.EtfException;
import io.beamgate.node.term.Term;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.timeout.IdleState;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.handler.timeout.IdleStateHandler;
import io.netty.util.concurrent.ScheduledFuture;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One distribution connection: runs the handshake, then reads frames, answers ticks, sends its
 * own ticks, and declares the peer down when it stays silent for net_ticktime.
 */
final class DistChannelHandler extends ChannelInboundHandlerAdapter {
  private static final Logger log = LoggerFactory.getLogger(DistChannelHandler.class);
  private static final ByteBuf TICK =
      Unpooled.unreleasableBuffer(Unpooled.wrappedBuffer(new byte[4]).asReadOnly());

  private final DistConnections connections;
  private final Handshake handshake;
  private final DistFrameDecoder decoder;
  private final EtfDecoder etf;
  private ScheduledFuture<?> handshakeTimer;
  private String peerName;
  private Reason closeKind = Reason.CONNECTION;
  private String closeReason;

  DistChannelHandler(DistConnections connections, Handshake handshake, DistFrameDecoder decoder) {
    this.connections = connections;
    this.handshake = handshake;
    this.decoder = decoder;
    this.etf = new EtfDecoder(connections.settings().decodeLimits());
  }

  @Override
  public void channelActive(ChannelHandlerContext ctx) {
    long ms = connections.settings().handshakeTimeout().toMillis();
    handshakeTimer = ctx.executor().schedule(() -> {
      if (!handshake.isDone()) {
        close(ctx, Reason.TIMEOUT, "handshake not complete after " + ms + " ms");
      }
    }, ms, TimeUnit.MILLISECONDS);
    if (handshake.isInitiator()) {
      peerName = handshake.expectedPeer();
      writeHandshake(ctx, handshake.start());
    }
    ctx.fireChannelActive();
  }

  private void writeHandshake(ChannelHandlerContext ctx, List<byte[]> msgs) {
    for (byte[] m : msgs) {
      ByteBuf b = ctx.alloc().buffer(2 + m.length);
      b.writeShort(m.length).writeBytes(m);
      ctx.write(b);
    }
    if (!msgs.isEmpty()) {
      ctx.flush();
    }
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (msg instanceof byte[] m) {
      onHandshakeMessage(ctx, m);
    } else if (msg instanceof ByteBuf frame) {
      try {
        onFrame(ctx, frame);
      } finally {
        frame.release();
      }
    }
    // Ticks need no answer: reading them resets the idle timer.
  }

  private void onHandshakeMessage(ChannelHandlerContext ctx, byte[] m) {
    try {
      List<byte[]> replies = handshake.receive(m);
      if (peerName == null) {
        peerName = handshake.peerName();
      }
      writeHandshake(ctx, replies);
      if (handshake.refusal() != null) {
        HandshakeException r = handshake.refusal();
        closeKind = r.reason();
        closeReason = "handshake: " + r.getMessage();
        ctx.channel().eventLoop().execute(ctx::close); // after the status is flushed
        return;
      }
      if (handshake.isDone()) {
        handshakeTimer.cancel(false);
        decoder.connected();
        long tick = connections.settings().netTickTime().toMillis();
        ctx.pipeline().addBefore("frame", "ticks",
            new IdleStateHandler(tick, Math.max(1, tick / 4), 0, TimeUnit.MILLISECONDS));
        connections.onHandshakeDone(ctx.channel(), handshake.peer());
      }
    } catch (HandshakeException e) {
      if (peerName == null) {
        peerName = handshake.peerName();
      }
      String who = peerName != null ? peerName : String.valueOf(ctx.channel().remoteAddress());
      if (e.reason() == Reason.WRONG_COOKIE) {
        log.warn("handshake with {} ({}) refused: {}", who, ctx.channel().remoteAddress(),
            e.getMessage());
      }
      close(ctx, e.reason(), "handshake: " + e.getMessage());
    }
  }

  private void onFrame(ChannelHandlerContext ctx, ByteBuf frame) {
    try {
      if (frame.readableBytes() < 1 || frame.getUnsignedByte(frame.readerIndex()) != 112) {
        throw new DistProtocolException("frame starts with "
            + (frame.isReadable() ? frame.getUnsignedByte(frame.readerIndex()) : -1)
            + " (expected: 112, pass-through; no atom cache or fragments were agreed)");
      }
      ByteBuffer nio = frame.nioBuffer(frame.readerIndex() + 1, frame.readableBytes() - 1);
      ControlMessage control = ControlMessage.parse(etf.decode(nio));
      Term payload = null;
      if (control.hasPayload()) {
        if (!nio.hasRemaining()) {
          throw new DistProtocolException("control message " + control.getClass().getSimpleName()
              + " without its payload");
        }
        payload = etf.decode(nio);
      }
      if (nio.hasRemaining()) {
        throw new DistProtocolException(nio.remaining() + " bytes after the message");
      }
      connections.dispatch(peerName, control, payload);
    } catch (EtfException | DistProtocolException e) {
      log.warn("closing connection to {}: bad frame: {}", peerName, e.getMessage());
      close(ctx, Reason.PROTOCOL, "bad frame: " + e.getMessage());
    }
  }

  @Override
  public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
    if (evt instanceof IdleStateEvent e) {
      if (e.state() == IdleState.WRITER_IDLE) {
        ctx.writeAndFlush(TICK.duplicate());
      } else if (e.state() == IdleState.READER_IDLE) {
        close(ctx, Reason.TIMEOUT, "net_tick_timeout: nothing received for "
            + connections.settings().netTickTime().toMillis() + " ms");
      }
    } else {
      ctx.fireUserEventTriggered(evt);
    }
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    close(ctx, Reason.CONNECTION, cause.getMessage() != null ? cause.getMessage()
        : cause.toString());
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    if (handshakeTimer != null) {
      handshakeTimer.cancel(false);
    }
    if (closeReason == null) {
      if (handshake.isDone()) {
        closeReason = "connection closed by peer";
      } else if (handshake.isInitiator() && handshake.peerName() != null) {
        closeKind = Reason.WRONG_COOKIE;
        closeReason = peerName + " closed the connection after our challenge reply:"
            + " most likely its cookie differs from ours";
      } else {
        closeReason = "connection closed during the handshake";
      }
    }
    connections.onClosed(ctx.channel(), peerName, closeKind, closeReason);
    ctx.fireChannelInactive();
  }

  private void close(ChannelHandlerContext ctx, Reason kind, String reason) {
    if (closeReason == null) {
      closeKind = kind;
      closeReason = reason;
    }
    ctx.close();
  }
}
