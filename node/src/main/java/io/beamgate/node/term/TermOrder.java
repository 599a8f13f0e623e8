package io.beamgate.node.term;

import java.math.BigDecimal;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;

/**
 * Erlang's standard term order, as OTP 25 sorts ({@code lists:sort/1}, {@code <}, {@code ==}):
 * number &lt; atom &lt; reference &lt; fun &lt; port &lt; pid &lt; tuple &lt; map &lt; nil &lt;
 * list &lt; bit string (Erlang Reference Manual, "Term Comparisons").
 *
 * <p>{@link #STANDARD} compares like {@code ==}: integers and floats by exact mathematical value,
 * so {@code 1} and {@code 1.0} compare equal (0) although they are different terms, and so do
 * {@code 0.0} and {@code -0.0} (OTP 25; OTP 27 changed this). It is therefore not consistent with
 * {@link Object#equals}; do not key a {@code TreeMap} with it. {@link #EXACT} is OTP's map-key
 * order, which OTP also uses to compare the keys of two maps: every integer sorts before every
 * float, otherwise as {@link #STANDARD}.
 *
 * <p>Per type, as checked against OTP 25 (see {@code TermOrderOtpTest}): atoms by code points;
 * tuples by size, then elements; maps by size, then keys sorted in map-key order and compared in
 * map-key order, then values in that key order; lists element by element, a prefix first, an
 * improper tail compared as a term; bit strings bit by bit, a prefix first; references and ports
 * by node name, creation, then id (reference ids as one unsigned number, last id most
 * significant, so {@code #Ref<n.0.0.5>} equals {@code #Ref<n.5>}); pids by serial, id, node name,
 * creation; a local fun before an external fun; external funs by module, function, arity; local
 * funs by module, old index, old uniq, then (not as OTP, which compares the captured
 * environment) their encoded bytes.
 *
 * <p>Iterative: deep terms do not overflow the stack (only map keys nested in map keys recurse).
 */
public final class TermOrder implements Comparator<Term> {
  /** Erlang's {@code <} / {@code ==} order. */
  public static final TermOrder STANDARD = new TermOrder(false);
  /** OTP's map-key order: integers before floats, else as {@link #STANDARD}. */
  public static final TermOrder EXACT = new TermOrder(true);

  private static final double TWO_53 = 9007199254740992.0;
  private final boolean exact;

  private TermOrder(boolean exact) {
    this.exact = exact;
  }

  @Override
  public int compare(Term a, Term b) {
    ArrayDeque<Object[]> work = new ArrayDeque<>();
    work.push(new Object[] {a, b, exact});
    while (!work.isEmpty()) {
      Object[] p = work.pop();
      int c = shallow((Term) p[0], (Term) p[1], (Boolean) p[2], work);
      if (c != 0) {
        return c;
      }
    }
    return 0;
  }

  static int rank(Term t) {
    if (t instanceof Int || t instanceof BigInt || t instanceof ErlFloat) {
      return 0;
    } else if (t instanceof Atom) {
      return 1;
    } else if (t instanceof Ref) {
      return 2;
    } else if (t instanceof Fun || t instanceof ExternalFun) {
      return 3;
    } else if (t instanceof Port) {
      return 4;
    } else if (t instanceof Pid) {
      return 5;
    } else if (t instanceof Tuple) {
      return 6;
    } else if (t instanceof ErlMap) {
      return 7;
    } else if (t instanceof ErlList l) {
      return l.isEmpty() ? 8 : 9;
    } else {
      return 10; // Binary, BitBinary
    }
  }

  /**
   * Compares the top level of a and b; when that is a tie and they have children, pushes the
   * pairs of children still to compare (first to compare on top).
   */
  private static int shallow(Term a, Term b, boolean exact, ArrayDeque<Object[]> work) {
    int ra = rank(a);
    int rb = rank(b);
    if (ra != rb) {
      return Integer.compare(ra, rb);
    }
    switch (ra) {
      case 0:
        return compareNumbers(a, b, exact);
      case 1:
        return compareAtoms((Atom) a, (Atom) b);
      case 2:
        return compareRefs((Ref) a, (Ref) b);
      case 3:
        return compareFuns(a, b);
      case 4: {
        Port x = (Port) a;
        Port y = (Port) b;
        int c = compareNodes(x.node(), x.creation(), y.node(), y.creation());
        return c != 0 ? c : Long.compareUnsigned(x.id(), y.id());
      }
      case 5: {
        Pid x = (Pid) a;
        Pid y = (Pid) b;
        int c = Integer.compareUnsigned(x.serial(), y.serial());
        if (c == 0) {
          c = Integer.compareUnsigned(x.id(), y.id());
        }
        return c != 0 ? c : compareNodes(x.node(), x.creation(), y.node(), y.creation());
      }
      case 6: {
        Tuple x = (Tuple) a;
        Tuple y = (Tuple) b;
        if (x.arity() != y.arity()) {
          return Integer.compare(x.arity(), y.arity());
        }
        for (int i = x.arity() - 1; i >= 0; i--) {
          work.push(new Object[] {x.get(i), y.get(i), exact});
        }
        return 0;
      }
      case 7:
        return compareMaps((ErlMap) a, (ErlMap) b, exact, work);
      case 8:
        return 0;
      case 9:
        pushLists((ErlList) a, (ErlList) b, exact, work);
        return 0;
      default:
        return compareBits(a, b);
    }
  }

  private static int compareNumbers(Term a, Term b, boolean exact) {
    boolean fa = a instanceof ErlFloat;
    boolean fb = b instanceof ErlFloat;
    if (exact && fa != fb) {
      return fa ? 1 : -1;
    }
    if (fa && fb) {
      return compareDoubles(((ErlFloat) a).value(), ((ErlFloat) b).value());
    }
    if (a instanceof Int x && b instanceof Int y) {
      return Long.compare(x.value(), y.value());
    }
    if (!fa && !fb) {
      return Term.bigIntegerValue(a).compareTo(Term.bigIntegerValue(b));
    }
    // An integer and a float: by exact value, which is what OTP's precision rule amounts to.
    return fa ? -compareIntFloat(b, ((ErlFloat) a).value())
        : compareIntFloat(a, ((ErlFloat) b).value());
  }

  private static int compareIntFloat(Term i, double f) {
    if (i instanceof Int x && Math.abs(x.value()) <= (long) TWO_53) {
      return compareDoubles((double) x.value(), f);
    }
    return new BigDecimal(Term.bigIntegerValue(i)).compareTo(new BigDecimal(f));
  }

  /** Numeric, so {@code -0.0 == 0.0} as in OTP 25. */
  private static int compareDoubles(double x, double y) {
    return x < y ? -1 : (x > y ? 1 : 0);
  }

  static int compareAtoms(Atom a, Atom b) {
    String x = a.name();
    String y = b.name();
    int i = 0;
    int j = 0;
    while (i < x.length() && j < y.length()) {
      int cx = x.codePointAt(i);
      int cy = y.codePointAt(j);
      if (cx != cy) {
        return Integer.compare(cx, cy);
      }
      i += Character.charCount(cx);
      j += Character.charCount(cy);
    }
    return Boolean.compare(i < x.length(), j < y.length());
  }

  private static int compareNodes(Atom na, int ca, Atom nb, int cb) {
    int c = compareAtoms(na, nb);
    return c != 0 ? c : Integer.compareUnsigned(ca, cb);
  }

  private static int compareRefs(Ref a, Ref b) {
    int c = compareNodes(a.node(), a.creation(), b.node(), b.creation());
    if (c != 0) {
      return c;
    }
    int n = Math.max(a.idCount(), b.idCount());
    for (int i = n - 1; i >= 0; i--) {
      int x = i < a.idCount() ? a.id(i) : 0;
      int y = i < b.idCount() ? b.id(i) : 0;
      if (x != y) {
        return Integer.compareUnsigned(x, y);
      }
    }
    return 0;
  }

  private static int compareFuns(Term a, Term b) {
    if (a instanceof ExternalFun x && b instanceof ExternalFun y) {
      int c = compareAtoms(x.module(), y.module());
      if (c == 0) {
        c = compareAtoms(x.function(), y.function());
      }
      return c != 0 ? c : Integer.compare(x.arity(), y.arity());
    }
    if (a instanceof Fun x && b instanceof Fun y) {
      int c = compareAtoms(x.module(), y.module());
      if (c == 0) {
        c = Long.compare(x.oldIndex(), y.oldIndex());
      }
      if (c == 0) {
        c = Long.compare(x.oldUniq(), y.oldUniq());
      }
      return c != 0 ? c : compareBytes(x.unsafeEncoded(), y.unsafeEncoded());
    }
    return a instanceof Fun ? -1 : 1; // local funs before external funs
  }

  private static int compareBytes(byte[] x, byte[] y) {
    int n = Math.min(x.length, y.length);
    for (int i = 0; i < n; i++) {
      if (x[i] != y[i]) {
        return Integer.compare(x[i] & 0xFF, y[i] & 0xFF);
      }
    }
    return Integer.compare(x.length, y.length);
  }

  private static int compareMaps(ErlMap a, ErlMap b, boolean exact, ArrayDeque<Object[]> work) {
    if (a.size() != b.size()) {
      return Integer.compare(a.size(), b.size());
    }
    List<Map.Entry<Term, Term>> ea = sortedEntries(a);
    List<Map.Entry<Term, Term>> eb = sortedEntries(b);
    // Keys first (in map-key order), then values in key order: push values, then keys on top.
    for (int i = ea.size() - 1; i >= 0; i--) {
      work.push(new Object[] {ea.get(i).getValue(), eb.get(i).getValue(), exact});
    }
    for (int i = ea.size() - 1; i >= 0; i--) {
      work.push(new Object[] {ea.get(i).getKey(), eb.get(i).getKey(), true});
    }
    return 0;
  }

  private static List<Map.Entry<Term, Term>> sortedEntries(ErlMap m) {
    List<Map.Entry<Term, Term>> l = new ArrayList<>(m.entries().entrySet());
    l.sort(Map.Entry.comparingByKey(EXACT));
    return l;
  }

  private static void pushLists(ErlList a, ErlList b, boolean exact, ArrayDeque<Object[]> work) {
    int n = Math.min(a.size(), b.size());
    work.push(new Object[] {rest(a, n), rest(b, n), exact});
    for (int i = n - 1; i >= 0; i--) {
      work.push(new Object[] {a.get(i), b.get(i), exact});
    }
  }

  /** What follows the first n elements: the remaining elements with the tail, or the tail. */
  private static Term rest(ErlList l, int n) {
    if (n == l.size()) {
      return l.tail();
    }
    List<Term> more = l.elements().subList(n, l.size());
    return l.isProper() ? ErlList.of(more) : ErlList.improper(more, l.tail());
  }

  private static int compareBits(Term a, Term b) {
    byte[] x = bytes(a);
    byte[] y = bytes(b);
    long bx = bitSize(a);
    long by = bitSize(b);
    long common = Math.min(bx, by);
    int whole = (int) (common / 8);
    for (int i = 0; i < whole; i++) {
      if (x[i] != y[i]) {
        return Integer.compare(x[i] & 0xFF, y[i] & 0xFF);
      }
    }
    int r = (int) (common % 8);
    if (r > 0) {
      int mask = (0xFF << (8 - r)) & 0xFF;
      int cx = x[whole] & mask;
      int cy = y[whole] & mask;
      if (cx != cy) {
        return Integer.compare(cx, cy);
      }
    }
    return Long.compare(bx, by);
  }

  private static byte[] bytes(Term t) {
    return t instanceof Binary b ? b.unsafeArray() : ((BitBinary) t).unsafeArray();
  }

  private static long bitSize(Term t) {
    return t instanceof Binary b ? b.size() * 8L : ((BitBinary) t).bitSize();
  }

  /** A sorted copy, by {@link #STANDARD}; stable, like {@code lists:keysort/2}. */
  public static List<Term> sorted(List<? extends Term> terms) {
    List<Term> l = new ArrayList<>(terms);
    l.sort(STANDARD);
    return l;
  }

  /** True when {@code a == b} in Erlang. */
  public static boolean equal(Term a, Term b) {
    return STANDARD.compare(a, b) == 0;
  }
}
