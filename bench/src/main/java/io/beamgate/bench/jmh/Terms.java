package io.beamgate.bench.jmh;

import io.beamgate.node.term.Atom;
import io.beamgate.node.term.Binary;
import io.beamgate.node.term.ErlList;
import io.beamgate.node.term.ErlMap;
import io.beamgate.node.term.Int;
import io.beamgate.node.term.Term;
import io.beamgate.node.term.Tuple;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** The representative terms the microbenchmarks use, by name (a JMH parameter). */
final class Terms {
  private Terms() {}

  static final String[] NAMES = {"call100B", "record", "list1k", "bin64KiB"};

  /**
   * {@code call100B}: the harness's call arguments, {@code [1, {<<100 bytes>>}]}; {@code record}:
   * an application record, {@code {user, 42, <<"name">>, [admin, ops], #{age => 31, ...}}};
   * {@code list1k}: a list of 1000 small tuples; {@code bin64KiB}: one 64 KiB binary.
   */
  static Term of(String name) {
    return switch (name) {
      case "call100B" -> ErlList.of(Int.of(1), Tuple.of(Binary.wrap(bytes(100))));
      case "record" -> {
        Map<Term, Term> m = new LinkedHashMap<>();
        m.put(Atom.of("age"), Int.of(31));
        m.put(Atom.of("email"), Binary.wrap("a@example.org".getBytes()));
        m.put(Atom.of("score"), Int.of(1L << 40));
        yield Tuple.of(Atom.of("user"), Int.of(42), Binary.wrap("name".getBytes()),
            ErlList.of(Atom.of("admin"), Atom.of("ops")), ErlMap.of(m));
      }
      case "list1k" -> {
        List<Term> l = new ArrayList<>();
        for (int i = 0; i < 1000; i++) {
          l.add(Tuple.of(Atom.of("item"), Int.of(i), Int.of(i * 1000L)));
        }
        yield ErlList.of(l);
      }
      case "bin64KiB" -> Binary.wrap(bytes(64 * 1024));
      default -> throw new IllegalArgumentException("term: " + name + " (expected one of "
          + String.join(", ", NAMES) + ")");
    };
  }

  private static byte[] bytes(int n) {
    byte[] b = new byte[n];
    java.util.Arrays.fill(b, (byte) 'x');
    return b;
  }
}
