package io.beamgate.node.term;

/** A float (IEEE 754 double). Erlang has no NaN or infinities; they are refused. */
public record ErlFloat(double value) implements Term {
  public ErlFloat {
    if (Double.isNaN(value) || Double.isInfinite(value)) {
      throw new IllegalArgumentException("float: " + value + " (expected: finite)");
    }
  }

  @Override
  public String toString() {
    return TermText.format(this);
  }
}
