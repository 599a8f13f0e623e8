package io.beamgate.gateway.server;

import io.beamgate.gateway.proto.ServerFrame;
import io.netty.channel.Channel;
import io.netty.channel.ChannelOutboundBuffer;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/**
 * The way out of one client connection: answers are written with one flush per event-loop
 * turn, and a client that stops reading is noticed. Over {@code limits.max_output_bytes}
 * queued and not a byte read by the client for {@code limits.output_stall_ms}, the connection
 * is stalled and {@code onStall} closes it; a client that reads a burst of large answers
 * slowly is only slowed down (writability pauses reading). Confined to the event loop.
 */
final class OutputFlow {
  private final Channel channel;
  private final long maxOutputBytes;
  private final long stallMillis;
  private final Runnable onStall;
  private final BooleanSupplier closing;
  private boolean flushScheduled;
  // When the connection last became unwritable (its answers queue up), 0 while writable.
  private long unwritableSince;

  OutputFlow(Channel channel, long maxOutputBytes, long stallMillis, Runnable onStall,
      BooleanSupplier closing) {
    this.channel = channel;
    this.maxOutputBytes = maxOutputBytes;
    this.stallMillis = stallMillis;
    this.onStall = onStall;
    this.closing = closing;
  }

  /** Writes {@code f} (flushed at the end of this turn); a stalled connection is closed instead. */
  void write(ServerFrame f) {
    if (!channel.isActive()) {
      return;
    }
    if (stalled()) {
      onStall.run();
      return;
    }
    channel.write(f, channel.voidPromise());
    if (!flushScheduled) {
      flushScheduled = true;
      channel.eventLoop().execute(() -> {
        flushScheduled = false;
        // records made after this turn's drain task ran are written before their answers
        io.beamgate.security.audit.AuditLog.drainThisThread();
        channel.flush();
      });
    }
  }

  /** The channel's writability changed: true when it is writable (the client reads again). */
  boolean writabilityChanged() {
    if (channel.isWritable()) {
      unwritableSince = 0;
      return true;
    }
    if (unwritableSince == 0) {
      unwritableSince = System.nanoTime();
      scheduleStallCheck();
    }
    return false;
  }

  /** Over max_output_bytes and nothing read by the client for output_stall_ms. */
  boolean stalled() {
    ChannelOutboundBuffer ob = channel.unsafe().outboundBuffer();
    return !closing.getAsBoolean() && unwritableSince != 0 && ob != null
        && ob.totalPendingWriteBytes() > maxOutputBytes
        && System.nanoTime() - unwritableSince >= stallMillis * 1_000_000L;
  }

  /** Checks again while the connection stays unwritable (no answer may come to trigger it). */
  private void scheduleStallCheck() {
    channel.eventLoop().schedule(() -> {
      if (stalled()) {
        onStall.run();
      } else if (unwritableSince != 0 && !closing.getAsBoolean() && channel.isActive()) {
        scheduleStallCheck();
      }
    }, stallMillis, TimeUnit.MILLISECONDS);
  }
}
