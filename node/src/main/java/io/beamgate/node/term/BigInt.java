package io.beamgate.node.term;

import java.math.BigInteger;
import java.util.Objects;

/**
 * An integer outside the range of a long. Values that fit in a long are always {@link Int}, so
 * each integer has one representation; build through {@link Term#integer(BigInteger)}.
 */
public record BigInt(BigInteger value) implements Term {
  public BigInt {
    Objects.requireNonNull(value, "value");
    if (value.bitLength() < 64) {
      throw new IllegalArgumentException("fits in a long, use Int: " + value);
    }
  }

  @Override
  public String toString() {
    return value.toString();
  }
}
