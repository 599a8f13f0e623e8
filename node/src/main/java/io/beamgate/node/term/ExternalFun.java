package io.beamgate.node.term;

import java.util.Objects;

/** An external fun, {@code fun Module:Function/Arity} (EXPORT_EXT). */
public record ExternalFun(Atom module, Atom function, int arity) implements Term {
  public ExternalFun {
    Objects.requireNonNull(module, "module");
    Objects.requireNonNull(function, "function");
    if (arity < 0 || arity > 255) {
      throw new IllegalArgumentException("arity: " + arity + " (expected: 0..255)");
    }
  }

  @Override
  public String toString() {
    return TermText.format(this);
  }
}
