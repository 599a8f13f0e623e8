package io.beamgate.gateway.bridge;

import io.beamgate.node.etf.DecodeLimits;
import io.beamgate.node.etf.EtfDecoder;
import io.beamgate.node.etf.EtfEncoder;
import io.beamgate.node.term.Int;
import io.beamgate.node.term.Term;
import io.beamgate.node.term.Tuple;
import io.beamgate.security.audit.AuditRecord;
import io.beamgate.security.identity.PeerIdentity;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.LengthFieldBasedFrameDecoder;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.handler.timeout.IdleStateHandler;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The link protocol on one TLS connection between two gateways, either side: the greeting
 * ({@code {hello, 1, Name}} from the side that connected, {@code {welcome, 1}} or
 * {@code {refused, Why}} back), then messages for a {@link BridgeSession}; keepalive pings when
 * idle, and the link closes when the other side is silent for three keepalive periods.
 */
public final class BridgeHandler extends ChannelInboundHandlerAdapter {
  private static final Logger log = LoggerFactory.getLogger(BridgeHandler.class);

  /** What each side does once the TLS handshake is done and when the greeting completes. */
  public interface Side {
    /** Null to go on, or why the other gateway is refused. */
    String admit(PeerIdentity peer);

    /** The session for an admitted, greeted link. */
    BridgeSession open(ChannelHandlerContext ctx, PeerIdentity peer);

    void closed(BridgeSession s, String why);
  }

  private final BridgeContext gw;
  private final Side side;
  private final boolean exposer;
  private final String label;
  private final String name;
  private final EtfDecoder decoder;
  private PeerIdentity peer;
  private BridgeSession session;
  private String closeReason = "the connection closed";

  /** The handler of a link another gateway opened to this one (after its TLS is up). */
  public static BridgeHandler forServer(BridgeContext gw, Side side, String label) {
    return new BridgeHandler(gw, side, false, label, null);
  }

  BridgeHandler(BridgeContext gw, Side side, boolean exposer, String label, String name) {
    this.gw = gw;
    this.side = side;
    this.exposer = exposer;
    this.label = label;
    this.name = name;
    int max = gw.bridgeSettings().maxFrameBytes();
    // Any shape of term a distribution connection carries crosses (a deep iolist, a large
    // bignum): the frame's size bounds it, and everything that walks it is iterative.
    this.decoder = new EtfDecoder(DecodeLimits.DISTRIBUTION.withMaxTermBytes(max)
        .withMaxDecompressedBytes(max));
  }

  /** Adds the link's framing, keepalive and this handler after the TLS handler. */
  public static void install(io.netty.channel.ChannelPipeline p, BridgeContext gw, BridgeHandler h) {
    int keepalive = gw.bridgeSettings().keepaliveMillis();
    p.addLast("bridge-idle", new IdleStateHandler(3L * keepalive, keepalive, 0,
            TimeUnit.MILLISECONDS))
        .addLast("bridge-frames", new LengthFieldBasedFrameDecoder(
            gw.bridgeSettings().maxFrameBytes() + 4, 0, 4, 0, 4))
        .addLast("bridge", h);
  }

  /**
   * Called when TLS is up (the handshake completed successfully), with the other gateway's
   * identity as the handler that saw the handshake computed it.
   */
  public void tlsUp(ChannelHandlerContext ctx, PeerIdentity who) {
    peer = who;
    String refusal = side.admit(peer);
    if (refusal != null) {
      gw.audit(AuditRecord.of(peer).link(label).mfa("bridge")
          .decision(AuditRecord.Decision.DENIED).reason(refusal).outcome("closed").build());
      if (!exposer) {
        write(ctx, Tuple.of(BridgeSession.REFUSED, Term.binary(refusal)));
      }
      fail(ctx, refusal);
      return;
    }
    if (exposer) {
      write(ctx, Tuple.of(BridgeSession.HELLO, Int.of(BridgeSession.VERSION),
          Term.binary(name)));
    }
  }

  private static void write(ChannelHandlerContext ctx, Term t) {
    byte[] body = EtfEncoder.encode(t);
    ByteBuf buf = ctx.alloc().buffer(4 + body.length);
    buf.writeInt(body.length).writeBytes(body);
    ctx.writeAndFlush(buf);
  }

  private boolean failed;

  /** Closes the link before it is up: the other gateway has no usable identity. */
  public void refuse(ChannelHandlerContext ctx, String why) {
    fail(ctx, why);
  }

  private void fail(ChannelHandlerContext ctx, String why) {
    if (failed) {
      return; // the first reason is the one that matters
    }
    failed = true;
    closeReason = why;
    log.warn("bridge {}: {}; closing the link", label, why);
    ctx.close();
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    ByteBuf buf = (ByteBuf) msg;
    if (failed) {
      buf.release(); // refused or failed: nothing more is read from this link
      return;
    }
    Term t;
    try {
      byte[] bytes = new byte[buf.readableBytes()];
      buf.readBytes(bytes);
      t = decoder.decode(bytes);
    } catch (Exception e) {
      fail(ctx, "undecodable message from " + who() + ": " + e.getMessage());
      return;
    } finally {
      buf.release();
    }
    if (session != null) {
      try {
        session.onPeer(t);
      } catch (Exception e) {
        fail(ctx, "protocol error from " + who() + ": " + e.getMessage());
      }
      return;
    }
    if (peer == null) {
      fail(ctx, "a message before the TLS handshake completed");
    } else if (!exposer && t instanceof Tuple h && h.isTagged("hello", 3)) {
      if (!Int.of(BridgeSession.VERSION).equals(h.get(1))) {
        write(ctx, Tuple.of(BridgeSession.REFUSED, Term.binary("bridge protocol version "
            + h.get(1) + " (this gateway speaks " + BridgeSession.VERSION + ")")));
        fail(ctx, "bridge protocol version " + h.get(1) + " from " + who());
        return;
      }
      session = side.open(ctx, peer); // first: a reload after the welcome must see it
      write(ctx, Tuple.of(BridgeSession.WELCOME, Int.of(BridgeSession.VERSION)));
    } else if (exposer && t instanceof Tuple w && w.isTagged("welcome", 2)) {
      session = side.open(ctx, peer);
    } else if (exposer && t instanceof Tuple r && r.isTagged("refused", 2)) {
      fail(ctx, who() + " refused this gateway: " + text(r.get(1)));
    } else {
      fail(ctx, "unexpected greeting from " + who() + ": " + t);
    }
  }

  private String who() {
    return peer == null ? "the other gateway" : peer.name();
  }

  private static String text(Term t) {
    return t instanceof io.beamgate.node.term.Binary b
        ? b.utf8() : String.valueOf(t);
  }

  @Override
  public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
    if (evt instanceof IdleStateEvent e) {
      if (e.state() == io.netty.handler.timeout.IdleState.WRITER_IDLE) {
        write(ctx, BridgeSession.PING);
      } else if (e.state() == io.netty.handler.timeout.IdleState.READER_IDLE) {
        fail(ctx, "no keepalive from " + who() + " for "
            + 3L * gw.bridgeSettings().keepaliveMillis() + " ms");
      }
      return;
    }
    super.userEventTriggered(ctx, evt);
  }

  @Override
  public void channelWritabilityChanged(ChannelHandlerContext ctx) throws Exception {
    if (session != null) {
      session.writable(ctx.channel().isWritable());
    }
    super.channelWritabilityChanged(ctx);
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    if (cause instanceof io.netty.handler.codec.TooLongFrameException) {
      fail(ctx, "a frame from " + who() + " larger than bridge.max_frame_bytes ("
          + gw.bridgeSettings().maxFrameBytes() + ")");
      return;
    }
    Throwable c = cause;
    while (c.getCause() != null && c.getCause() != c) {
      c = c.getCause();
    }
    fail(ctx, String.valueOf(c.getMessage() == null ? c : c.getMessage()));
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) throws Exception {
    BridgeSession s = session;
    session = null;
    side.closed(s, closeReason);
    super.channelInactive(ctx);
  }
}
