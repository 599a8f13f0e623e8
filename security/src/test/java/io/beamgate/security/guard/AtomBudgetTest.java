package io.beamgate.security.guard;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.beamgate.node.term.Atom;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AtomBudgetTest {
  @TempDir Path dir;

  static List<Atom> atoms(String prefix, int n) {
    return java.util.stream.IntStream.range(0, n).mapToObj(i -> Atom.of(prefix + i)).toList();
  }

  @Test
  void onePrincipalSpendsAtMostItsShareAtAndPastIt() {
    AtomBudget b = new AtomBudget(100, 25);
    assertNull(b.admitAll(atoms("m", 25), "mallory")); // at the share
    AtomBudget.Refusal r = b.admitAll(atoms("x", 1), "mallory"); // past it
    assertTrue(r != null && r.share(), String.valueOf(r));
    assertEquals(25, b.used());
    // the others still have theirs, and what mallory brought is free for them
    assertNull(b.admitAll(atoms("m", 25), "alice"));
    assertNull(b.admitAll(atoms("a", 25), "alice"));
    assertEquals(0, b.usedBy("bob"));
    assertNull(b.admitAll(atoms("b", 25), "bob"));
    assertNull(b.admitAll(atoms("c", 25), "carol"));
    // the pool (100) is full now: dave's share does not matter
    AtomBudget.Refusal pool = b.admitAll(atoms("d", 1), "dave");
    assertTrue(pool != null && !pool.share(), String.valueOf(pool));
    assertEquals(100, b.used());
  }

  @Test
  void theDefaultShareIsAQuarterOfThePool() {
    assertEquals(2500, AtomBudget.defaultShare(10_000));
    assertEquals(1, AtomBudget.defaultShare(3));
    assertEquals(0, AtomBudget.defaultShare(0));
  }

  @Test
  void aRestartWithTheStateFileDoesNotRefillThePool() throws Exception {
    Path state = dir.resolve("atoms.state");
    AtomBudget first = new AtomBudget(10, 10);
    first.persistTo(state);
    assertNull(first.admitAll(List.of(Atom.of("one"), Atom.of("two\nlines"),
        Atom.of("caf\u00e9")), "alice"));
    assertTrue(first.admit(Atom.of("four")));
    first.close();
    // a crash mid-line leaves a cut-short last line: ignored
    Files.writeString(state, "half", StandardCharsets.UTF_8,
        java.nio.file.StandardOpenOption.APPEND);
    AtomBudget second = new AtomBudget(10, 10);
    second.persistTo(state);
    assertEquals(4, second.used());
    assertNull(second.admitAll(List.of(Atom.of("two\nlines"), Atom.of("caf\u00e9")), "bob"));
    assertEquals(0, second.usedBy("bob")); // already in the cluster: free
    assertNull(second.admitAll(atoms("n", 6), "bob"));
    assertTrue(second.admitAll(atoms("z", 1), "bob") != null, "the pool was refilled");
    second.close();
    assertEquals(10, Files.readAllLines(state).size(), Files.readString(state));
    assertTrue(Files.readAllLines(state).stream().noneMatch(l -> l.startsWith("half")));
  }
}
