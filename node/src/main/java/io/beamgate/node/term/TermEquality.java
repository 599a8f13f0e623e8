package io.beamgate.node.term;

import java.util.ArrayDeque;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * {@code equals} and {@code hashCode} for the container terms (tuples, lists, maps), with an
 * explicit stack: OTP builds terms a million levels deep (iolists do so every day), and the
 * records' generated methods would recurse once per level and overflow the Java stack.
 *
 * <p>Equality is structural, exactly as the records' own (a map's entry order is ignored). The
 * hash walks the term in pre-order, so equal terms hash alike; a map contributes its size and
 * the hashes of its non-container keys and values (order-independently), which keeps the walk
 * free of recursion at the cost of weaker hashes for maps that differ only deep inside.
 */
final class TermEquality {
  private TermEquality() {}

  static boolean equal(Term a, Term b) {
    if (a == b) {
      return true;
    }
    ArrayDeque<Term> work = new ArrayDeque<>();
    work.push(b);
    work.push(a);
    while (!work.isEmpty()) {
      Term x = work.pop();
      Term y = work.pop();
      if (x == y) {
        continue;
      }
      if (x instanceof Tuple tx) {
        if (!(y instanceof Tuple ty) || tx.arity() != ty.arity()) {
          return false;
        }
        pushPairs(work, tx.elements(), ty.elements());
      } else if (x instanceof ErlList lx) {
        if (!(y instanceof ErlList ly) || lx.size() != ly.size()
            || lx.isProper() != ly.isProper()) {
          return false;
        }
        if (!lx.isProper()) {
          work.push(ly.tail());
          work.push(lx.tail());
        }
        pushPairs(work, lx.elements(), ly.elements());
      } else if (x instanceof ErlMap mx) {
        if (!(y instanceof ErlMap my) || mx.size() != my.size()) {
          return false;
        }
        // Map.get hashes and compares keys with these same methods: only keys that are
        // themselves maps or contain maps nest a walk inside this one.
        for (Map.Entry<Term, Term> e : mx.entries().entrySet()) {
          Term v = my.entries().get(e.getKey());
          if (v == null) {
            return false;
          }
          work.push(v);
          work.push(e.getValue());
        }
      } else if (x == null || !x.equals(y)) {
        return false;
      }
    }
    return true;
  }

  private static void pushPairs(ArrayDeque<Term> work, List<Term> xs, List<Term> ys) {
    for (int i = xs.size() - 1; i >= 0; i--) {
      work.push(ys.get(i));
      work.push(xs.get(i));
    }
  }

  static int hash(Term root) {
    int h = 1;
    ArrayDeque<Object> work = new ArrayDeque<>();
    work.push(root);
    while (!work.isEmpty()) {
      Object top = work.peek();
      Term t;
      if (top instanceof Iterator<?> it) {
        if (!it.hasNext()) {
          work.pop();
          continue;
        }
        t = (Term) it.next();
      } else {
        work.pop();
        t = (Term) top;
      }
      if (t instanceof Tuple tu) {
        h = 31 * h + 0x7475 + tu.arity();
        if (tu.arity() > 0) {
          work.push(tu.elements().iterator());
        }
      } else if (t instanceof ErlList l) {
        h = 31 * h + 0x6c69 + l.size() * 2 + (l.isProper() ? 0 : 1);
        if (!l.isProper()) {
          work.push(l.tail());
        }
        if (!l.isEmpty()) {
          work.push(l.elements().iterator());
        }
      } else if (t instanceof ErlMap m) {
        int sum = 0;
        for (Map.Entry<Term, Term> e : m.entries().entrySet()) {
          sum += 31 * leafHash(e.getKey()) + leafHash(e.getValue());
        }
        h = 31 * h + 0x6d61 + m.size() + sum;
      } else {
        h = 31 * h + t.hashCode();
      }
    }
    return h;
  }

  private static int leafHash(Term t) {
    return t instanceof Tuple || t instanceof ErlList || t instanceof ErlMap ? 0 : t.hashCode();
  }
}
