package io.beamgate.node.etf;

import io.beamgate.node.term.Atom;
import io.beamgate.node.term.BitBinary;
import io.beamgate.node.term.ErlList;
import io.beamgate.node.term.ErlMap;
import io.beamgate.node.term.ExternalFun;
import io.beamgate.node.term.Int;
import io.beamgate.node.term.Pid;
import io.beamgate.node.term.Port;
import io.beamgate.node.term.Ref;
import io.beamgate.node.term.Term;
import io.beamgate.node.term.Tuple;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Random;

/**
 * Random terms of every kind but local funs, with maps whose keys are in the order OTP writes
 * small maps (ascending integers), so that erl re-encodes them byte-exactly.
 */
final class RandomTerms {
  private final Random rnd;

  RandomTerms(long seed) {
    rnd = new Random(seed);
  }

  Term term(int depth) {
    if (depth == 0) {
      return leaf();
    }
    switch (rnd.nextInt(10)) {
      case 0: {
        List<Term> l = new ArrayList<>();
        for (int i = rnd.nextInt(5); i > 0; i--) {
          l.add(term(depth - 1));
        }
        return new Tuple(l);
      }
      case 1: {
        List<Term> l = new ArrayList<>();
        for (int i = 1 + rnd.nextInt(5); i > 0; i--) {
          l.add(term(depth - 1));
        }
        return ErlList.of(l);
      }
      case 2: {
        LinkedHashMap<Term, Term> m = new LinkedHashMap<>();
        for (int i = 0, n = rnd.nextInt(8); i < n; i++) {
          m.put(Int.of(i * 3L), term(depth - 1));
        }
        return new ErlMap(m);
      }
      case 3:
        return ErlList.improper(List.of(term(depth - 1)), leaf());
      default:
        return leaf();
    }
  }

  private Term leaf() {
    switch (rnd.nextInt(17)) {
      case 0:
        return Int.of(rnd.nextInt(256));
      case 1:
        return Int.of(rnd.nextInt());
      case 2:
        return Int.of(rnd.nextLong());
      case 3:
        return Term.integer(new BigInteger(1 + rnd.nextInt(2000), rnd)
            .multiply(BigInteger.valueOf(rnd.nextBoolean() ? 1 : -1)));
      case 4:
        return Term.number(Double.longBitsToDouble(rnd.nextLong() & 0x7FEFFFFFFFFFFFFFL)
            * (rnd.nextBoolean() ? 1 : -1));
      case 5:
        return Atom.of("atom_" + rnd.nextInt(1000));
      case 6:
        return Atom.of("\u00e9t\u00e9_\u65e5\u672c_" + rnd.nextInt(100));
      case 7: {
        byte[] b = new byte[rnd.nextInt(50)];
        rnd.nextBytes(b);
        return Term.binary(b);
      }
      case 8: {
        byte[] b = new byte[1 + rnd.nextInt(5)];
        rnd.nextBytes(b);
        return BitBinary.of(b, 1 + rnd.nextInt(7));
      }
      case 9:
        return new Pid(Atom.of("n" + rnd.nextInt(5) + "@host"), rnd.nextInt(1 << 28),
            rnd.nextInt(1 << 13), rnd.nextInt());
      case 10:
        return new Ref(Atom.of("n@host"), rnd.nextInt(), new int[] {rnd.nextInt(1 << 18),
            rnd.nextInt(), rnd.nextInt()});
      case 11:
        return new Port(Atom.of("n@host"), rnd.nextInt(1 << 28), rnd.nextInt());
      case 12:
        return new ExternalFun(Atom.of("lists"), Atom.of("map"), 2);
      case 13:
        return Term.string("str\u00e9" + rnd.nextInt(100));
      case 14:
        return Term.string("\u65e5\u672c" + rnd.nextInt(100));
      case 15:
        return Atom.of("\u00e9t\u00e9_" + rnd.nextInt(100)); // Latin-1: ATOM_EXT in minor 1
      default:
        return ErlList.NIL;
    }
  }
}
