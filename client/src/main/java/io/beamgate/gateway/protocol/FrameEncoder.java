package io.beamgate.gateway.protocol;

import com.google.protobuf.CodedOutputStream;
import com.google.protobuf.MessageLite;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandler.Sharable;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import io.netty.channel.ChannelPromise;
import java.nio.ByteBuffer;

/** Writes each protobuf message as one frame: its length as a varint, then its bytes. */
@Sharable
public final class FrameEncoder extends ChannelOutboundHandlerAdapter {
  public static final FrameEncoder INSTANCE = new FrameEncoder();

  private FrameEncoder() {}

  @Override
  public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise)
      throws Exception {
    if (!(msg instanceof MessageLite m)) {
      ctx.write(msg, promise);
      return;
    }
    ctx.write(encode(ctx, m), promise);
  }

  /** The frame for {@code m}, in a buffer from the channel's allocator. */
  static ByteBuf encode(ChannelHandlerContext ctx, MessageLite m) throws java.io.IOException {
    int n = m.getSerializedSize();
    int total = CodedOutputStream.computeUInt32SizeNoTag(n) + n;
    ByteBuf buf = ctx.alloc().ioBuffer(total);
    try {
      ByteBuffer nio = buf.nioBuffer(0, total);
      CodedOutputStream out = CodedOutputStream.newInstance(nio);
      out.writeUInt32NoTag(n);
      m.writeTo(out);
      out.flush();
      buf.writerIndex(total);
      return buf;
    } catch (java.io.IOException | RuntimeException e) {
      buf.release();
      throw e;
    }
  }
}
