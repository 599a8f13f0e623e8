package io.beamgate.security.policy;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.beamgate.security.guard.GuardRule;
import io.beamgate.security.identity.Principal;
import io.beamgate.security.identity.PrincipalMatcher;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * The policy's rule index decides exactly as a scan of every rule in file order: the same
 * answer, the same matched rule (the first in the file), the same reason, for thousands of
 * generated policies and requests. {@link Scan} is the decision as it was before the index.
 */
class PolicyIndexTest {
  private static final String[] FINGERPRINTS = {"a".repeat(64), "b".repeat(64), "c".repeat(64)};
  private static final String[] URIS = {"spiffe://ex.org/app", "spiffe://ex.org/ops/alice",
      "spiffe://ex.org/ops/bob", "spiffe://other.org/app"};
  private static final String[] DNS = {"client.ex.org", "Client.Ex.Org", "api.ex.org"};
  private static final String[] CNS = {"legacy", "legacy-2", "ops"};
  private static final String[] MODULES = {"kv", "math", "lists", "erlang", "os", "timer",
      "app1", "app2"};
  private static final String[] FUNCTIONS = {"get", "put", "abs", "cmd", "send", "sleep",
      "reverse", "send_after"};
  private static final String[] NAMES = {"kv_server", "logger", "app", "sink"};

  /** Policy.call, names and send before the index: every rule, in file order. */
  static final class Scan {
    static Decision call(List<Rule> rules, Principal p, String module, String function,
        int arity) {
      String denied = Capabilities.reason(module, function, arity);
      Rule matchedPrincipal = null;
      for (Rule r : rules) {
        if (r.principals().stream().noneMatch(m -> m.matches(p))) {
          continue;
        }
        matchedPrincipal = r;
        for (CallPattern c : r.calls()) {
          if (!c.matches(module, function, arity)) {
            continue;
          }
          if (denied != null && !(r.unsafe() && c.isExact())) {
            continue;
          }
          if (!c.isExact() && !r.unsafe() && Capabilities.wildcardNeedsUnsafe(c)) {
            continue;
          }
          return Decision.allow(r);
        }
      }
      if (denied != null) {
        return Decision.deny(null, denied);
      }
      String reason = matchedPrincipal == null ? "no rule names principal " + p.name()
          : "no rule allows " + module + ":" + function + "/" + arity + " for " + p.name();
      return shadowed(rules, p, reason);
    }

    static boolean names(List<Rule> rules, Principal p) {
      return rules.stream().anyMatch(r -> names(r, p));
    }

    static boolean names(Rule r, Principal p) {
      return r.principals().stream().anyMatch(m -> m.matches(p));
    }

    static Decision send(List<Rule> rules, Principal p, String name) {
      for (Rule r : rules) {
        if (names(r, p) && r.sends().contains(name)) {
          return Decision.allow(r);
        }
      }
      return shadowed(rules, p, "no rule allows sends to " + name + " for " + p.name());
    }

    static Decision shadowed(List<Rule> rules, Principal p, String reason) {
      for (Rule r : rules) {
        if (r.permissive() && names(r, p)) {
          return new Decision(true, r, reason, true);
        }
      }
      return Decision.deny(null, reason);
    }
  }

  @Test
  void theIndexDecidesAsAScanOfEveryRuleForGeneratedPoliciesAndRequests() {
    Random rnd = new Random(17);
    int allowed = 0;
    int shadow = 0;
    int decisions = 0;
    for (int n = 0; n < 1_000; n++) {
      List<Rule> rules = new ArrayList<>();
      int count = 1 + rnd.nextInt(n % 10 == 0 ? 80 : 12);
      for (int i = 0; i < count; i++) {
        rules.add(rule(rnd, "r" + rnd.nextInt(count))); // ids may repeat: compare rules by identity
      }
      Policy policy = new Policy(rules, 1000);
      for (int q = 0; q < 50; q++) {
        Principal p = principal(rnd);
        String module = pick(rnd, MODULES);
        String function = pick(rnd, FUNCTIONS);
        int arity = rnd.nextInt(4);
        Decision want = Scan.call(rules, p, module, function, arity);
        Decision got = policy.call(p, module, function, arity);
        same(want, got, p + " calls " + module + ":" + function + "/" + arity + " in " + rules);
        String name = pick(rnd, NAMES);
        same(Scan.send(rules, p, name), policy.send(p, name), p + " sends to " + name);
        assertEquals(Scan.names(rules, p), policy.names(p), p + " in " + rules);
        decisions += 2;
        allowed += got.allowed() && !got.shadowDenied() ? 1 : 0;
        shadow += got.shadowDenied() ? 1 : 0;
      }
    }
    // The generator must reach every outcome, or the comparison proves little.
    assertTrue(allowed > decisions / 50, "allowed: " + allowed + " of " + decisions);
    assertTrue(shadow > decisions / 200, "shadow allowed: " + shadow + " of " + decisions);
  }

  @Test
  void theFirstRuleInFileOrderWinsWhetherItNamesThePrincipalByPrefixOrExactly() {
    Principal alice = new Principal("spiffe://ex.org/ops/alice", Principal.Kind.URI,
        FINGERPRINTS[0], "1");
    Rule byPrefix = new Rule("prefix", List.of(PrincipalMatcher.parse("uri:spiffe://ex.org/*")),
        List.of(CallPattern.parse("kv:get/1")), Set.of(), Rule.Limits.DEFAULTS,
        GuardRule.DEFAULTS, false, false);
    Rule exact = new Rule("exact", List.of(PrincipalMatcher.parse(
        "uri:spiffe://ex.org/ops/alice")), List.of(CallPattern.parse("kv:*")), Set.of("kv"),
        Rule.Limits.DEFAULTS, GuardRule.DEFAULTS, false, false);
    Rule byFingerprint = new Rule("pin", List.of(PrincipalMatcher.parse("sha256:"
        + FINGERPRINTS[0])), List.of(CallPattern.parse("kv:get")), Set.of("kv"),
        Rule.Limits.DEFAULTS, GuardRule.DEFAULTS, false, false);
    assertSame(byPrefix, new Policy(List.of(byPrefix, exact, byFingerprint), 10)
        .call(alice, "kv", "get", 1).rule());
    assertSame(exact, new Policy(List.of(exact, byPrefix, byFingerprint), 10)
        .call(alice, "kv", "get", 1).rule());
    assertSame(byFingerprint, new Policy(List.of(byFingerprint, byPrefix, exact), 10)
        .call(alice, "kv", "get", 1).rule());
    assertSame(byFingerprint, new Policy(List.of(byPrefix, byFingerprint, exact), 10)
        .send(alice, "kv").rule());
  }

  @Test
  void mergingKeepsOrderAndDropsRulesFiledTwice() {
    assertArrayEquals(new int[] {0, 1, 2, 5, 7, 9}, IndexedRules.merge(new int[] {1, 5, 9},
        new int[] {0, 5, 7}, new int[] {2, 5, 9}));
    assertArrayEquals(new int[] {3}, IndexedRules.merge(new int[0], new int[] {3},
        new int[0]));
  }

  private static Rule rule(Random rnd, String id) {
    List<PrincipalMatcher> principals = new ArrayList<>();
    int np = rnd.nextInt(10) == 0 ? 0 : 1 + rnd.nextInt(2);
    for (int i = 0; i < np; i++) {
      principals.add(matcher(rnd));
    }
    List<CallPattern> calls = new ArrayList<>();
    for (int i = rnd.nextInt(4); i > 0; i--) {
      String module = pick(rnd, MODULES);
      calls.add(switch (rnd.nextInt(4)) {
        case 0 -> new CallPattern(module, CallPattern.ANY_FUNCTION, CallPattern.ANY_ARITY);
        case 1 -> new CallPattern(module, pick(rnd, FUNCTIONS), CallPattern.ANY_ARITY);
        default -> new CallPattern(module, pick(rnd, FUNCTIONS), rnd.nextInt(4));
      });
    }
    Set<String> sends = new LinkedHashSet<>();
    for (int i = rnd.nextInt(3); i > 0; i--) {
      sends.add(pick(rnd, NAMES));
    }
    return new Rule(id, principals, calls, sends, Rule.Limits.DEFAULTS, GuardRule.DEFAULTS,
        rnd.nextInt(8) == 0, rnd.nextInt(4) == 0);
  }

  /** Exact and prefix matchers of every kind, built directly too (a DNS value not lowered). */
  private static PrincipalMatcher matcher(Random rnd) {
    switch (rnd.nextInt(6)) {
      case 0:
        return new PrincipalMatcher(PrincipalMatcher.Type.URI, pick(rnd, URIS), false);
      case 1:
        String u = pick(rnd, URIS);
        return new PrincipalMatcher(PrincipalMatcher.Type.URI,
            u.substring(0, 10 + rnd.nextInt(u.length() - 10)), true);
      case 2:
        String d = pick(rnd, DNS);
        return rnd.nextBoolean() ? PrincipalMatcher.parse("dns:" + d)
            : new PrincipalMatcher(PrincipalMatcher.Type.DNS, d, rnd.nextInt(3) == 0);
      case 3:
        return new PrincipalMatcher(PrincipalMatcher.Type.CN, pick(rnd, CNS),
            rnd.nextInt(4) == 0);
      default:
        return new PrincipalMatcher(PrincipalMatcher.Type.SHA256, pick(rnd, FINGERPRINTS),
            false);
    }
  }

  private static Principal principal(Random rnd) {
    String fp = pick(rnd, FINGERPRINTS);
    return switch (rnd.nextInt(3)) {
      case 0 -> new Principal(pick(rnd, URIS), Principal.Kind.URI, fp, "1");
      case 1 -> new Principal(pick(rnd, DNS), Principal.Kind.DNS, fp, "2");
      default -> new Principal(pick(rnd, CNS), Principal.Kind.CN, fp, "3");
    };
  }

  private static void same(Decision want, Decision got, String what) {
    assertEquals(want.allowed(), got.allowed(), what);
    assertSame(want.rule(), got.rule(), what);
    assertEquals(want.reason(), got.reason(), what);
    assertEquals(want.shadowDenied(), got.shadowDenied(), what);
  }

  private static String pick(Random rnd, String[] from) {
    return from[rnd.nextInt(from.length)];
  }
}
