package io.beamgate.node.term;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link TermOrder} against OTP 25: erl sorts the same random terms with the stable
 * {@code lists:keysort/2}, and both sides' permutations must agree. Pids, refs and ports travel
 * as marker tuples that erl turns into real ones with {@code binary_to_term}.
 */
class TermOrderOtpTest {
  @TempDir Path dir;

  private static final String FIX = "Node = fun(N) -> B = atom_to_binary(N, utf8),"
      + " <<118, (byte_size(B)):16, B/binary>> end,"
      + " Fix = fun Fix({'$bg_pid', N, I, S, C}) ->"
      + "     binary_to_term(<<131, 88, (Node(N))/binary, I:32, S:32, C:32>>);"
      + "   Fix({'$bg_port', N, I, C}) ->"
      + "     binary_to_term(<<131, 120, (Node(N))/binary, I:64, C:32>>);"
      + "   Fix({'$bg_ref', N, C, Ids}) -> binary_to_term(<<131, 90, (length(Ids)):16,"
      + "     (Node(N))/binary, C:32, << <<X:32>> || X <- Ids >>/binary>>);"
      + "   Fix(T) when is_tuple(T) -> list_to_tuple([Fix(E) || E <- tuple_to_list(T)]);"
      + "   Fix([H | T]) -> [Fix(H) | Fix(T)];"
      + "   Fix(M) when is_map(M) -> maps:from_list([{Fix(K), Fix(V)} || {K, V} <- maps:to_list(M)]);"
      + "   Fix(X) -> X end,";

  @Test
  void sortsAsErlDoes() throws Exception {
    RandomTerms gen = new RandomTerms(42, true);
    for (int round = 0; round < 3; round++) {
      List<Term> terms = gen.list(1500, round + 1);
      List<Integer> erl = erlSort(terms, "r" + round);
      List<Integer> ours = IntStream.range(0, terms.size()).boxed()
          .sorted((x, y) -> TermOrder.STANDARD.compare(terms.get(x), terms.get(y)))
          .collect(Collectors.toList());
      if (!erl.equals(ours)) {
        for (int i = 0; i < ours.size(); i++) {
          if (!erl.get(i).equals(ours.get(i))) {
            throw new AssertionError("first difference at " + i + ": erl has "
                + TermText.format(terms.get(erl.get(i))) + ", we have "
                + TermText.format(terms.get(ours.get(i))));
          }
        }
      }
    }
  }

  private List<Integer> erlSort(List<Term> terms, String name) throws Exception {
    Path in = dir.resolve(name + ".txt");
    Path out = dir.resolve(name + ".out");
    StringBuilder sb = new StringBuilder();
    for (Term t : terms) {
      sb.append(TermText.format(markers(t))).append(".\n");
    }
    Files.writeString(in, sb, StandardCharsets.UTF_8);
    OtpProcess.eval(dir, "{ok, Ts0} = file:consult(" + OtpProcess.str(in) + "), " + FIX
        + " Ts = [Fix(T) || T <- Ts0],"
        + " Sorted = lists:keysort(1, lists:zip(Ts, lists:seq(0, length(Ts) - 1))),"
        + " ok = file:write_file(" + OtpProcess.str(out) + ","
        + " [[integer_to_list(I), $\\n] || {_, I} <- Sorted])", 120);
    List<Integer> l = new ArrayList<>();
    for (String s : Files.readAllLines(out)) {
      l.add(Integer.parseInt(s));
    }
    return l;
  }

  /** The term with pids, refs and ports replaced by marker tuples erl can read. */
  static Term markers(Term t) {
    if (t instanceof Pid p) {
      return Tuple.of(Atom.of("$bg_pid"), p.node(), Int.of(p.id()), Int.of(p.serial()),
          Int.of(p.creation()));
    } else if (t instanceof Port p) {
      return Tuple.of(Atom.of("$bg_port"), p.node(), Int.of(p.id()), Int.of(p.creation()));
    } else if (t instanceof Ref r) {
      List<Term> ids = new ArrayList<>();
      for (int i = 0; i < r.idCount(); i++) {
        ids.add(Int.of(Integer.toUnsignedLong(r.id(i))));
      }
      return Tuple.of(Atom.of("$bg_ref"), r.node(), Int.of(r.creation()), ErlList.of(ids));
    } else if (t instanceof Tuple tu) {
      return new Tuple(tu.elements().stream().map(TermOrderOtpTest::markers)
          .collect(Collectors.toList()));
    } else if (t instanceof ErlList l && !l.isEmpty()) {
      List<Term> el = l.elements().stream().map(TermOrderOtpTest::markers)
          .collect(Collectors.toList());
      return l.isProper() ? ErlList.of(el) : ErlList.improper(el, markers(l.tail()));
    } else if (t instanceof ErlMap m) {
      Map<Term, Term> out = new LinkedHashMap<>();
      m.entries().forEach((k, v) -> out.put(markers(k), markers(v)));
      return new ErlMap(out);
    }
    return t;
  }
}
