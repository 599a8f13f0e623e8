package io.beamgate.node.term;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A map. Entry order is kept as given (decoding keeps wire order, so a decoded map re-encodes
 * byte-exactly); equality ignores order, as in Erlang.
 */
public record ErlMap(Map<Term, Term> entries) implements Term {
  public static final ErlMap EMPTY = new ErlMap(Map.of());

  public ErlMap {
    entries = Collections.unmodifiableMap(new LinkedHashMap<>(entries));
  }

  public static ErlMap of(Map<? extends Term, ? extends Term> entries) {
    return new ErlMap(new java.util.LinkedHashMap<>(entries));
  }

  public Term get(Term key) {
    return entries.get(key);
  }

  public int size() {
    return entries.size();
  }

  /** Structural, without recursion (see {@link TermEquality}). */
  @Override
  public boolean equals(Object o) {
    return o instanceof ErlMap other && TermEquality.equal(this, other);
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
