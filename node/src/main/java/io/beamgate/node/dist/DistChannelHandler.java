package io.beamgate.node.dist;

import io.beamgate.node.dist.HandshakeException.Reason;
import io.beamgate.node.etf.EtfDecoder;
import io.beamgate.node.etf.EtfException;
import io.beamgate.node.term.Atom;
import io.beamgate.node.term.Term;
import io.beamgate.node.term.Tuple;
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
  private final DistHeader header = new DistHeader();
  private io.netty.buffer.ByteBufAllocator alloc = io.netty.buffer.ByteBufAllocator.DEFAULT;
  private final java.util.Map<Long, Reassembly> partial = new java.util.HashMap<>();
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
    } else if (msg instanceof DistFrameDecoder.Oversized big) {
      try {
        onOversized(ctx, big);
      } finally {
        big.prefix().release();
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
    if (closeReason != null) {
      return; // closing: the rest of what was read is dropped
    }
    try {
      int first = frame.isReadable() ? frame.getUnsignedByte(frame.readerIndex()) : -1;
      if (first == 112) {
        ByteBuffer nio = frame.nioBuffer(frame.readerIndex() + 1, frame.readableBytes() - 1);
        message(nio, null);
      } else if (first == 131 && frame.readableBytes() >= 2) {
        int kind = frame.getUnsignedByte(frame.readerIndex() + 1);
        ByteBuffer nio = frame.nioBuffer(frame.readerIndex() + 2, frame.readableBytes() - 2);
        headed(kind, nio);
      } else {
        throw new DistProtocolException("frame starts with " + first
            + " (expected: 112 pass-through or 131 distribution header)");
      }
    } catch (EtfException | DistProtocolException | java.nio.BufferUnderflowException e) {
      String why = e instanceof java.nio.BufferUnderflowException ? "truncated header"
          : e.getMessage();
      log.warn("closing connection to {}: bad frame: {}", peerName, why);
      close(ctx, Reason.PROTOCOL, "bad frame: " + why);
    }
  }

  /**
   * A frame past maxFrameBytes: its message is dropped, but its header still updates the atom
   * cache, and a fragmented message it starts or continues is dropped as a whole.
   */
  private void onOversized(ChannelHandlerContext ctx, DistFrameDecoder.Oversized big) {
    if (closeReason != null) {
      return;
    }
    String limit = "frame length: " + big.length() + " (expected: <= "
        + connections.settings().maxFrameBytes() + ", maxFrameBytes)";
    ByteBuf p = big.prefix();
    try {
      int first = p.getUnsignedByte(p.readerIndex());
      if (first == 131 && p.readableBytes() >= 2) {
        int kind = p.getUnsignedByte(p.readerIndex() + 1);
        ByteBuffer nio = p.nioBuffer(p.readerIndex() + 2, p.readableBytes() - 2);
        switch (kind) {
          case DistHeader.NORMAL -> readRefsKeepingCache(nio);
          case DistHeader.FRAGMENT_START -> {
            long seq = nio.getLong();
            long fragId = nio.getLong();
            readRefsKeepingCache(nio);
            if (fragId > 1) {
              startFragments(seq, fragId, null, 0).fail(limit);
              return; // logged when its last fragment arrives
            }
          }
          case DistHeader.FRAGMENT_CONT -> {
            long seq = nio.getLong();
            long fragId = nio.getLong();
            Reassembly r = nextFragment(seq, fragId);
            r.fail(limit);
            if (fragId == 1) {
              partial.remove(seq);
              dropped(r.failure, null);
            }
            return;
          }
          default -> throw new DistProtocolException("distribution header " + kind
              + " (expected: 68, 69 or 70)");
        }
      } else if (first != 112) {
        throw new DistProtocolException("frame starts with " + first
            + " (expected: 112 pass-through or 131 distribution header)");
      }
      dropped(limit, null);
    } catch (DistProtocolException | java.nio.BufferUnderflowException e) {
      String why = e instanceof java.nio.BufferUnderflowException ? "truncated header"
          : e.getMessage();
      log.warn("closing connection to {}: bad frame: {}", peerName, why);
      close(ctx, Reason.PROTOCOL, "bad frame: " + why);
    }
  }

  /** The header's atom refs of a message that is dropped anyway: only the cache matters. */
  private void readRefsKeepingCache(ByteBuffer nio) {
    try {
      header.readAtomRefs(nio);
    } catch (EtfException e) {
      // The message is dropped already; the cache took every entry the header defined.
    }
  }

  /** Logs a message dropped for a limit; the connection stays up (as OTP keeps it). */
  private void dropped(String limit, ControlMessage control) {
    connections.countDropped();
    log.warn("dropped a message from {}{}: {}", peerName,
        control == null ? "" : " (" + control + ")", limit);
  }

  /** A frame with a distribution header: normal (68) or fragmented (69 start, 70 more). */
  private void headed(int kind, ByteBuffer nio) throws EtfException, DistProtocolException {
    switch (kind) {
      case DistHeader.NORMAL -> {
        Atom[] refs;
        try {
          refs = header.readAtomRefs(nio);
        } catch (EtfException e) {
          dropped("atom cache: " + e.getMessage(), null);
          return;
        }
        message(nio, refs);
      }
      case DistHeader.FRAGMENT_START -> {
        long seq = nio.getLong();
        long fragId = nio.getLong();
        Atom[] refs = null;
        String failure = null;
        try {
          refs = header.readAtomRefs(nio);
        } catch (EtfException e) {
          failure = "atom cache: " + e.getMessage();
        }
        if (fragId == 1) {
          if (failure != null) {
            dropped(failure, null);
          } else {
            message(nio, refs);
          }
          return;
        }
        Reassembly r = startFragments(seq, fragId, refs, nio.remaining());
        if (failure != null) {
          r.fail(failure);
        }
        r.append(nio, connections.settings().maxFrameBytes());
      }
      case DistHeader.FRAGMENT_CONT -> {
        long seq = nio.getLong();
        long fragId = nio.getLong();
        Reassembly r = nextFragment(seq, fragId);
        r.append(nio, connections.settings().maxFrameBytes());
        if (fragId == 1) {
          partial.remove(seq);
          if (r.failure != null) {
            dropped(r.failure, null);
            return;
          }
          try {
            message(r.data.nioBuffer(), r.refs, r.owned);
          } finally {
            r.release();
          }
        }
      }
      default -> throw new DistProtocolException("distribution header " + kind
          + " (expected: 68, 69 or 70)");
    }
  }

  private Reassembly startFragments(long seq, long fragId, Atom[] refs, int firstBytes)
      throws DistProtocolException {
    if (fragId < 1) {
      throw new DistProtocolException("fragment id: " + fragId + " (expected: >= 1)");
    }
    if (partial.size() >= connections.settings().maxFragmentedMessages()) {
      throw new DistProtocolException("fragmented messages in progress: "
          + (partial.size() + 1) + " (expected: <= "
          + connections.settings().maxFragmentedMessages() + ")");
    }
    if (partial.containsKey(seq)) {
      throw new DistProtocolException("fragment sequence " + seq + " started twice");
    }
    // Fragments are of equal size but the last: size the buffer once, within the cap.
    long expect = Math.min(connections.settings().maxFrameBytes(), fragId * (long) firstBytes);
    int size = (int) Math.min(Math.max(expect, 16), 1 << 30);
    // A large message is reassembled into an array of its own, unpooled: its large binaries
    // then stay ranges of it instead of copies (the decoder's owned input). Small ones use the
    // channel's pooled buffers.
    boolean owned = size >= EtfDecoder.SHARED_BINARY_MIN;
    Reassembly r = new Reassembly(refs, fragId - 1,
        owned ? Unpooled.buffer(size) : alloc.buffer(size), owned);
    partial.put(seq, r);
    return r;
  }

  /** The reassembly a continuation frame belongs to; fragments must come in order. */
  private Reassembly nextFragment(long seq, long fragId) throws DistProtocolException {
    Reassembly r = partial.get(seq);
    if (r == null) {
      throw new DistProtocolException("fragment of unknown sequence " + seq);
    }
    if (fragId != r.next) {
      throw new DistProtocolException("fragment id: " + fragId + " (expected: " + r.next
          + ")");
    }
    r.next--;
    return r;
  }

  /**
   * Fragments of one message so far, in a pooled buffer (released when done, failed or
   * closed). A failed one (past a limit) keeps only its place in the sequence, so its remaining
   * fragments are recognised and skipped.
   */
  private static final class Reassembly {
    final Atom[] refs;
    /** {@code data} is an unpooled heap buffer nothing else uses (see startFragments). */
    final boolean owned;
    long next;
    ByteBuf data;
    String failure;

    Reassembly(Atom[] refs, long next, ByteBuf data, boolean owned) {
      this.refs = refs;
      this.next = next;
      this.data = data;
      this.owned = owned;
    }

    void append(ByteBuffer b, long cap) {
      if (failure != null) {
        return;
      }
      long size = (long) data.readableBytes() + b.remaining();
      if (size > cap) {
        fail("reassembled message: more than " + cap + " bytes (expected: <= " + cap
            + ", maxFrameBytes)");
        return;
      }
      data.writeBytes(b);
    }

    void fail(String why) {
      if (failure == null) {
        failure = why;
        release();
      }
    }

    void release() {
      if (data != null) {
        data.release();
        data = null;
      }
    }
  }

  /**
   * A control message and its payload. After a distribution header ({@code refs} not null) the
   * terms have no version byte and may refer to the header's atoms.
   */
  /**
   * What stands for a DOWN's payload that was over the cap its monitor set:
   * {@code {'$beamgate_payload_too_large', Bytes}}.
   */
  static final Atom TOO_LARGE = Atom.of(DistConnections.PAYLOAD_TOO_LARGE);

  private void message(ByteBuffer nio, Atom[] refs) throws EtfException, DistProtocolException {
    message(nio, refs, false);
  }

  /**
   * With {@code owned}, {@code nio}'s array is a reassembled message's own (see
   * {@link Reassembly}): a large binary in the payload may stay a range of it.
   */
  private void message(ByteBuffer nio, Atom[] refs, boolean owned)
      throws EtfException, DistProtocolException {
    Term controlTerm;
    try {
      controlTerm = refs == null ? etf.decode(nio) : etf.decodeAfterHeader(nio, refs);
    } catch (EtfException e) {
      // The frame is whole (its length was read), only this term is refused: OTP would take
      // it, so dropping the one message is the closest we can do without closing the link.
      dropped("control message: " + e.getMessage(), null);
      return;
    }
    ControlMessage control = ControlMessage.parse(controlTerm);
    Term payload = null;
    if (control.hasPayload()) {
      if (!nio.hasRemaining()) {
        throw new DistProtocolException("control message " + control.getClass().getSimpleName()
            + " without its payload");
      }
      Long cap = control instanceof ControlMessage.PayloadMonitorPExit m
          ? connections.payloadLimit(m.ref()) : null;
      if (cap != null && nio.remaining() > cap) {
        // A DOWN whose reason (an erpc answer) is larger than its receiver will take: not
        // decoded at all; the receiver learns its size instead.
        payload = Tuple.of(TOO_LARGE, io.beamgate.node.term.Int.of(nio.remaining()));
        nio.position(nio.limit());
      } else {
        try {
          payload = refs == null ? etf.decode(nio) : etf.decodeAfterHeader(nio, refs, owned);
        } catch (EtfException e) {
          dropped("payload: " + e.getMessage(), control);
          return;
        }
      }
    }
    if (nio.hasRemaining()) {
      throw new DistProtocolException(nio.remaining() + " bytes after the message");
    }
    connections.dispatch(peerName, control, payload);
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
  public void handlerAdded(ChannelHandlerContext ctx) {
    alloc = ctx.alloc();
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    partial.values().forEach(Reassembly::release);
    partial.clear();
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
