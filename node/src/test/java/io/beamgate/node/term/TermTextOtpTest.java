package io.beamgate.node.term;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Against real OTP 25: erl reads what we print, and we read what erl prints back. */
class TermTextOtpTest {
  @TempDir Path dir;

  @Test
  void erlReadsOurTextAndWeReadItsText() throws Exception {
    RandomTerms gen = new RandomTerms(25, false);
    List<Term> terms = gen.list(3000, 4);
    Path in = dir.resolve("terms.txt");
    Path out = dir.resolve("back.txt");
    StringBuilder sb = new StringBuilder();
    for (Term t : terms) {
      sb.append(TermText.format(t)).append(".\n");
    }
    Files.writeString(in, sb, StandardCharsets.UTF_8);
    OtpProcess.eval(dir, "{ok, Ts} = file:consult(" + OtpProcess.str(in) + "),"
        + " {ok, F} = file:open(" + OtpProcess.str(out) + ", [write, {encoding, utf8}]),"
        + " [io:format(F, \"~tw~n\", [T]) || T <- Ts], ok = file:close(F)", 120);
    List<String> lines = Files.readAllLines(out, StandardCharsets.UTF_8);
    assertEquals(terms.size(), lines.size());
    for (int i = 0; i < terms.size(); i++) {
      assertEquals(terms.get(i), TermText.parse(lines.get(i)),
          "we printed " + TermText.format(terms.get(i)) + ", erl printed " + lines.get(i));
    }
  }

  @Test
  void floatsPrintExactlyAsErlDoes() throws Exception {
    RandomTerms gen = new RandomTerms(7, false);
    List<String> ours = new ArrayList<>();
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < 5000; i++) {
      double d = gen.randomDouble();
      String s = TermText.formatFloat(d);
      assertEquals(d, Double.parseDouble(s), s);
      ours.add(s);
      sb.append(s).append(".\n");
    }
    Path in = dir.resolve("floats.txt");
    Path out = dir.resolve("floats.out");
    Files.writeString(in, sb);
    OtpProcess.eval(dir, "{ok, Ts} = file:consult(" + OtpProcess.str(in) + "),"
        + " true = lists:all(fun erlang:is_float/1, Ts),"
        + " ok = file:write_file(" + OtpProcess.str(out) + ","
        + " [[float_to_list(T, [short]), $\\n] || T <- Ts])", 120);
    assertEquals(ours, Files.readAllLines(out));
  }
}
