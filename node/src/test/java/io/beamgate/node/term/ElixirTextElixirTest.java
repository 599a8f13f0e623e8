package io.beamgate.node.term;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.beamgate.node.etf.DecodeLimits;
import io.beamgate.node.etf.EtfDecoder;
import io.beamgate.node.testing.Erl;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Against a real Elixir: Elixir reads what {@link ElixirText} prints as the same term (checked
 * through the external term format it writes back), and ElixirText reads what Elixir's
 * {@code inspect} prints, over thousands of generated terms.
 */
class ElixirTextElixirTest {
  @TempDir Path dir;

  @Test
  void elixirReadsOurTextAndWeReadItsInspect() throws Exception {
    String elixir = Erl.require("elixir");
    RandomTerms gen = new RandomTerms(42, false);
    List<Term> terms = new ArrayList<>();
    for (Term t : gen.list(3500, 4)) {
      if (!hasFun(t)) { // external funs have no literal in ElixirText (the gateway refuses them)
        terms.add(t);
      }
    }
    assertTrue(terms.size() > 2500, terms.size() + " terms");
    StringBuilder sb = new StringBuilder();
    for (Term t : terms) {
      sb.append(ElixirText.format(t)).append('\n');
    }
    Path in = dir.resolve("terms.txt");
    Path out = dir.resolve("back.txt");
    Files.writeString(in, sb, StandardCharsets.UTF_8);
    Path script = dir.resolve("roundtrip.exs");
    Files.writeString(script, """
        [inp, outp] = System.argv()
        lines = File.read!(inp) |> String.split("\\n", trim: true)
        res = for l <- lines do
          {t, _} = Code.eval_string(l)
          Base.encode16(:erlang.term_to_binary(t)) <> " " <>
            inspect(t, limit: :infinity, printable_limit: :infinity)
        end
        File.write!(outp, Enum.join(res, "\\n") <> "\\n")
        """);
    Process p = new ProcessBuilder(elixir, script.toString(), in.toString(), out.toString())
        .redirectErrorStream(true).redirectOutput(dir.resolve("elixir.log").toFile()).start();
    try {
      assertTrue(p.waitFor(120, TimeUnit.SECONDS), "elixir timed out");
      assertEquals(0, p.exitValue(), Files.readString(dir.resolve("elixir.log")));
    } finally {
      p.destroyForcibly();
    }
    List<String> lines = Files.readAllLines(out, StandardCharsets.UTF_8);
    assertEquals(terms.size(), lines.size());
    EtfDecoder etf = new EtfDecoder(DecodeLimits.DEFAULTS);
    List<String> bad = new ArrayList<>();
    for (int i = 0; i < terms.size(); i++) {
      String line = lines.get(i);
      int sp = line.indexOf(' ');
      Term read = etf.decode(HexFormat.of().parseHex(line.substring(0, sp)));
      if (!terms.get(i).equals(read)) {
        bad.add("elixir read " + ElixirText.format(terms.get(i)) + " as " + TermText.format(read));
      }
      String inspected = line.substring(sp + 1);
      Term parsed = ElixirText.parse(inspected);
      if (!terms.get(i).equals(parsed)) {
        bad.add("we read elixir's " + inspected + " as " + TermText.format(parsed)
            + ", expected " + TermText.format(terms.get(i)));
      }
    }
    assertTrue(bad.isEmpty(), bad.size() + " mismatches, first: " + bad.subList(0,
        Math.min(5, bad.size())));
  }

  static boolean hasFun(Term t) {
    java.util.ArrayDeque<Term> work = new java.util.ArrayDeque<>(List.of(t));
    while (!work.isEmpty()) {
      Term x = work.pop();
      if (x instanceof ExternalFun || x instanceof Fun) {
        return true;
      } else if (x instanceof Tuple tu) {
        work.addAll(tu.elements());
      } else if (x instanceof ErlList l) {
        work.addAll(l.elements());
        if (!l.isProper()) {
          work.push(l.tail());
        }
      } else if (x instanceof ErlMap m) {
        work.addAll(m.entries().keySet());
        work.addAll(m.entries().values());
      }
    }
    return false;
  }

  @Test
  void theElixirForms() {
    assertEquals(Binary.of("hi".getBytes(StandardCharsets.UTF_8)), ElixirText.parse("\"hi\""));
    assertEquals(Term.list(Int.of(104), Int.of(105)), ElixirText.parse("'hi'"));
    assertEquals(Term.list(Int.of(104), Int.of(105)), ElixirText.parse("~c\"hi\""));
    assertEquals(Atom.of("Elixir.MyApp.KV"), ElixirText.parse("MyApp.KV"));
    assertEquals("MyApp.KV", ElixirText.format(Atom.of("Elixir.MyApp.KV")));
    assertEquals(Atom.of("nil"), ElixirText.parse("nil"));
    assertEquals(ErlList.of(Tuple.of(Atom.of("a"), Int.of(1)), Tuple.of(Atom.of("b c"),
        Int.of(2))), ElixirText.parse("[a: 1, \"b c\": 2]"));
    assertEquals(Term.list(Int.of(1), Tuple.of(Atom.of("a"), Int.of(2))),
        ElixirText.parse("[1, a: 2]"));
    Term map = ElixirText.parse("%{\"k\" => [1 | 2], x: {1.5, -3}}");
    assertEquals("%{\"k\" => [1 | 2], :x => {1.5, -3}}", ElixirText.format(map));
    assertEquals("[a: 1, \"b c\": 'hi']", ElixirText.format(ElixirText.parse(
        "[{:a, 1}, {:\"b c\", [104, 105]}]")));
    assertEquals(BitBinary.of(new byte[] {1, (byte) 0xA0}, 3), ElixirText.parse("<<1, 5::size(3)>>"));
    assertEquals(Int.of(1_000_000), ElixirText.parse("1_000_000"));
    assertEquals("\"a\\#{b}\"", ElixirText.format(Binary.of("a#{b}".getBytes(StandardCharsets.UTF_8))));
    assertThrows(TermSyntaxException.class, () -> ElixirText.parse("\"#{System.cmd}\""));
    assertThrows(TermSyntaxException.class, () -> ElixirText.parse("foo"));
    assertThrows(TermSyntaxException.class, () -> ElixirText.parse("[1, 2"));
    assertEquals("Elixir.MyApp.KV", ElixirText.moduleName("MyApp.KV"));
    assertEquals("lists", ElixirText.moduleName(":lists"));
  }
}
