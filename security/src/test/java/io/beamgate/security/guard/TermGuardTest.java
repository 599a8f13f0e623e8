package io.beamgate.security.guard;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.beamgate.node.term.Atom;
import io.beamgate.node.term.ErlList;
import io.beamgate.node.term.ExternalFun;
import io.beamgate.node.term.Int;
import io.beamgate.node.term.Pid;
import io.beamgate.node.term.Ref;
import io.beamgate.node.term.Term;
import io.beamgate.node.term.TermText;
import io.beamgate.node.term.Tuple;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class TermGuardTest {
  private static List<Term> args(String text) {
    return ((ErlList) TermText.parse(text)).elements();
  }

  private static Verdict check(TermGuard g, String argsText, GuardRule rule) {
    List<Term> a = args(argsText);
    return g.check("kv", "put", a.size(), a, rule);
  }

  @Test
  void plainDataPasses() {
    TermGuard g = new TermGuard(new AtomBudget(10));
    Verdict v = check(g, "[<<\"key\">>, #{count => 1, tags => [ok, \"s\"]}, {1, 2.5}]",
        GuardRule.DEFAULTS);
    assertTrue(v.allowed(), v.toString());
  }

  @Test
  void funsAreRefusedWhereverTheyHide() {
    TermGuard g = new TermGuard(new AtomBudget(100));
    ExternalFun cmd = new ExternalFun(Atom.of("os"), Atom.of("cmd"), 1);
    // Put the fun inside: map value -> list element -> tuple element.
    Term hidden = io.beamgate.node.term.ErlMap.of(java.util.Map.of(Atom.of("a"),
        ErlList.of(Int.of(1), Tuple.of(Atom.of("x"), cmd))));
    Verdict v = g.check("kv", "put", 2, List.of(Int.of(0), hidden), GuardRule.DEFAULTS);
    assertFalse(v.allowed());
    assertEquals("fun in arguments (fun os:cmd/1) at args[1]#{a}[1]{1}", v.toString());
    Verdict tail = g.check("kv", "put", 1,
        List.of(ErlList.improper(List.of(Int.of(1)), cmd)), GuardRule.DEFAULTS);
    assertEquals("args[0]|tail", tail.path());
    Verdict key = g.check("kv", "put", 1, List.of(io.beamgate.node.term.ErlMap.of(
        java.util.Map.of(cmd, Int.of(1)))), GuardRule.DEFAULTS);
    assertTrue(key.path().startsWith("args[0]#key{"), key.path());
  }

  @Test
  void pidsRefsAndPortsOnlyWhenTheRuleAllows() {
    TermGuard g = new TermGuard(new AtomBudget(100));
    Pid pid = new Pid(Atom.of("n@h"), 1, 0, 1);
    Ref ref = new Ref(Atom.of("n@h"), 1, new int[] {1, 2, 3});
    assertEquals("pid in arguments at args[0]",
        g.check("m", "f", 1, List.of(pid), GuardRule.DEFAULTS).toString());
    assertTrue(g.check("m", "f", 1, List.of(pid), GuardRule.DEFAULTS.withPids(true)).allowed());
    assertEquals("reference in arguments at args[0]{1}", g.check("m", "f", 1,
        List.of(Tuple.of(Atom.OK, ref)), GuardRule.DEFAULTS).toString());
    assertTrue(g.check("m", "f", 1, List.of(ref), GuardRule.DEFAULTS.withRefs(true)).allowed());
  }

  @Test
  void atomBudgetAtAndPastItsLimit() {
    TermGuard g = new TermGuard(new AtomBudget(3));
    assertTrue(check(g, "[a1, a2, a3]", GuardRule.DEFAULTS).allowed());
    assertTrue(check(g, "[a1, a3, ok, true]", GuardRule.DEFAULTS).allowed(),
        "known and standard atoms cost nothing");
    Verdict v = check(g, "[a4]", GuardRule.DEFAULTS);
    assertFalse(v.allowed());
    assertTrue(v.reason().startsWith("atom budget exhausted (3 distinct atoms forwarded)"),
        v.reason());
    assertTrue(check(g, "[a4]", GuardRule.DEFAULTS.withAtoms(Set.of("a4"))).allowed(),
        "a rule's allow-list is outside the budget");
    assertEquals(3, g.budget().used());
  }

  @Test
  void aCallWithMoreNewAtomsThanTheBudgetLeftSpendsNone() {
    TermGuard g = new TermGuard(new AtomBudget(5));
    assertFalse(check(g, "[b1, b2, b3, b4, b5, b6, b7]", GuardRule.DEFAULTS).allowed());
    assertEquals(0, g.budget().used(), "all or nothing");
    assertTrue(check(g, "[b1, b2, b3, b4, b5]", GuardRule.DEFAULTS).allowed());
    assertEquals(5, g.budget().used());
  }

  @Test
  void chargedNamesCountAgainstTheBudget() {
    TermGuard g = new TermGuard(new AtomBudget(2));
    assertTrue(g.check("m", "fn1", 0, List.of(), GuardRule.DEFAULTS, List.of("fn1")).allowed());
    assertTrue(g.check("m", "fn2", 0, List.of(), GuardRule.DEFAULTS, List.of("fn2")).allowed());
    Verdict v = g.check("m", "fn3", 0, List.of(), GuardRule.DEFAULTS, List.of("fn3"));
    assertFalse(v.allowed());
    assertTrue(v.reason().contains("'fn3'"), v.reason());
    assertTrue(g.check("m", "fn1", 0, List.of(), GuardRule.DEFAULTS, List.of("fn1")).allowed());
  }

  @Test
  void refusedCallsSpendNoBudget() {
    TermGuard g = new TermGuard(new AtomBudget(2));
    List<Term> a = args("[fresh1, fresh2]");
    assertFalse(g.check("m", "f", 3, a, GuardRule.DEFAULTS).allowed(), "arity mismatch");
    assertFalse(g.check("m", "f", 2, List.of(Atom.of("fresh1"),
        new ExternalFun(Atom.of("os"), Atom.of("cmd"), 1)), GuardRule.DEFAULTS).allowed());
    assertEquals(0, g.budget().used());
  }

  @Test
  void depthAtAndPastTheLimit() {
    TermGuard g = new TermGuard(new AtomBudget(10));
    GuardRule rule = GuardRule.DEFAULTS.withMaxDepth(4);
    assertTrue(check(g, "[[[[1]]]]", rule).allowed(), "depth 4");
    Verdict v = check(g, "[[[[[1]]]]]", rule);
    assertEquals("nesting depth: 5 (expected: <= 4)", v.reason());
    Term deep = Int.of(1);
    for (int i = 0; i < 100_000; i++) {
      deep = ErlList.of(deep);
    }
    assertFalse(g.check("m", "f", 1, List.of(deep), GuardRule.DEFAULTS).allowed(),
        "100 000 levels: refused, no stack overflow");
  }

  @Test
  void sizeAtAndPastTheLimit() {
    TermGuard g = new TermGuard(new AtomBudget(10));
    Term bin = io.beamgate.node.term.Binary.wrap(new byte[100]);
    long size = io.beamgate.node.etf.EtfEncoder.encodedSize(bin);
    assertTrue(g.check("m", "f", 1, List.of(bin), GuardRule.DEFAULTS.withMaxBytes(size))
        .allowed());
    Verdict v = g.check("m", "f", 1, List.of(bin), GuardRule.DEFAULTS.withMaxBytes(size - 1));
    assertEquals("argument size: more than " + (size - 1) + " bytes (expected: <= "
        + (size - 1) + ")", v.reason());
  }

  @Test
  void arityMustMatch() {
    TermGuard g = new TermGuard(new AtomBudget(10));
    Verdict v = g.check("kv", "get", 1, args("[a, b]"), GuardRule.DEFAULTS);
    assertEquals("arity mismatch: kv:get/1 called with 2 argument(s)", v.reason());
  }
}
