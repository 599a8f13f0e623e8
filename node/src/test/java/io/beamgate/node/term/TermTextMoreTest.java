package io.beamgate.node.term;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/** Printing and parsing cases beyond {@code TermTextTest}: floats, atoms, limits, errors. */
class TermTextMoreTest {
  @Test
  void floatsAsOtp25Short() {
    String[][] cases = {{"0.1", "0.1"}, {"1.0e10", "1.0e10"}, {"1.0e15", "1.0e15"},
        {"123456789.0", "123456789.0"}, {"1234567890123456.0", "1234567890123456.0"},
        {"9007199254740992.0", "9.007199254740992e15"}, {"0.001", "0.001"},
        {"0.0001", "0.0001"}, {"0.000123", "1.23e-4"}, {"1.0e-5", "1.0e-5"},
        {"100.0", "100.0"}, {"1.0e7", "1.0e7"}, {"5.0e-324", "5.0e-324"},
        {"1.7976931348623157e308", "1.7976931348623157e308"}, {"1.0e23", "1.0e23"},
        {"2.0e-3", "0.002"}, {"-2.5e-3", "-0.0025"}, {"-0.0", "-0.0"}, {"12.5e20", "1.25e21"}};
    for (String[] c : cases) {
      assertEquals(c[1], TermText.format(TermText.parse(c[0])), c[0]);
    }
    // JDK 17's Double.toString gives 2.0E-3-style or non-shortest digits for some values.
    assertEquals("1.0e23", TermText.formatFloat(1.0e23));
    assertEquals("2.0e23", TermText.formatFloat(2.0e23));
  }

  @Test
  void atomsQuotedOnlyWhenNeeded() {
    assertEquals("'case'", Atom.of("case").toString());
    assertEquals("'and'", Atom.of("and").toString());
    assertEquals("'maybe'", Atom.of("maybe").toString());
    assertEquals("\u00e9t\u00e9", Atom.of("\u00e9t\u00e9").toString());
    assertEquals("'\u65e5\u672c'", Atom.of("\u65e5\u672c").toString());
    assertEquals("'_x'", Atom.of("_x").toString());
    assertEquals("'a\\nb'", Atom.of("a\nb").toString());
    assertEquals(Atom.of("maybe"), TermText.parse("maybe"));
    assertEquals(Atom.of("else"), TermText.parse("else"));
    assertEquals(Atom.of("\u65e5"), TermText.parse("'\\x{65E5}'"));
  }

  @Test
  void stringsAndBinaries() {
    assertEquals("[1, 2, 3]", TermText.format(Term.string("\u0001\u0002\u0003")));
    assertEquals("\"a\\tb\"", TermText.format(Term.string("a\tb")));
    assertEquals("\"\u65e5\u672c\"", TermText.format(Term.string("\u65e5\u672c")));
    assertEquals("<<\"a\\\"b\">>", TermText.format(Term.binary("a\"b")));
    assertEquals("<<233>>", TermText.format(Term.binary(new byte[] {(byte) 0xE9})));
    assertEquals("<<1,2:3>>", TermText.format(BitBinary.of(new byte[] {1, 0x40}, 3)));
    assertEquals(ErlList.of(Int.of(97), Int.of(98)), TermText.parse("[$a, $b]"));
    assertEquals(Term.binary(new byte[] {1, 2, 3}), TermText.parse("<<1, 2, 3>>"));
    assertEquals(Term.binary(new byte[] {(byte) 0xFF, (byte) 0xFF}), TermText.parse("<<-1:16>>"));
  }

  @Test
  void improperAndNested() {
    Term t = ErlList.improper(List.of(Int.of(1), Int.of(2)), Atom.of("x"));
    assertEquals("[1, 2 | x]", TermText.format(t));
    assertEquals(t, TermText.parse("[1 | [2 | x]]"));
    assertEquals(Term.list(Int.of(1)), TermText.parse("[1 | []]"));
  }

  @Test
  void opaqueTermsPrintWithTheirNode() {
    Atom n = Atom.of("n@h");
    assertEquals("#Ref<n@h.3.2.1>", new Ref(n, 1, new int[] {1, 2, 3}).toString());
    assertEquals("#Port<n@h.5>", new Port(n, 5, 1).toString());
    assertEquals("#Fun<erl_eval.6.123>",
        new Fun(new byte[] {112}, Atom.of("erl_eval"), 1, 6, 123).toString());
    for (String s : new String[] {"<0.85.0>", "#Ref<0.1.2.3>", "#Port<0.5>",
        "#Fun<erl_eval.6.123>"}) {
      assertThrows(TermSyntaxException.class, () -> TermText.parse(s), s);
    }
  }

  @Test
  void errorsNameTheColumn() {
    assertError("{a, b c}", 7, "expected ',' or '}'");
    assertError("#{a => 1 b}", 10, "expected ',' or '}'");
    assertError("#{a 1}", 5, "expected '=>'");
    assertError("[1, 2", 6, "expected ',', '|' or ']'");
    assertError("'abc", 1, "unterminated quoted atom");
    assertError("\"x\\x{110000}\"", 5, "not a Unicode code point");
    assertError("16#", 4, "expected digits of base 16");
    assertError("1.0e", 5, "expected an exponent");
    assertError("case", 1, "reserved word");
    assertError("Var", 1, "variables are not terms");
    assertError("<<a>>", 3, "expected a string or an integer");
    assertError("<<1/float>>", 5, "segment type 'float'");
    assertError("fun m:f/256", 12, "arity: 256");
    assertError("1\u0663", 2, "after the term");
    assertError("1.0e400", 1, "float out of range");
  }

  @Test
  void hostileInputIsBounded() {
    assertThrows(TermSyntaxException.class,
        () -> TermText.parse("<<0:1048576,0:1048576,0:1048576,0:1048576,0:1048576,0:1048576,"
            + "0:1048576,0:1048576,0:8>>"));
    String max = "<<" + "0:1048576,".repeat(7) + "0:1048576>>";
    assertEquals(TermText.MAX_BINARY_BYTES, ((Binary) TermText.parse(max)).size());
    String deep = "{".repeat(1001) + "}".repeat(1001);
    TermSyntaxException e = assertThrows(TermSyntaxException.class, () -> TermText.parse(deep));
    assertTrue(e.getMessage().contains("nesting depth: 1001 (expected: <= 1000)"),
        e.getMessage());
    TermText.parse("{".repeat(1000) + "}".repeat(1000));
  }

  private static void assertError(String text, int column, String message) {
    TermSyntaxException e = assertThrows(TermSyntaxException.class, () -> TermText.parse(text),
        text);
    assertTrue(e.getMessage().contains(message), text + ": " + e.getMessage());
    assertEquals(column, e.column(), text + ": " + e.getMessage());
  }

  @Test
  void randomTermsRoundTrip() {
    RandomTerms gen = new RandomTerms(2024, false);
    for (int i = 0; i < 10_000; i++) {
      Term t = gen.next(5);
      String s = TermText.format(t);
      assertEquals(t, TermText.parse(s), s);
    }
  }
}
