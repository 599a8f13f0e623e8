package io.beamgate.node.term;

import java.util.Arrays;

/**
 * A bit string whose length is not a whole number of bytes: {@code bytes} holds the bits, and
 * only the high {@code lastBits} (1..7) bits of the last byte belong to it; the others are zero.
 */
public final class BitBinary implements Term {
  private final byte[] bytes;
  private final int lastBits;

  private BitBinary(byte[] bytes, int lastBits) {
    if (bytes.length == 0 || lastBits < 1 || lastBits > 7) {
      throw new IllegalArgumentException(
          "bit binary: " + bytes.length + " bytes, " + lastBits
              + " bits in the last (expected: >= 1 byte, 1..7 bits)");
    }
    this.bytes = bytes;
    this.lastBits = lastBits;
    // Unused low bits are zero, so equal bit strings have equal arrays.
    bytes[bytes.length - 1] &= (byte) (0xFF << (8 - lastBits));
  }

  public static BitBinary of(byte[] bytes, int lastBits) {
    return new BitBinary(bytes.clone(), lastBits);
  }

  /** Without a copy: the caller gives up the array. */
  public static BitBinary wrap(byte[] bytes, int lastBits) {
    return new BitBinary(bytes, lastBits);
  }

  public byte[] toByteArray() {
    return bytes.clone();
  }

  public byte[] unsafeArray() {
    return bytes;
  }

  public int lastBits() {
    return lastBits;
  }

  public long bitSize() {
    return (bytes.length - 1) * 8L + lastBits;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof BitBinary b && lastBits == b.lastBits && Arrays.equals(bytes, b.bytes);
  }

  @Override
  public int hashCode() {
    return Arrays.hashCode(bytes) * 31 + lastBits;
  }

  @Override
  public String toString() {
    return TermText.format(this);
  }
}
