package io.beamgate.node.term;

import java.util.Arrays;
import java.util.List;

/** A tuple. */
public record Tuple(List<Term> elements) implements Term {
  public static final Tuple EMPTY = new Tuple(List.of());

  public Tuple {
    elements = List.copyOf(elements);
  }

  public static Tuple of(Term... elements) {
    return new Tuple(Arrays.asList(elements));
  }

  public int arity() {
    return elements.size();
  }

  public Term get(int i) {
    return elements.get(i);
  }

  /** True when this tuple has the given arity and its first element is the given atom. */
  public boolean isTagged(String tag, int arity) {
    return elements.size() == arity
        && elements.get(0) instanceof Atom a
        && a.name().equals(tag);
  }

  /** Structural, without recursion (see {@link TermEquality}). */
  @Override
  public boolean equals(Object o) {
    return o instanceof Tuple other && TermEquality.equal(this, other);
  }

  @Override
  public int hashCode() {
    return TermEquality.hash(this);
  }

  @Override
  public String toString() {
    return TermText.format(this);
  }
}
