package io.beamgate.node.term;

/** An integer that fits in a Java long. Larger ones are {@link BigInt}. */
public record Int(long value) implements Term {
  public static Int of(long value) {
    return new Int(value);
  }

  @Override
  public String toString() {
    return Long.toString(value);
  }
}
