package io.beamgate.node.dist;

import io.beamgate.node.etf.ByteSink;
import io.netty.buffer.ByteBuf;

/** Lets the term encoder write straight into a Netty buffer. */
final class ByteBufSink implements ByteSink {
  private final ByteBuf buf;

  ByteBufSink(ByteBuf buf) {
    this.buf = buf;
  }

  @Override
  public void writeByte(int b) {
    buf.writeByte(b);
  }

  @Override
  public void writeShort(int s) {
    buf.writeShort(s);
  }

  @Override
  public void writeInt(int i) {
    buf.writeInt(i);
  }

  @Override
  public void writeLong(long l) {
    buf.writeLong(l);
  }

  @Override
  public void writeBytes(byte[] src, int offset, int length) {
    buf.writeBytes(src, offset, length);
  }
}
