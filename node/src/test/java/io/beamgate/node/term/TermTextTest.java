package io.beamgate.node.term;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.beamgate.node.etf.EtfDecoder;
import io.beamgate.node.etf.EtfEncoder;
import io.beamgate.node.testing.Escript;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TermTextTest {
  @TempDir Path dir;

  @Test
  void printsAsErlWrites() {
    assertEquals("{ok, [1, <<\"a\">>, #{k => v}]}", TermText.format(TermText.parse(
        "{ok,[1,<<\"a\">>,#{k=>v}]}")));
    assertEquals("'hello world'", Atom.of("hello world").toString());
    assertEquals("'end'", Atom.of("end").toString());
    assertEquals("'Upper'", Atom.of("Upper").toString());
    assertEquals("node@host", Atom.of("node@host").toString());
    assertEquals("''", Atom.of("").toString());
    assertEquals("'it''s'".replace("''s", "\\'s"), Atom.of("it's").toString());
    assertEquals("\"abc\"", Term.string("abc").toString());
    assertEquals("[1, 2, 3]", Term.list(Int.of(1), Int.of(2), Int.of(3)).toString());
    assertEquals("[a | b]", ErlList.improper(List.of(Atom.of("a")), Atom.of("b")).toString());
    assertEquals("<<1,2,3>>", Term.binary(new byte[] {1, 2, 3}).toString());
    assertEquals("<<\"h\u00e9\"/utf8>>", Term.binary("h\u00e9").toString());
    assertEquals("<<>>", Binary.EMPTY.toString());
    assertEquals("<<15:4>>", BitBinary.of(new byte[] {(byte) 0xF0}, 4).toString());
    assertEquals("1.0", Term.number(1.0).toString());
    assertEquals("0.1", Term.number(0.1).toString());
    assertEquals("1.0e300", Term.number(1e300).toString());
    assertEquals("-0.0", Term.number(-0.0).toString());
    assertEquals("fun lists:map/2",
        new ExternalFun(Atom.of("lists"), Atom.of("map"), 2).toString());
    assertEquals("<n@h.85.0>", new Pid(Atom.of("n@h"), 85, 0, 1).toString());
  }

  @Test
  void parsesErlangSyntax() {
    assertEquals(Int.of(255), TermText.parse("16#FF"));
    assertEquals(Int.of(-97), TermText.parse("-$a"));
    assertEquals(Term.integer(new BigInteger("123456789012345678901234567890")),
        TermText.parse("123456789012345678901234567890"));
    assertEquals(Term.number(-2.5e-3), TermText.parse("-2.5e-3"));
    assertEquals(Term.string("ab\n"), TermText.parse("\"a\" \"b\\n\""));
    assertEquals(ErlList.NIL, TermText.parse("\"\""));
    assertEquals(Atom.of("it's"), TermText.parse("'it\\'s'"));
    assertEquals(Term.binary("\u00e9"), TermText.parse("<<\"\u00e9\"/utf8>>"));
    assertEquals(Term.binary(new byte[] {(byte) 0xE9}), TermText.parse("<<\"\u00e9\">>"));
    assertEquals(Term.binary(new byte[] {1, 44}), TermText.parse("<<300:16>>"));
    assertEquals(BitBinary.of(new byte[] {(byte) 0xA0}, 3), TermText.parse("<<5:3>>"));
    assertEquals(new ExternalFun(Atom.of("m"), Atom.of("f"), 1), TermText.parse("fun m:f/1"));
    assertEquals(Tuple.of(Atom.OK), TermText.parse("  {ok} . "));
    assertEquals(Atom.of("x"), TermText.parse("% comment\nx"));
  }

  @Test
  void syntaxErrorsNameTheColumn() {
    TermSyntaxException e = assertThrows(TermSyntaxException.class,
        () -> TermText.parse("{ok, [1, 2}"));
    assertEquals(11, e.column());
    assertTrue(e.getMessage().contains("expected ',', '|' or ']'"), e.getMessage());
    assertThrows(TermSyntaxException.class, () -> TermText.parse("X"));
    assertThrows(TermSyntaxException.class, () -> TermText.parse("<0.1.0>"));
    assertThrows(TermSyntaxException.class, () -> TermText.parse("\"open"));
    assertThrows(TermSyntaxException.class, () -> TermText.parse("{a} b"));
    assertThrows(TermSyntaxException.class, () -> TermText.parse(""));
    assertThrows(TermSyntaxException.class, () -> TermText.parse("#{a}"));
    // Found by fuzzing: a sign followed by an underscore.
    assertThrows(TermSyntaxException.class, () -> TermText.parse("+_\u001b"));
    assertThrows(TermSyntaxException.class, () -> TermText.parse("1__0"));
    assertEquals(Int.of(1000), TermText.parse("1_000"));
    assertThrows(TermSyntaxException.class, () -> TermText.parse("9".repeat(40) + "#1"));
    assertThrows(TermSyntaxException.class, () -> TermText.parse("37#1"));
  }

  @Test
  void parserLimitsAtAndPastTheirBounds() {
    String ok = "[".repeat(10) + "]".repeat(10);
    assertEquals(ErlList.class, TermText.parse(ok, 10).getClass());
    TermSyntaxException deep = assertThrows(TermSyntaxException.class,
        () -> TermText.parse(ok, 9));
    assertTrue(deep.getMessage().contains("nesting depth: 10 (expected: <= 9)"),
        deep.getMessage());
    assertThrows(TermSyntaxException.class,
        () -> TermText.parse("[".repeat(100_000) + "]".repeat(100_000)));
    assertEquals(255, ((Atom) TermText.parse("a".repeat(255))).name().length());
    assertThrows(TermSyntaxException.class, () -> TermText.parse("a".repeat(256)));
    assertThrows(TermSyntaxException.class, () -> TermText.parse("'" + "b".repeat(256) + "'"));
    TermText.parse("9".repeat(TermText.MAX_INTEGER_DIGITS));
    assertThrows(TermSyntaxException.class,
        () -> TermText.parse("9".repeat(TermText.MAX_INTEGER_DIGITS + 1)));
  }

  @Test
  void randomTermsRoundTripThroughText() {
    Random rnd = new Random(3);
    for (int i = 0; i < 5000; i++) {
      Term t = randomReadable(rnd, 4);
      assertEquals(t, TermText.parse(TermText.format(t)), TermText.format(t));
    }
  }

  @Test
  void erlReadsBackWhatWePrint() throws Exception {
    Random rnd = new Random(11);
    List<Term> terms = new ArrayList<>();
    List<byte[]> texts = new ArrayList<>();
    for (int i = 0; i < 2000; i++) {
      Term t = randomReadable(rnd, 4);
      terms.add(t);
      texts.add(TermText.format(t).getBytes(StandardCharsets.UTF_8));
    }
    List<byte[]> back = escript(texts, "parse");
    for (int i = 0; i < terms.size(); i++) {
      assertArrayEquals(EtfEncoder.encode(terms.get(i)), back.get(i),
          "erl read " + TermText.format(terms.get(i)) + " as "
              + EtfDecoder.withDefaults().decode(back.get(i)));
    }
  }

  @Test
  void weParseWhatErlPrints() throws Exception {
    List<byte[]> recs = escript(null, "print", "5", "2000");
    for (int i = 0; i < recs.size(); i += 2) {
      String text = new String(recs.get(i), StandardCharsets.UTF_8);
      Term expected = EtfDecoder.withDefaults().decode(recs.get(i + 1));
      assertEquals(expected, TermText.parse(text), text);
    }
  }

  private List<byte[]> escript(List<byte[]> input, String mode, String... args)
      throws Exception {
    Path outFile = dir.resolve(mode + ".out");
    List<String> cmd = new ArrayList<>(List.of(mode));
    if (input != null) {
      Path in = dir.resolve(mode + ".in");
      Escript.writeRecords(in, input);
      cmd.add(in.toString());
    } else {
      cmd.addAll(List.of(args));
    }
    cmd.add(outFile.toString());
    new Escript(dir).run(cmd.toArray(String[]::new));
    return Escript.readRecords(outFile);
  }

  /** Terms erl can read back from text: no pids, refs, ports or local funs. */
  static Term randomReadable(Random rnd, int depth) {
    int k = depth == 0 ? 4 + rnd.nextInt(14) : rnd.nextInt(18);
    switch (k) {
      case 0: {
        Term[] el = new Term[rnd.nextInt(4)];
        for (int i = 0; i < el.length; i++) {
          el[i] = randomReadable(rnd, depth - 1);
        }
        return Tuple.of(el);
      }
      case 1: {
        Term[] el = new Term[1 + rnd.nextInt(4)];
        for (int i = 0; i < el.length; i++) {
          el[i] = randomReadable(rnd, depth - 1);
        }
        return rnd.nextBoolean() ? Term.list(el)
            : ErlList.improper(List.of(el), Atom.of("tail"));
      }
      case 2: {
        java.util.LinkedHashMap<Term, Term> m = new java.util.LinkedHashMap<>();
        for (int i = 0, n = rnd.nextInt(5); i < n; i++) {
          m.put(Int.of(i), randomReadable(rnd, depth - 1));
        }
        return new ErlMap(m);
      }
      case 3:
        return Term.string("s\u00e9 \"q\" \\ \n\u65e5" + rnd.nextInt(9));
      case 4:
        return Int.of(rnd.nextLong() >> rnd.nextInt(64));
      case 5:
        return Term.integer(new BigInteger(1 + rnd.nextInt(300), rnd).negate());
      case 6:
        return Term.number(Double.longBitsToDouble(rnd.nextLong() & 0x7FEFFFFFFFFFFFFFL));
      case 7:
        return Term.number(rnd.nextDouble() * 1000);
      case 8:
        return Atom.of(new String[] {"ok", "end", "Caps", "with space", "a@b", "it's",
            "\u00e9t\u00e9", "\u65e5\u672c", "", "tab\there", "back\\slash"}[rnd.nextInt(11)]);
      case 9: {
        byte[] b = new byte[rnd.nextInt(12)];
        rnd.nextBytes(b);
        return Term.binary(b);
      }
      case 10:
        return Term.binary("text \"q\" " + rnd.nextInt(100));
      case 11:
        return Term.binary("\u00e9t\u00e9 \u65e5");
      case 12:
        return BitBinary.of(new byte[] {(byte) rnd.nextInt(256), (byte) rnd.nextInt(256)},
            1 + rnd.nextInt(7));
      case 13:
        return new ExternalFun(Atom.of("lists"), Atom.of("map"), 2);
      case 14:
        return ErlList.NIL;
      case 15:
        return Term.list(Int.of(1), Int.of(2), Int.of(0));
      case 16:
        return Term.string("\u0000\u0007\u001b");
      default:
        return ErlMap.EMPTY;
    }
  }
}
