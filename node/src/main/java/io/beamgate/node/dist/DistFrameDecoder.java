package io.beamgate.node.dist;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.netty.handler.codec.TooLongFrameException;
import java.util.List;

/**
 * Splits the byte stream into distribution frames: during the handshake each message has a
 * 2-byte length and is emitted as a {@code byte[]}; once connected each has a 4-byte length and
 * is emitted as a {@link ByteBuf} (a zero length is a tick, emitted as {@link #TICK}). Lengths are
 * checked against the cap before anything is allocated.
 */
final class DistFrameDecoder extends ByteToMessageDecoder {
  /** Marker for a received tick (a frame of length 0). */
  static final Object TICK = new Object();

  private final long maxFrameBytes;
  private volatile boolean connected;

  DistFrameDecoder(long maxFrameBytes) {
    this.maxFrameBytes = maxFrameBytes;
  }

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
    if (in.readableBytes() < 4) {
      return;
    }
    long len = in.getUnsignedInt(in.readerIndex());
    if (len > maxFrameBytes) {
      throw new TooLongFrameException(
          "distribution frame length: " + len + " (expected: <= " + maxFrameBytes + ")");
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
      if (need > in.writableBytes()) {
        in.ensureWritable((int) Math.min(need, Math.max(in.readableBytes(), 64 * 1024)));
      }
      return;
    }
    in.skipBytes(4);
    out.add(in.readRetainedSlice((int) len));
  }
}
