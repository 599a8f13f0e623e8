package io.beamgate.gateway.bridge;

import io.beamgate.node.etf.EtfEncoder;
import io.beamgate.node.term.Term;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelOutboundBuffer;
import io.netty.channel.EventLoop;
import java.util.function.BooleanSupplier;
import java.util.function.ObjIntConsumer;
import org.slf4j.Logger;

/**
 * The way out of one bridge link: each message framed as ETF behind a 4-byte length, written on
 * the link's event loop in order with one flush per batch (many messages share a TLS record
 * and a system call under load). A message over {@code bridge.max_frame_bytes} is not sent
 * ({@code tooLarge} decides what instead), and past {@code hardQueueBytes} queued the link is
 * closed. Backpressure proper (pausing before that) is the session's, from writability.
 */
final class LinkWriter {
  private final Channel channel;
  private final int maxFrameBytes;
  private final long hardQueueBytes;
  private final String label;
  private final String peerName;
  private final BooleanSupplier closed;
  private final ObjIntConsumer<Term> tooLarge;
  private final Logger log;
  private boolean flushQueued; // on the event loop only
  private boolean overflowed; // on the event loop only
  private final Runnable flushTask = this::flushNow;

  LinkWriter(Channel channel, int maxFrameBytes, long hardQueueBytes, String label,
      String peerName, BooleanSupplier closed, ObjIntConsumer<Term> tooLarge, Logger log) {
    this.channel = channel;
    this.maxFrameBytes = maxFrameBytes;
    this.hardQueueBytes = hardQueueBytes;
    this.label = label;
    this.peerName = peerName;
    this.closed = closed;
    this.tooLarge = tooLarge;
    this.log = log;
  }

  int maxFrameBytes() {
    return maxFrameBytes;
  }

  /**
   * Sends {@code op} to the other gateway. Writes made on the link's event loop go out at
   * once; others are handed to it in order.
   */
  void send(Term op) {
    if (closed.getAsBoolean()) {
      return;
    }
    byte[] body = EtfEncoder.encode(op);
    if (body.length > maxFrameBytes) {
      tooLarge.accept(op, body.length);
      return;
    }
    ByteBuf buf = channel.alloc().buffer(4 + body.length);
    buf.writeInt(body.length);
    buf.writeBytes(body);
    EventLoop loop = channel.eventLoop();
    if (loop.inEventLoop()) {
      writeNow(buf);
    } else {
      loop.execute(() -> writeNow(buf));
    }
  }

  private void flushNow() {
    flushQueued = false;
    // records made after this turn's audit drain ran are written before their answers
    io.beamgate.security.audit.AuditLog.drainThisThread();
    channel.flush();
  }

  private void writeNow(ByteBuf buf) {
    ChannelOutboundBuffer ob = channel.unsafe().outboundBuffer();
    if (ob == null || closed.getAsBoolean() || overflowed || !channel.isActive()) {
      buf.release(); // closed or closing
      return;
    }
    if (ob.totalPendingWriteBytes() > hardQueueBytes) {
      buf.release();
      overflowed = true;
      log.warn("bridge {}: more than {} bytes queued for {}; closing the link",
          label, hardQueueBytes, peerName);
      channel.close();
      return;
    }
    channel.write(buf, channel.voidPromise());
    if (!flushQueued) {
      flushQueued = true;
      channel.eventLoop().execute(flushTask);
    }
  }
}
