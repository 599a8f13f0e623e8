package io.beamgate.node.term;

import java.math.BigInteger;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Random;

/** Random terms for property tests, from a seeded {@link Random}. */
final class RandomTerms {
  private static final String[] ATOMS = {"ok", "error", "a", "end", "case", "and", "maybe", "else",
      "Caps", "_x", "with space", "a@b", "it's", "\u00e9t\u00e9", "\u00dfa", "\u65e5\u672c", "",
      "tab\there", "back\\slash", "new\nline", "nul\u0000", "del\u007f", "a.b", "x1_Y@",
      "\uD83D\uDE00", "\u00c0b", "\u00f7", "[]", "node@host.example"};
  private static final Atom[] NODES = {Atom.of("a@h"), Atom.of("b@h"), Atom.of("c@x.y")};

  private final Random rnd;
  private final boolean opaque;

  /** With {@code opaque}, also pids, refs and ports, which erl cannot read from text. */
  RandomTerms(long seed, boolean opaque) {
    this.rnd = new Random(seed);
    this.opaque = opaque;
  }

  Term next(int depth) {
    int kinds = opaque ? 22 : 19;
    int k = depth <= 0 ? 5 + rnd.nextInt(kinds - 5) : rnd.nextInt(kinds);
    switch (k) {
      case 0:
        return Tuple.of(children(depth, 4));
      case 1:
        return Term.list(children(depth, 5));
      case 2: {
        Term[] el = children(depth, 3);
        return el.length == 0 ? ErlList.NIL
            : ErlList.improper(List.of(el), rnd.nextBoolean() ? atom() : next(depth - 1));
      }
      case 3: {
        LinkedHashMap<Term, Term> m = new LinkedHashMap<>();
        for (int i = 0, n = rnd.nextInt(4); i < n; i++) {
          m.put(rnd.nextBoolean() ? smallNumber() : next(depth - 1), next(depth - 1));
        }
        return new ErlMap(m);
      }
      case 4:
        return string();
      case 5:
        return atom();
      case 6:
        return smallNumber();
      case 7:
        return Int.of(rnd.nextLong() >> rnd.nextInt(64));
      case 8:
        return Term.integer(new BigInteger(1 + rnd.nextInt(400), rnd)
            .multiply(BigInteger.valueOf(rnd.nextBoolean() ? 1 : -1)));
      case 9:
        return Term.number(randomDouble());
      case 10: {
        byte[] b = new byte[rnd.nextInt(10)];
        rnd.nextBytes(b);
        return Term.binary(b);
      }
      case 11:
        return Term.binary(randomText(false));
      case 12:
        return Term.binary(randomText(true));
      case 13: {
        byte[] b = new byte[1 + rnd.nextInt(3)];
        rnd.nextBytes(b);
        return BitBinary.of(b, 1 + rnd.nextInt(7));
      }
      case 14:
        // ASCII names: OTP 25's ~tw prints export-fun names as raw UTF-8 bytes.
        return new ExternalFun(asciiAtom(), asciiAtom(), rnd.nextInt(256));
      case 15:
        return ErlList.NIL;
      case 16:
        return ErlMap.EMPTY;
      case 17:
        return Tuple.EMPTY;
      case 18:
        return Binary.EMPTY;
      case 19:
        return new Pid(node(), rnd.nextInt(1 << 15), rnd.nextInt(4), 1 + rnd.nextInt(3));
      case 20: {
        int[] ids = new int[1 + rnd.nextInt(3)];
        for (int i = 0; i < ids.length; i++) {
          ids[i] = rnd.nextInt(4) == 0 ? 0 : rnd.nextInt(1 << 18);
        }
        return new Ref(node(), 1 + rnd.nextInt(3), ids);
      }
      default:
        return new Port(node(), rnd.nextInt(100), 1 + rnd.nextInt(3));
    }
  }

  private Term[] children(int depth, int max) {
    Term[] el = new Term[rnd.nextInt(max)];
    for (int i = 0; i < el.length; i++) {
      el[i] = next(depth - 1);
    }
    return el;
  }

  private Atom node() {
    return NODES[rnd.nextInt(NODES.length)];
  }

  Atom atom() {
    if (rnd.nextInt(4) == 0) {
      StringBuilder sb = new StringBuilder();
      for (int i = 0, n = rnd.nextInt(12); i < n; i++) {
        sb.appendCodePoint(codePoint());
      }
      return Atom.of(sb.toString());
    }
    return Atom.of(ATOMS[rnd.nextInt(ATOMS.length)]);
  }

  private Atom asciiAtom() {
    Atom a = Atom.of(ATOMS[rnd.nextInt(ATOMS.length)]);
    return a.name().chars().allMatch(c -> c < 0x80) ? a : Atom.of("m_" + rnd.nextInt(9));
  }

  private Term smallNumber() {
    int v = rnd.nextInt(7) - 3;
    return rnd.nextBoolean() ? Int.of(v) : Term.number(v);
  }

  private ErlList string() {
    int n = 1 + rnd.nextInt(8);
    Term[] cps = new Term[n];
    boolean printable = rnd.nextBoolean();
    for (int i = 0; i < n; i++) {
      cps[i] = Int.of(printable ? codePoint() : rnd.nextInt(300));
    }
    return Term.list(cps);
  }

  private int codePoint() {
    switch (rnd.nextInt(6)) {
      case 0:
        return 0x20 + rnd.nextInt(0x5F);
      case 1:
        return rnd.nextInt(0x100);
      case 2:
        return 0x100 + rnd.nextInt(0xD700);
      case 3:
        return 0x10000 + rnd.nextInt(0x100000 - 0x10000);
      case 4:
        return "\n\t\\\"'$%{}".charAt(rnd.nextInt(9));
      default:
        return 'a' + rnd.nextInt(26);
    }
  }

  private String randomText(boolean unicode) {
    StringBuilder sb = new StringBuilder();
    for (int i = 0, n = rnd.nextInt(10); i < n; i++) {
      sb.appendCodePoint(unicode ? codePoint() : 0x20 + rnd.nextInt(0x5F));
    }
    return sb.toString();
  }

  double randomDouble() {
    switch (rnd.nextInt(6)) {
      case 0:
        return Double.longBitsToDouble(rnd.nextLong() & 0x7FEFFFFFFFFFFFFFL)
            * (rnd.nextBoolean() ? 1 : -1);
      case 1:
        return rnd.nextInt(2001) / 8.0 - 125;
      case 2:
        return rnd.nextDouble() * Math.pow(10, rnd.nextInt(40) - 20);
      case 3:
        return (double) (rnd.nextLong() >> rnd.nextInt(64));
      case 4:
        return Double.longBitsToDouble(rnd.nextInt(1 << 20)); // subnormals
      default:
        return new double[] {0.0, -0.0, 0.1, 1.0, 1e300, 5e-324, Double.MAX_VALUE,
            Double.MIN_NORMAL, 9007199254740992.0, 9007199254740991.0, 1e23, 100.0, 1e7,
            0.0001, 1.23e-4}[rnd.nextInt(15)];
    }
  }

  List<Term> list(int n, int depth) {
    List<Term> l = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      l.add(next(depth));
    }
    return l;
  }
}
