package io.beamgate.gateway.scale;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.beamgate.gateway.admission.Limiter;
import io.beamgate.node.term.Atom;
import io.beamgate.gateway.config.GatewayConfig;
import io.beamgate.security.guard.AtomBudget;
import io.beamgate.security.guard.GuardRule;
import io.beamgate.security.policy.Rule;
import java.lang.reflect.Method;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** Shares from polls the test makes up: at and past each bound, rebalancing, cut off. */
class ClusterShareTest {
  static final GatewayConfig.Scale CFG = new GatewayConfig.Scale("default", 1000);

  static ClusterShare share(String self, long atomLimit) {
    return new ClusterShare(CFG, self, null, List::of, atomLimit, false);
  }

  static ClusterPoll.Snapshot seen(long atomsUsed, String... gateways) {
    return new ClusterPoll.Snapshot(Set.of(gateways), atomsUsed, 1);
  }

  static final ClusterPoll.Snapshot NOBODY_ANSWERS = new ClusterPoll.Snapshot(Set.of(), 0, 0);

  @Test
  void theAtomsLeftAreSplitExactlyTheRemainderToTheFirstByName() {
    ClusterShare a = share("a@h", 10);
    ClusterShare b = share("b@h", 10);
    ClusterShare c = share("c@h", 10);
    for (ClusterShare s : List.of(a, b, c)) {
      s.apply(seen(3, "a@h", "b@h", "c@h")); // 7 left: 3, 2, 2
    }
    assertNull(a.take(3));
    assertTrue(a.take(1) != null, "past a's share of 3");
    assertNull(b.take(2));
    assertTrue(b.take(1) != null);
    assertNull(c.take(1));
    assertNull(c.take(1));
    String why = c.take(1);
    assertTrue(why.contains("3 of atom_budget 10") && why.contains("among 3 gateway(s)"), why);
  }

  @Test
  void noAtomIsAdmittedBeforeTheFirstCountNorPastTheBudget() {
    ClusterShare a = share("a@h", 10);
    assertTrue(a.take(1).contains("unknown"));
    a.apply(seen(10, "a@h"));
    assertTrue(a.take(1) != null, "the backends hold the whole budget already");
    a.apply(seen(12, "a@h")); // grown past it (by their own code): still nothing, not negative
    assertTrue(a.take(1) != null);
  }

  @Test
  void cutOffKeepsTheLastCountAndGetsNoNewAtoms() {
    ClusterShare a = share("a@h", 100);
    a.apply(seen(0, "a@h", "b@h", "c@h", "d@h")); // 25 each
    assertNull(a.take(20));
    a.apply(NOBODY_ANSWERS);
    assertEquals(4, a.gatewaysUp(), "the last known count, not 1");
    assertNull(a.take(5));
    assertTrue(a.take(1).contains("no backend answers"), "no refill while cut off");
    a.apply(NOBODY_ANSWERS);
    assertTrue(a.take(1) != null);
    a.apply(seen(25, "a@h", "b@h")); // back: b left, 75 left for two, 38 for a
    assertEquals(2, a.gatewaysUp());
    // its 25 atoms stay charged until a poll begun after this one has counted them
    assertNull(a.take(13));
    assertTrue(a.take(1) != null);
    a.apply(seen(38, "a@h", "b@h")); // 62 left: 31 each; the last 13 still charged
    assertNull(a.take(18));
    assertTrue(a.take(1) != null);
  }

  @Test
  void theAtomBudgetAsksTheSharedPoolAfterItsOwnChecks() {
    ClusterShare a = share("a@h", 5);
    a.apply(seen(0, "a@h", "b@h")); // 3 for a (the remainder), 2 for b
    AtomBudget budget = new AtomBudget(5, 5);
    budget.shareWith(a);
    assertNull(budget.admitAll(List.of(Atom.of("x1"), Atom.of("x2"), Atom.of("x3")), "p"));
    AtomBudget.Refusal r = budget.admitAll(List.of(Atom.of("x4")), "p");
    assertTrue(r != null && r.cluster() != null, String.valueOf(r));
    assertNull(budget.admitAll(List.of(Atom.of("x1")), "p"), "an atom admitted before is free");
    assertEquals(3, budget.used());
  }

  static Rule rule(int rate, int concurrency) {
    return new Rule("r", List.of(), List.of(), Set.of(),
        new Rule.Limits(rate, concurrency, 5_000, 1 << 20), GuardRule.DEFAULTS, false, false);
  }

  /** Limiter.acquire is package-private to admission: reached here as a test would there. */
  static Limiter.Permit acquire(Limiter l, Rule r) throws Throwable {
    Method m = Limiter.class.getDeclaredMethod("acquire", Rule.class, String.class);
    m.setAccessible(true);
    try {
      return (Limiter.Permit) m.invoke(l, r, "p");
    } catch (java.lang.reflect.InvocationTargetException e) {
      throw e.getCause();
    }
  }

  @Test
  void eachGatewayEnforcesItsShareOfARuleRebalancedWhenOneLeaves() throws Throwable {
    AtomicLong now = new AtomicLong(1_000);
    Limiter limiter = new Limiter(now::get);
    ClusterShare s = share("a@h", 0);
    limiter.shareWith(s::gatewaysUp);
    s.apply(seen(0, "a@h", "b@h"));
    Rule conc = rule(1_000_000, 4);
    acquire(limiter, conc);
    Limiter.Permit second = acquire(limiter, conc);
    Limiter.Exhausted e = assertThrows(Limiter.Exhausted.class, () -> acquire(limiter, conc));
    assertTrue(e.getMessage().contains("share, 2 gateways sharing it: 2"), e.getMessage());
    s.apply(seen(0, "a@h")); // b left: the whole limit here
    acquire(limiter, conc);
    acquire(limiter, conc);
    assertThrows(Limiter.Exhausted.class, () -> acquire(limiter, conc));
    second.release();
    acquire(limiter, conc);

    Rule rate = rule(10, 1000);
    s.apply(seen(0, "a@h", "b@h")); // 5 per second here
    for (int i = 0; i < 5; i++) {
      acquire(limiter, rate).release();
    }
    e = assertThrows(Limiter.Exhausted.class, () -> acquire(limiter, rate));
    assertTrue(e.getMessage().contains("rate limit") && e.getMessage().contains("5.000"),
        e.getMessage());
    now.addAndGet(200_000_000L); // 0.2 s at 5 per second: one back
    acquire(limiter, rate).release();
    assertThrows(Limiter.Exhausted.class, () -> acquire(limiter, rate));
  }

  @Test
  void aLimitSmallerThanTheGatewaysStillLetsOneRequestThroughEach() throws Throwable {
    Limiter limiter = new Limiter(() -> 0L);
    ClusterShare s = share("a@h", 0);
    limiter.shareWith(s::gatewaysUp);
    s.apply(seen(0, "a@h", "b@h", "c@h"));
    Rule r = rule(2, 2);
    acquire(limiter, r);
    assertThrows(Limiter.Exhausted.class, () -> acquire(limiter, r));
  }
}
