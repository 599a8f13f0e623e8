package io.beamgate.node.term;

import java.util.Arrays;
import java.util.Objects;

/** A reference (NEWER_REFERENCE_EXT): node, creation and 1..5 32-bit ids. */
public record Ref(Atom node, int creation, int[] ids) implements Term {
  public static final int MAX_IDS = 5;

  public Ref {
    Objects.requireNonNull(node, "node");
    if (ids.length < 1 || ids.length > MAX_IDS) {
      throw new IllegalArgumentException(
          "reference ids: " + ids.length + " (expected: 1.." + MAX_IDS + ")");
    }
    ids = ids.clone();
  }

  @Override
  public int[] ids() {
    return ids.clone();
  }

  public int idCount() {
    return ids.length;
  }

  public int id(int i) {
    return ids[i];
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Ref r
        && creation == r.creation
        && node.equals(r.node)
        && Arrays.equals(ids, r.ids);
  }

  @Override
  public int hashCode() {
    return (node.hashCode() * 31 + creation) * 31 + Arrays.hashCode(ids);
  }

  @Override
  public String toString() {
    return TermText.format(this);
  }
}
