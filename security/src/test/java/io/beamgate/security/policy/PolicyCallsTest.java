package io.beamgate.security.policy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.beamgate.security.guard.GuardRule;
import io.beamgate.security.identity.Principal;
import io.beamgate.security.identity.PrincipalMatcher;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The calls of a policy against the capability table, through PolicyFile and Policy.call. */
class PolicyCallsTest {
  static Principal ops;

  @BeforeAll
  static void principal() throws Exception {
    ops = PolicyFileTest.principal("spiffe://example.org/ops/alice");
  }

  static String policy(String calls, boolean unsafe) {
    return "version: 1\n"
        + "rules:\n"
        + "  - id: app\n"
        + "    principals: [\"uri:spiffe://example.org/ops/*\"]\n"
        + "    calls: " + calls + "\n"
        + (unsafe ? "    unsafe: true\n" : "");
  }

  static String error(String yaml) {
    return assertThrows(PolicyException.class, () -> PolicyFile.parse("p.yaml", yaml))
        .getMessage();
  }

  static void denied(Policy p, String mfa) {
    CallPattern c = CallPattern.parse(mfa);
    Decision d = p.call(ops, c.module(), c.function(), c.arity());
    assertFalse(d.allowed(), mfa);
    assertTrue(d.reason().startsWith(c + " is denied (") || d.reason().startsWith("module "
        + CallPattern.quote(c.module()) + " is denied whole ("), d.reason());
  }

  @Test
  void erlangWildcardIsRefusedWithoutUnsafeNamingFileAndLine() {
    String e = error(policy("[erlang:*]", false));
    assertTrue(e.startsWith("p.yaml:5: calls: 'erlang:*' is a wildcard over module erlang,"
        + " which is dangerous"), e);
    assertTrue(e.contains("allowing it needs unsafe: true on the rule"), e);
    assertTrue(e.contains("module:function/arity"), "a hint: " + e);
    // And in a flow list among others, on a later line.
    e = error(policy("[\"kv:get/1\",\n            \"timer:*\"]", false));
    assertTrue(e.startsWith("p.yaml:6: calls: 'timer:*'"), e);
  }

  @Test
  void withUnsafeErlangWildcardCoversOnlySafeFunctionsAndWarns() throws Exception {
    PolicyFile.Loaded l = PolicyFile.parse("p.yaml", policy("[erlang:*]", true));
    assertEquals(1, l.warnings().size(), l.warnings().toString());
    assertTrue(l.warnings().get(0).startsWith("p.yaml:5: rule 'app' allows erlang:*,"
        + " an unsafe wildcard"), l.warnings().get(0));
    Policy p = l.policy();
    assertTrue(p.call(ops, "erlang", "abs", 1).allowed());
    assertTrue(p.call(ops, "erlang", "+", 2).allowed());
    for (String mfa : new String[] {"erlang:send_nosuspend/2", "erlang:send_nosuspend/3",
        "erlang:'!'/2", "erlang:get_cookie/0", "erlang:send_after/3", "erlang:start_timer/3",
        "erlang:hibernate/3", "erlang:send/2", "erlang:exit/2", "erlang:halt/0",
        "erlang:no_such_bif/1"}) {
      denied(p, mfa);
    }
    for (String mfa : CapabilitiesTest.DENIED) {
      CallPattern c = CallPattern.parse(mfa);
      if (c.module().equals("erlang")) {
        denied(p, mfa);
      }
    }
  }

  @Test
  void anExactDeniedFunctionLoadsOnlyWithUnsafeAndWarns() throws Exception {
    String e = error(policy("[\"erlang:send_after/3\"]", false));
    assertTrue(e.startsWith("p.yaml:5: calls: erlang:send_after/3 is denied (timer:"), e);
    assertTrue(e.contains("needs unsafe: true"), e);
    PolicyFile.Loaded l = PolicyFile.parse("p.yaml", policy("[\"erlang:send_after/3\","
        + " \"erlang:'!'/2\"]", true));
    assertEquals(2, l.warnings().size(), l.warnings().toString());
    assertTrue(l.warnings().get(0).contains("allows erlang:send_after/3, a denied function"
        + " (unsafe)"), l.warnings().get(0));
    assertTrue(l.warnings().get(1).contains("allows erlang:'!'/2"), l.warnings().get(1));
    assertTrue(l.policy().call(ops, "erlang", "send_after", 3).allowed());
    assertTrue(l.policy().call(ops, "erlang", "!", 2).allowed());
    denied(l.policy(), "erlang:send_after/4");
    denied(l.policy(), "erlang:send/2");
  }

  @Test
  void wildcardsThatCoverNothingNeverLoad() {
    for (String calls : new String[] {"[os:*]", "[gen_server:call]", "[\"'Elixir.Agent':*\"]",
        "[erlang:send]", "[erlang:send_nosuspend]", "[\"erlang:'!'\"]", "[sys:*]",
        "[erlang:no_such_bif]", "[lists:map]"}) {
      for (boolean unsafe : new boolean[] {false, true}) {
        String e = error(policy(calls, unsafe));
        assertTrue(e.startsWith("p.yaml:5: calls: '"), e);
        assertTrue(e.contains("covers nothing") && e.contains(
            "a wildcard never covers a denied function"), calls + ": " + e);
      }
    }
  }

  @Test
  void safeFunctionsOfDangerousModulesLoadByName() throws Exception {
    PolicyFile.Loaded l = PolicyFile.parse("p.yaml", policy("[\"erlang:abs/1\","
        + " \"erlang:integer_to_list\", \"timer:sleep/1\", \"lists:*\", \"kv:*\"]", false));
    assertEquals(List.of(), l.warnings());
    Policy p = l.policy();
    assertTrue(p.call(ops, "erlang", "abs", 1).allowed());
    assertTrue(p.call(ops, "erlang", "integer_to_list", 2).allowed());
    assertTrue(p.call(ops, "timer", "sleep", 1).allowed());
    assertTrue(p.call(ops, "lists", "reverse", 1).allowed());
    assertTrue(p.call(ops, "kv", "anything", 3).allowed());
    denied(p, "lists:map/2");
    denied(p, "timer:send_after/3");
  }

  @Test
  void shadowModeNeverSoftensADeniedFunction() throws Exception {
    Policy p = PolicyFile.parse("p.yaml", policy("[erlang:*]", true) + "    permissive: true\n")
        .policy();
    Decision d = p.call(ops, "erlang", "get_cookie", 0);
    assertFalse(d.allowed() || d.shadowDenied(), d.toString());
    d = p.call(ops, "kv", "get", 1);
    assertTrue(d.allowed() && d.shadowDenied(), d.toString());
  }

  @Test
  void aRuleBuiltInCodeCannotDoWhatAFileCouldNot() {
    Rule r = new Rule("code", List.of(PrincipalMatcher.parse("uri:spiffe://example.org/ops/*")),
        List.of(CallPattern.parse("erlang:*"), CallPattern.parse("timer:sleep"),
            CallPattern.parse("os:*")), Set.of(), Rule.Limits.DEFAULTS, GuardRule.DEFAULTS,
        false, false);
    Policy p = new Policy(List.of(r), 100);
    assertFalse(p.call(ops, "erlang", "abs", 1).allowed(), "erlang:* without unsafe");
    assertTrue(p.call(ops, "timer", "sleep", 1).allowed(), "no arity of sleep is denied");
    denied(p, "os:cmd/1");
  }
}
