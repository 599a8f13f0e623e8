package io.beamgate.gateway.protocol;

import com.google.protobuf.CodedInputStream;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.MessageLite;
import com.google.protobuf.Parser;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import java.util.List;

/**
 * Splits the byte stream into frames (an unsigned varint length, then a protobuf message) and
 * parses each. A length over {@code maxFrameBytes} or a frame that does not parse fails with
 * a {@link FrameException}; after that, everything else that arrives is discarded (the
 * handler answers and closes). A frame is parsed only once it has fully arrived, so a slow or
 * truncated frame holds at most {@code maxFrameBytes} and no thread.
 */
public final class FrameDecoder<T extends MessageLite> extends ByteToMessageDecoder {
  private final Parser<T> parser;
  private final int maxFrameBytes;
  private final int recursionLimit;
  private boolean failed;

  public FrameDecoder(Parser<T> parser, int maxFrameBytes, int recursionLimit) {
    if (maxFrameBytes < 1) {
      throw new IllegalArgumentException("maxFrameBytes: " + maxFrameBytes
          + " (expected: >= 1)");
    }
    this.parser = parser;
    this.maxFrameBytes = maxFrameBytes;
    this.recursionLimit = recursionLimit;
  }

  @Override
  protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out)
      throws FrameException {
    if (failed) {
      in.skipBytes(in.readableBytes());
      return;
    }
    while (in.isReadable()) {
      int start = in.readerIndex();
      long length = 0;
      int shift = 0;
      boolean complete = false;
      while (in.isReadable()) {
        byte b = in.readByte();
        length |= (long) (b & 0x7F) << shift;
        if (b >= 0) {
          complete = true;
          break;
        }
        shift += 7;
        if (shift >= 35) {
          fail(in);
          throw new FrameException(FrameException.Kind.MALFORMED,
              "frame length is not a varint of at most 5 bytes");
        }
      }
      if (!complete) {
        in.readerIndex(start);
        return;
      }
      if (length > maxFrameBytes) {
        fail(in);
        throw new FrameException(FrameException.Kind.TOO_LARGE, "frame of " + length
            + " bytes (expected: <= " + maxFrameBytes + ")");
      }
      if (in.readableBytes() < length) {
        in.readerIndex(start);
        return;
      }
      int n = (int) length;
      T msg;
      try {
        CodedInputStream cis = in.hasArray()
            ? CodedInputStream.newInstance(in.array(), in.arrayOffset() + in.readerIndex(), n)
            : CodedInputStream.newInstance(in.nioBuffer(in.readerIndex(), n));
        cis.setRecursionLimit(recursionLimit);
        msg = parser.parseFrom(cis);
      } catch (InvalidProtocolBufferException e) {
        fail(in);
        throw new FrameException(FrameException.Kind.MALFORMED, "frame of " + n
            + " bytes does not parse: " + e.getMessage());
      }
      in.skipBytes(n);
      out.add(msg);
    }
  }

  private void fail(ByteBuf in) {
    failed = true;
    in.skipBytes(in.readableBytes());
  }
}
