package io.beamgate.node.term;

/**
 * Erlang term text: a printer whose output {@code erl} reads back to the same term, and a parser
 * for the same syntax. (Placeholder printer; the full printer and parser replace it.)
 */
public final class TermText {
  private TermText() {}

  public static String format(Term t) {
    StringBuilder sb = new StringBuilder();
    print(t, sb);
    return sb.toString();
  }

  private static void print(Term t, StringBuilder sb) {
    if (t instanceof Atom a) {
      sb.append('\'').append(a.name().replace("\\", "\\\\").replace("'", "\\'")).append('\'');
    } else if (t instanceof Int i) {
      sb.append(i.value());
    } else if (t instanceof BigInt b) {
      sb.append(b.value());
    } else if (t instanceof ErlFloat f) {
      sb.append(f.value());
    } else if (t instanceof Tuple tu) {
      sb.append('{');
      for (int i = 0; i < tu.arity(); i++) {
        if (i > 0) {
          sb.append(',');
        }
        print(tu.get(i), sb);
      }
      sb.append('}');
    } else if (t instanceof ErlList l) {
      sb.append('[');
      for (int i = 0; i < l.size(); i++) {
        if (i > 0) {
          sb.append(',');
        }
        print(l.get(i), sb);
      }
      if (!l.isProper()) {
        sb.append('|');
        print(l.tail(), sb);
      }
      sb.append(']');
    } else {
      sb.append('#').append(t.getClass().getSimpleName());
    }
  }
}
