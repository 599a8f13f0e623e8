package io.beamgate.node.term;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.math.BigInteger;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class TermOrderTest {
  private static int cmp(Term a, Term b) {
    return Integer.signum(TermOrder.STANDARD.compare(a, b));
  }

  private static Term t(String text) {
    return TermText.parse(text);
  }

  @Test
  void typesInStandardOrder() {
    Fun local = new Fun(new byte[] {112}, Atom.of("erl_eval"), 1, 6, 123);
    List<Term> ordered = List.of(Int.of(5), Atom.of("a"), new Ref(Atom.of("n@h"), 1,
        new int[] {1}), local, new ExternalFun(Atom.of("m"), Atom.of("f"), 1),
        new Port(Atom.of("n@h"), 1, 1), new Pid(Atom.of("n@h"), 1, 0, 1), Tuple.EMPTY,
        ErlMap.EMPTY, ErlList.NIL, t("[a]"), Binary.EMPTY);
    for (int i = 0; i < ordered.size(); i++) {
      for (int j = 0; j < ordered.size(); j++) {
        assertEquals(Integer.compare(i, j), cmp(ordered.get(i), ordered.get(j)), i + " " + j);
      }
    }
  }

  @Test
  void numbersByValue() {
    assertEquals(0, cmp(Int.of(1), Term.number(1.0)));
    assertEquals(0, cmp(Term.number(0.0), Term.number(-0.0)));
    assertEquals(-1, cmp(Term.number(0.5), Int.of(1)));
    BigInteger two53 = BigInteger.ONE.shiftLeft(53);
    assertEquals(1, cmp(Term.integer(two53.add(BigInteger.ONE)), Term.number(9007199254740992.0)));
    assertEquals(0, cmp(Term.integer(two53), Term.number(9007199254740992.0)));
    assertEquals(-1, cmp(Term.integer(BigInteger.TEN.pow(30).negate()), Term.number(-1e29)));
    assertEquals(1, cmp(Term.integer(BigInteger.TEN.pow(30)), Int.of(Long.MAX_VALUE)));
    assertEquals(-1, cmp(Term.number(Double.MAX_VALUE), Term.integer(BigInteger.TEN.pow(400))));
  }

  @Test
  void exactOrderPutsIntegersBeforeFloats() {
    assertEquals(-1, Integer.signum(TermOrder.EXACT.compare(Int.of(3), Term.number(2.0))));
    assertEquals(1, Integer.signum(TermOrder.EXACT.compare(Term.number(1.0), Int.of(1))));
    // Map keys compare in map-key order, values by ==.
    assertEquals(-1, cmp(t("#{1 => a}"), t("#{1.0 => a}")));
    assertEquals(-1, cmp(t("#{3 => a}"), t("#{2.0 => a}")));
    assertEquals(0, cmp(t("#{a => 1, b => 2}"), t("#{a => 1.0, b => 2.0}")));
    assertEquals(-1, cmp(t("#{c => 3}"), t("#{a => 1, b => 2}")));
    assertEquals(-1, cmp(t("#{a => 1, b => 2}"), t("#{a => 2, b => 1}")));
    assertEquals(-1, cmp(t("#{a => 1, c => 2}"), t("#{b => 1, c => 0}")));
  }

  @Test
  void atomsByCodePoints() {
    assertEquals(-1, cmp(Atom.of("a"), Atom.of("b")));
    assertEquals(-1, cmp(Atom.of("a"), Atom.of("ab")));
    assertEquals(-1, cmp(Atom.of("Z"), Atom.of("a")));
    // U+FFFD before U+1F600, although UTF-16 order says otherwise.
    assertEquals(-1, cmp(Atom.of("\uFFFD"), Atom.of("\uD83D\uDE00")));
  }

  @Test
  void compoundTerms() {
    assertEquals(-1, cmp(t("{b}"), t("{a, a}")));
    assertEquals(-1, cmp(t("{a, 1}"), t("{a, 2}")));
    assertEquals(-1, cmp(t("[a]"), t("[a, b]")));
    assertEquals(-1, cmp(t("[a | b]"), t("[a, b]")));
    assertEquals(-1, cmp(t("[a | 1]"), t("[a | b]")));
    assertEquals(1, cmp(t("[b]"), t("[a, c]")));
    assertEquals(0, cmp(t("[1, {2}]"), t("[1.0, {2.0}]")));
  }

  @Test
  void bitStringsBitByBit() {
    assertEquals(-1, cmp(t("<<2:2>>"), t("<<128>>")));
    assertEquals(1, cmp(t("<<3:2>>"), t("<<128>>")));
    assertEquals(-1, cmp(t("<<>>"), t("<<0:1>>")));
    assertEquals(-1, cmp(t("<<0:1>>"), t("<<0>>")));
    assertEquals(-1, cmp(t("<<0>>"), t("<<0, 0:1>>")));
    assertEquals(-1, cmp(t("<<1, 2>>"), t("<<1, 3>>")));
    assertEquals(1, cmp(t("<<255>>"), t("<<1, 3>>")));
  }

  @Test
  void pidsRefsPortsAsOtp25() {
    Atom a = Atom.of("a@h");
    Atom b = Atom.of("b@h");
    // Pids: serial, id, node name, creation.
    assertEquals(1, cmp(new Pid(a, 1, 1, 1), new Pid(b, 2, 0, 1)));
    assertEquals(1, cmp(new Pid(a, 2, 0, 1), new Pid(b, 1, 0, 1)));
    assertEquals(1, cmp(new Pid(b, 1, 0, 1), new Pid(a, 1, 0, 9)));
    assertEquals(-1, cmp(new Pid(a, 1, 0, 1), new Pid(a, 1, 0, 9)));
    // Refs: node name, creation, ids as one number (last most significant, zeros ignored).
    assertEquals(-1, cmp(new Ref(a, 1, new int[] {0, 0, 0}), new Ref(a, 2, new int[] {1})));
    assertEquals(0, cmp(new Ref(a, 1, new int[] {5, 0}), new Ref(a, 1, new int[] {5})));
    assertEquals(1, cmp(new Ref(a, 1, new int[] {1, 2, 0}), new Ref(a, 1, new int[] {2, 1, 0})));
    assertEquals(1, cmp(new Ref(b, 1, new int[] {1}), new Ref(a, 9, new int[] {8})));
    assertEquals(1, cmp(new Ref(a, 1, new int[] {-1}), new Ref(a, 1, new int[] {1})));
    // Ports: node name, creation, id.
    assertEquals(-1, cmp(new Port(a, 2, 1), new Port(a, 1, 2)));
    assertEquals(-1, cmp(new Port(a, 9, 9), new Port(b, 1, 1)));
  }

  @Test
  void funs() {
    assertEquals(-1, cmp(new ExternalFun(Atom.of("a"), Atom.of("b"), 3),
        new ExternalFun(Atom.of("a"), Atom.of("c"), 1)));
    assertEquals(-1, cmp(new ExternalFun(Atom.of("a"), Atom.of("b"), 3),
        new ExternalFun(Atom.of("a"), Atom.of("b"), 4)));
    assertEquals(-1, cmp(new Fun(new byte[] {1}, Atom.of("m"), 0, 42, 7),
        new Fun(new byte[] {0}, Atom.of("m"), 0, 43, 7)));
  }

  @Test
  void deepTermsDoNotOverflowTheStack() {
    Term x = Int.of(1);
    Term y = Int.of(2);
    for (int i = 0; i < 200_000; i++) {
      x = Tuple.of(x);
      y = Tuple.of(y);
    }
    assertEquals(-1, cmp(x, y));
  }

  @Test
  void isATotalPreorderOnRandomTerms() {
    RandomTerms gen = new RandomTerms(99, true);
    List<Term> l = gen.list(300, 3);
    for (Term a : l) {
      assertEquals(0, cmp(a, a));
      for (Term b : l) {
        assertEquals(cmp(a, b), -cmp(b, a), TermText.format(a) + " vs " + TermText.format(b));
      }
    }
    List<Term> s = TermOrder.sorted(l);
    List<Term> shuffled = new ArrayList<>(l);
    Collections.shuffle(shuffled, new Random(1));
    List<Term> s2 = TermOrder.sorted(shuffled);
    for (int i = 0; i < s.size(); i++) {
      assertTrue(TermOrder.equal(s.get(i), s2.get(i)));
      if (i > 0) {
        assertTrue(cmp(s.get(i - 1), s.get(i)) <= 0);
      }
    }
  }
}
