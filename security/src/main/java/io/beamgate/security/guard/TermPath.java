package io.beamgate.security.guard;

import io.beamgate.node.term.Term;
import io.beamgate.node.term.TermText;
import java.util.ArrayList;
import java.util.List;

/**
 * Where a term sits inside the terms a check walks ({@code args[1][0]#{key}{2}}): a chain of
 * steps, printed only when a check refuses. Printing it for every term visited would cost the
 * square of the depth, and a map key is printed only then. A path over 64 steps is printed
 * with its middle left out.
 */
final class TermPath {
  private final TermPath parent;
  private final String step;
  private final Term mapKey; // printed in place of the step's '%', when not null

  private TermPath(TermPath parent, String step, Term mapKey) {
    this.parent = parent;
    this.step = step;
    this.mapKey = mapKey;
  }

  static TermPath root(String step) {
    return new TermPath(null, step, null);
  }

  TermPath child(String step) {
    return new TermPath(this, step, null);
  }

  /** A step naming a map key: {@code '%'} in {@code step} stands for the key. */
  TermPath key(String step, Term key) {
    return new TermPath(this, step, key);
  }

  @Override
  public String toString() {
    List<String> steps = new ArrayList<>();
    for (TermPath p = this; p != null; p = p.parent) {
      steps.add(p.mapKey == null ? p.step : p.step.replace("%", abbreviate(
          TermText.format(p.mapKey))));
    }
    StringBuilder sb = new StringBuilder();
    int n = steps.size();
    for (int k = n - 1; k >= 0; k--) {
      if (n > 64 && k == n - 33) {
        sb.append("...(").append(n - 64).append(" levels)...");
        k = 32; // the innermost steps follow
      }
      sb.append(steps.get(k));
    }
    return sb.toString();
  }

  static String abbreviate(String s) {
    return s.length() > 40 ? s.substring(0, 40) + "..." : s;
  }
}
