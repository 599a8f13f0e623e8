package io.beamgate.node.etf;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.beamgate.node.term.Atom;
import io.beamgate.node.term.BigInt;
import io.beamgate.node.term.Binary;
import io.beamgate.node.term.ErlFloat;
import io.beamgate.node.term.ErlList;
import io.beamgate.node.term.Int;
import io.beamgate.node.term.Port;
import io.beamgate.node.term.Term;
import io.beamgate.node.term.Tuple;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * {@link EtfEncoder#encodedSize} adds sizes up without encoding: it must agree with the
 * encoder byte for byte on every kind of term, at every tag boundary.
 */
class EncodedSizeTest {
  static void same(Term t) {
    assertEquals(EtfEncoder.encode(t).length, EtfEncoder.encodedSize(t), t::toString);
  }

  @Test
  void randomTermsOfEveryKind() {
    RandomTerms r = new RandomTerms(17);
    for (int i = 0; i < 5000; i++) {
      same(r.term(i % 6));
    }
  }

  @Test
  void tagBoundaries() {
    for (long v : new long[] {0, 255, 256, -1, Integer.MAX_VALUE, Integer.MIN_VALUE,
        Integer.MAX_VALUE + 1L, Integer.MIN_VALUE - 1L, Long.MAX_VALUE, Long.MIN_VALUE}) {
      same(Int.of(v));
    }
    same(new BigInt(BigInteger.TWO.pow(64)));
    same(new BigInt(BigInteger.TWO.pow(2048).negate()));
    same(new BigInt(BigInteger.TWO.pow(2040).subtract(BigInteger.ONE)));
    same(Atom.of("a".repeat(255)));
    same(Atom.of("ä".repeat(200))); // 400 bytes of UTF-8: ATOM_UTF8
    same(Atom.of("日本"));
    same(new ErlFloat(1.5));
    same(new Port(Atom.of("n@h"), 1L << 28, 1));
    same(new Port(Atom.of("n@h"), 5, 1));
    List<Term> bytes = new ArrayList<>();
    for (int i = 0; i < 65536; i++) {
      bytes.add(Int.of(i % 256));
    }
    same(ErlList.of(bytes)); // one over STRING's length: a LIST
    same(ErlList.of(bytes.subList(0, 65535))); // a STRING
    List<Term> many = new ArrayList<>();
    for (int i = 0; i < 300; i++) {
      many.add(Atom.of("x"));
    }
    same(new Tuple(many)); // LARGE_TUPLE
    same(Binary.wrap(new byte[1000]));
  }

  @Test
  void atMostStopsOnceOverTheLimit() {
    // leaves of one tuple are added up together; nested tuples are walked one by one
    Term big = Tuple.of(Tuple.of(Binary.wrap(new byte[1000])),
        Tuple.of(Binary.wrap(new byte[1000])));
    long exact = EtfEncoder.encodedSize(big);
    assertEquals(exact, EtfEncoder.encodedSizeAtMost(big, exact));
    assertTrue(EtfEncoder.encodedSizeAtMost(big, 100) > 100);
    assertTrue(EtfEncoder.encodedSizeAtMost(big, 100) < exact); // the second tuple unwalked
  }
}
