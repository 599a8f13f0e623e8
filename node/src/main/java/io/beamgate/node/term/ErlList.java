package io.beamgate.node.term;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A list: elements and a tail. A proper list has the empty list {@link #NIL} as its tail; an
 * improper list ({@code [a | b]}) has another term. The canonical form is kept: a tail that is
 * itself a list is merged into the elements, and an improper list has at least one element.
 */
public record ErlList(List<Term> elements, Term tail) implements Term {
  /** The empty list, {@code []}. */
  public static final ErlList NIL = new ErlList(List.of(), null);

  public ErlList {
    elements = List.copyOf(elements);
    if (tail instanceof ErlList l) {
      if (!l.elements.isEmpty()) {
        List<Term> merged = new ArrayList<>(elements.size() + l.elements.size());
        merged.addAll(elements);
        merged.addAll(l.elements);
        elements = List.copyOf(merged);
      }
      tail = l.tail;
    }
    if (elements.isEmpty() && tail != null) {
      throw new IllegalArgumentException("an improper list needs at least one element");
    }
  }

  public static ErlList of(Term... elements) {
    return elements.length == 0 ? NIL : new ErlList(Arrays.asList(elements), null);
  }

  public static ErlList of(List<? extends Term> elements) {
    return elements.isEmpty() ? NIL : new ErlList(List.copyOf(elements), null);
  }

  /** {@code [e1, ..., en | tail]}. */
  public static ErlList improper(List<? extends Term> elements, Term tail) {
    return new ErlList(List.copyOf(elements), tail);
  }

  /** The tail: {@link #NIL} for a proper list. */
  @Override
  public Term tail() {
    return tail == null ? NIL : tail;
  }

  public boolean isProper() {
    return tail == null;
  }

  public boolean isEmpty() {
    return elements.isEmpty();
  }

  public int size() {
    return elements.size();
  }

  public Term get(int i) {
    return elements.get(i);
  }

  /** True for a non-empty proper list of integers that are Unicode code points. */
  public boolean isPrintableCodePoints() {
    if (tail != null || elements.isEmpty()) {
      return false;
    }
    for (Term t : elements) {
      if (!(t instanceof Int i) || i.value() < 0 || i.value() > Character.MAX_CODE_POINT) {
        return false;
      }
    }
    return true;
  }

  /** Structural, without recursion (see {@link TermEquality}). */
  @Override
  public boolean equals(Object o) {
    return o instanceof ErlList other && TermEquality.equal(this, other);
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
