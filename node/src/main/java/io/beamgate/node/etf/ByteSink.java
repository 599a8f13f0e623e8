package io.beamgate.node.etf;

/** Where the encoder writes bytes: a growable array, or a transport buffer behind an adapter. */
public interface ByteSink {
  void writeByte(int b);

  void writeShort(int s);

  void writeInt(int i);

  void writeLong(long l);

  void writeBytes(byte[] src, int offset, int length);

  default void writeBytes(byte[] src) {
    writeBytes(src, 0, src.length);
  }
}
