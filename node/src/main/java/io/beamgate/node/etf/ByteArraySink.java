package io.beamgate.node.etf;

import java.util.Arrays;

/** A growable byte array sink. */
public final class ByteArraySink implements ByteSink {
  private byte[] buf;
  private int size;

  public ByteArraySink(int initialCapacity) {
    buf = new byte[Math.max(16, initialCapacity)];
  }

  private void ensure(int extra) {
    int need = size + extra;
    if (need < 0) {
      throw new IllegalStateException("encoded term larger than 2 GiB");
    }
    if (need > buf.length) {
      buf = Arrays.copyOf(buf, Math.max(need, (int) Math.min(Integer.MAX_VALUE - 8L, buf.length * 2L)));
    }
  }

  @Override
  public void writeByte(int b) {
    ensure(1);
    buf[size++] = (byte) b;
  }

  @Override
  public void writeShort(int s) {
    ensure(2);
    buf[size++] = (byte) (s >>> 8);
    buf[size++] = (byte) s;
  }

  @Override
  public void writeInt(int i) {
    ensure(4);
    buf[size++] = (byte) (i >>> 24);
    buf[size++] = (byte) (i >>> 16);
    buf[size++] = (byte) (i >>> 8);
    buf[size++] = (byte) i;
  }

  @Override
  public void writeLong(long l) {
    writeInt((int) (l >>> 32));
    writeInt((int) l);
  }

  @Override
  public void writeBytes(byte[] src, int offset, int length) {
    ensure(length);
    System.arraycopy(src, offset, buf, size, length);
    size += length;
  }

  public int size() {
    return size;
  }

  public void reset() {
    size = 0;
  }

  public byte[] toByteArray() {
    return Arrays.copyOf(buf, size);
  }

  /** The backing array; valid bytes are [0, size()). */
  public byte[] array() {
    return buf;
  }
}
