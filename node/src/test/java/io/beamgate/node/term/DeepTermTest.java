package io.beamgate.node.term;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.beamgate.node.etf.DecodeLimits;
import io.beamgate.node.etf.EtfDecoder;
import io.beamgate.node.etf.EtfEncoder;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Terms a million levels deep, as OTP builds them (iolists nest in the head), go through every
 * operation without overflowing the Java stack.
 */
class DeepTermTest {
  private static final int DEPTH = 1_000_000;

  /** {@code [[[[] | "x"] | "x"] ...]}: each level a two-element list whose head is the level below. */
  private static Term iolist(int depth, int last) {
    Term t = ErlList.NIL;
    for (int i = 0; i < depth; i++) {
      t = ErlList.of(t, Int.of(i == depth - 1 ? last : 'x'));
    }
    return t;
  }

  private static Term tuples(int depth) {
    Term t = Atom.of("leaf");
    for (int i = 0; i < depth; i++) {
      t = Tuple.of(Atom.of("n"), t);
    }
    return t;
  }

  private static Term maps(int depth) {
    Term t = Atom.of("leaf");
    for (int i = 0; i < depth; i++) {
      t = ErlMap.of(Map.of(Atom.of("k"), t));
    }
    return t;
  }

  @Test
  void equalsAndHashCodeOfAMillionDeepTermsDoNotRecurse() {
    for (var make : java.util.List.<java.util.function.IntFunction<Term>>of(
        d -> iolist(d, 'x'), DeepTermTest::tuples, DeepTermTest::maps)) {
      Term a = make.apply(DEPTH);
      Term b = make.apply(DEPTH);
      assertEquals(a, b);
      assertEquals(a.hashCode(), b.hashCode());
      assertNotEquals(a, make.apply(DEPTH - 1));
    }
    assertNotEquals(iolist(DEPTH, 'x'), iolist(DEPTH, 'y'));
  }

  @Test
  void aMillionDeepIolistPrintsEncodesDecodesAndCompares() throws Exception {
    Term t = iolist(DEPTH, 'x');
    String text = t.toString();
    assertTrue(text.startsWith("[[[[[") && text.endsWith(", 120]"), text.substring(0, 10));
    byte[] bytes = EtfEncoder.encode(t);
    assertEquals(bytes.length, EtfEncoder.encodedSize(t));
    Term back = new EtfDecoder(DecodeLimits.DISTRIBUTION).decode(bytes);
    assertEquals(t, back);
    assertEquals(0, TermOrder.STANDARD.compare(t, back));
    assertTrue(TermOrder.STANDARD.compare(t, iolist(DEPTH, 'y')) < 0);
  }

  @Test
  void aMillionDeepMapAndTupleRoundTrip() throws Exception {
    for (Term t : new Term[] {tuples(DEPTH), maps(DEPTH)}) {
      byte[] bytes = EtfEncoder.encode(t);
      Term back = new EtfDecoder(DecodeLimits.DISTRIBUTION).decode(bytes);
      assertEquals(t, back);
      assertEquals(t.hashCode(), back.hashCode());
      assertTrue(t.toString().length() > DEPTH);
    }
  }

  @Test
  void mapsHashAlikeWhateverTheirEntryOrder() {
    Map<Term, Term> m1 = new java.util.LinkedHashMap<>();
    m1.put(Atom.of("a"), Tuple.of(Int.of(1)));
    m1.put(Tuple.of(Atom.of("b")), Int.of(2));
    Map<Term, Term> m2 = new java.util.LinkedHashMap<>();
    m2.put(Tuple.of(Atom.of("b")), Int.of(2));
    m2.put(Atom.of("a"), Tuple.of(Int.of(1)));
    assertEquals(new ErlMap(m1), new ErlMap(m2));
    assertEquals(new ErlMap(m1).hashCode(), new ErlMap(m2).hashCode());
    assertNotEquals(new ErlMap(m1), ErlMap.of(Map.of(Atom.of("a"), Tuple.of(Int.of(2)),
        Tuple.of(Atom.of("b")), Int.of(2))));
  }

  @Test
  void improperAndProperListsDiffer() {
    Term proper = ErlList.of(Atom.of("a"), Atom.of("b"));
    Term improper = ErlList.improper(java.util.List.of(Atom.of("a")), Atom.of("b"));
    assertNotEquals(proper, improper);
    assertEquals(improper, ErlList.improper(java.util.List.of(Atom.of("a")), Atom.of("b")));
    assertEquals(improper.hashCode(),
        ErlList.improper(java.util.List.of(Atom.of("a")), Atom.of("b")).hashCode());
  }

  @Test
  void aBignumOfAHundredThousandBitsRoundTrips() throws Exception {
    Term big = Term.integer(java.math.BigInteger.ONE.shiftLeft(100_000).negate());
    Term back = new EtfDecoder(DecodeLimits.DISTRIBUTION).decode(EtfEncoder.encode(big));
    assertEquals(big, back);
  }
}
