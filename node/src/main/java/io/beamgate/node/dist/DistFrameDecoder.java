package io.beamgate.node.dist;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.CompositeByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.netty.handler.codec.TooLongFrameException;
import java.util.List;

/**
 * Splits the byte stream into distribution frames: during the handshake each message has a
 * 2-byte length and is emitted as a {@code byte[]}; once connected each has a 4-byte length and
 * is emitted as a {@link ByteBuf} (a zero length is a tick, emitted as {@link #TICK}). Lengths are
 * checked against the cap before anything is allocated; a frame past the cap is emitted as
 * {@link Oversized} (its header only) and skipped, so it costs its message, not the connection.
 */
final class DistFrameDecoder extends ByteToMessageDecoder {
  /** Marker for a received tick (a frame of length 0). */
  static final Object TICK = new Object();

  /**
   * The most bytes a distribution header can take (fragment fields, 255 atom cache refs with
   * flags, each with up to 1020 bytes of atom text): enough of an oversized frame to keep the
   * atom cache in step while the rest of the frame is skipped.
   */
  static final int MAX_HEADER_BYTES = 2 + 16 + 1 + 128 + 255 * (1 + 2 + 1020);

  /**
   * A frame longer than the cap: its first bytes (the distribution header, if it has one), and
   * its length. The rest is skipped as it arrives; the connection stays up.
   */
  record Oversized(ByteBuf prefix, long length) {}

  private final long maxFrameBytes;
  private volatile boolean connected;
  private long skipping; // bytes of an oversized frame still to skip

  DistFrameDecoder(long maxFrameBytes) {
    this.maxFrameBytes = maxFrameBytes;
    setCumulator(CUMULATOR);
  }

  /** Reads at least this large are kept as they are when a frame spans them (see below). */
  static final int COMPOSITE_MIN = 64 * 1024;

  /**
   * Small reads are merged (copied) behind the bytes left over from the last read, as Netty
   * does by default: cheap, and frames stay contiguous. A large read (large messages: up to
   * 1 MiB at once) is added as a component instead, so its bytes are not all copied again
   * because one frame began in the read before; only a frame that spans two reads is copied
   * when it is decoded.
   */
  private static final Cumulator CUMULATOR = (alloc, cumulation, in) ->
      cumulation instanceof CompositeByteBuf || in.readableBytes() >= COMPOSITE_MIN
          ? COMPOSITE_CUMULATOR.cumulate(alloc, cumulation, in)
          : MERGE_CUMULATOR.cumulate(alloc, cumulation, in);

  /** Switches to 4-byte framing; called from the handshake handler on completion. */
  void connected() {
    connected = true;
  }

  @Override
  protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out)
      throws TooLongFrameException {
    if (!connected) {
      if (in.readableBytes() < 2) {
        return;
      }
      int len = in.getUnsignedShort(in.readerIndex());
      if (len > Handshake.MAX_MESSAGE) {
        throw new TooLongFrameException(
            "handshake message length: " + len + " (expected: <= " + Handshake.MAX_MESSAGE + ")");
      }
      if (in.readableBytes() < 2 + len) {
        return;
      }
      in.skipBytes(2);
      byte[] msg = new byte[len];
      in.readBytes(msg);
      out.add(msg);
      return;
    }
    if (skipping > 0) {
      int n = (int) Math.min(skipping, in.readableBytes());
      in.skipBytes(n);
      skipping -= n;
      if (skipping > 0) {
        return;
      }
    }
    if (in.readableBytes() < 4) {
      return;
    }
    long len = in.getUnsignedInt(in.readerIndex());
    if (len > maxFrameBytes) {
      // Only this message is lost (as OTP, which drops what it cannot take and goes on): keep
      // the header for the atom cache, skip the rest without buffering it.
      int prefix = (int) Math.min(len, MAX_HEADER_BYTES);
      if (in.readableBytes() < 4 + prefix) {
        return;
      }
      in.skipBytes(4);
      out.add(new Oversized(in.readRetainedSlice(prefix), len));
      skipping = len - prefix;
      return;
    }
    if (len == 0) {
      in.skipBytes(4);
      out.add(TICK);
      return;
    }
    if (in.readableBytes() < 4 + len) {
      // Grow the cumulation geometrically towards the frame, so a large frame is copied a
      // bounded number of times, and never allocate the whole claimed size up front.
      long need = 4 + len - in.readableBytes();
      if (need > in.writableBytes() && !(in instanceof CompositeByteBuf)) {
        in.ensureWritable((int) Math.min(need, Math.max(in.readableBytes(), 64 * 1024)));
      }
      return;
    }
    in.skipBytes(4);
    out.add(in.readRetainedSlice((int) len));
  }
}
