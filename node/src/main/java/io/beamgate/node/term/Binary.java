package io.beamgate.node.term;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/** A binary (a bit string whose length is a whole number of bytes). */
public final class Binary implements Term {
  public static final Binary EMPTY = new Binary(new byte[0]);
  private final byte[] bytes;

  private Binary(byte[] bytes) {
    this.bytes = bytes;
  }

  /** A binary holding a copy of the bytes. */
  public static Binary of(byte[] bytes) {
    return new Binary(bytes.clone());
  }

  /**
   * A binary over the given array, without a copy: the caller gives up the array. Used by the
   * decoder and for large payloads.
   */
  public static Binary wrap(byte[] bytes) {
    return new Binary(bytes);
  }

  public int size() {
    return bytes.length;
  }

  public byte get(int i) {
    return bytes[i];
  }

  /** A copy of the bytes. */
  public byte[] toByteArray() {
    return bytes.clone();
  }

  /** The backing array, not to be modified (for encoders). */
  public byte[] unsafeArray() {
    return bytes;
  }

  public String utf8() {
    return new String(bytes, StandardCharsets.UTF_8);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Binary b && Arrays.equals(bytes, b.bytes);
  }

  @Override
  public int hashCode() {
    return Arrays.hashCode(bytes);
  }

  @Override
  public String toString() {
    return TermText.format(this);
  }
}
