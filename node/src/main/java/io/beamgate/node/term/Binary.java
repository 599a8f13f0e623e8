package io.beamgate.node.term;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * A binary (a bit string whose length is a whole number of bytes). Most binaries own their
 * whole array; a large one decoded from a message the node owns may be a range of that
 * message's array (see {@link #wrapRange}), as erts keeps a large received binary a
 * sub-binary of what it read instead of copying it.
 */
public final class Binary implements Term {
  public static final Binary EMPTY = new Binary(new byte[0], 0, 0);
  private final byte[] bytes;
  private final int offset;
  private final int length;

  private Binary(byte[] bytes, int offset, int length) {
    this.bytes = bytes;
    this.offset = offset;
    this.length = length;
  }

  /** A binary holding a copy of the bytes. */
  public static Binary of(byte[] bytes) {
    return new Binary(bytes.clone(), 0, bytes.length);
  }

  /**
   * A binary over the given array, without a copy: the caller gives up the array. Used by the
   * decoder and for large payloads.
   */
  public static Binary wrap(byte[] bytes) {
    return new Binary(bytes, 0, bytes.length);
  }

  /**
   * A binary over {@code length} bytes of {@code bytes} from {@code offset}, without a copy:
   * the caller gives up the whole array (nothing may write to it afterwards), and the binary
   * keeps all of it alive. For the decoder's large binaries.
   */
  public static Binary wrapRange(byte[] bytes, int offset, int length) {
    java.util.Objects.checkFromIndexSize(offset, length, bytes.length);
    return new Binary(bytes, offset, length);
  }

  public int size() {
    return length;
  }

  public byte get(int i) {
    java.util.Objects.checkIndex(i, length);
    return bytes[offset + i];
  }

  /** A copy of the bytes. */
  public byte[] toByteArray() {
    return Arrays.copyOfRange(bytes, offset, offset + length);
  }

  /**
   * The bytes as an array of exactly {@link #size()} bytes, not to be modified: the backing
   * array itself when the binary owns all of it, else a copy. Encoders use {@link #array()}
   * and {@link #arrayOffset()}, which never copy.
   */
  public byte[] unsafeArray() {
    return offset == 0 && length == bytes.length ? bytes : toByteArray();
  }

  /** The backing array, not to be modified; the bytes start at {@link #arrayOffset()}. */
  public byte[] array() {
    return bytes;
  }

  /** Where the bytes start in {@link #array()}. */
  public int arrayOffset() {
    return offset;
  }

  public String utf8() {
    return new String(bytes, offset, length, StandardCharsets.UTF_8);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Binary b
        && Arrays.equals(bytes, offset, offset + length, b.bytes, b.offset, b.offset + b.length);
  }

  @Override
  public int hashCode() {
    // As Arrays.hashCode over the bytes, whether they fill their array or not.
    int h = 1;
    for (int i = offset, end = offset + length; i < end; i++) {
      h = 31 * h + bytes[i];
    }
    return h;
  }

  @Override
  public String toString() {
    return TermText.format(this);
  }
}
