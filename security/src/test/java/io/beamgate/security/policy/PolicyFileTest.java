package io.beamgate.security.policy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.beamgate.certs.HeldCertificate;
import io.beamgate.security.identity.Principal;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PolicyFileTest {
  static final String GOOD = """
      version: 1
      atom_budget: 500
      groups:
        ops: ["uri:spiffe://example.org/ops/*"]
      rules:
        - id: kv-clients
          principals: ["group:ops", "dns:client.example.org"]
          calls: ["kv:get/1", "kv:put/2", "kv_stats:*", "math:*"]
          sends: [kv_server]
          atoms: [get, put]
          limits: {rate_per_second: 50, concurrency: 4, timeout_ms: 2000,
                   max_arg_bytes: 65536, max_result_bytes: 1048576, max_depth: 16}
      """;

  static Principal principal(String uri) throws Exception {
    return Principal.of(HeldCertificate.builder().uri(uri).build().certificate());
  }

  static String error(String yaml) {
    return assertThrows(PolicyException.class, () -> PolicyFile.parse("p.yaml", yaml))
        .getMessage();
  }

  @Test
  void aGoodPolicyAllowsWhatItNamesAndNothingElse() throws Exception {
    Policy p = PolicyFile.parse("p.yaml", GOOD).policy();
    assertEquals(500, p.atomBudget());
    Principal ops = principal("spiffe://example.org/ops/alice");
    assertTrue(p.call(ops, "kv", "get", 1).allowed());
    assertFalse(p.call(ops, "kv", "get", 2).allowed(), "arity is part of the rule");
    assertTrue(p.call(ops, "kv_stats", "anything", 3).allowed());
    assertTrue(p.send(ops, "kv_server").allowed());
    assertFalse(p.send(ops, "other").allowed());
    Decision d = p.call(principal("spiffe://example.org/dev/bob"), "kv", "get", 1);
    assertFalse(d.allowed());
    assertEquals("no rule names principal spiffe://example.org/dev/bob", d.reason());
    Rule r = p.call(ops, "kv", "put", 2).rule();
    assertEquals(50, r.limits().ratePerSecond());
    assertEquals(16, r.guard().maxDepth());
    assertTrue(r.guard().allowedAtoms().contains("put"));
  }

  @Test
  void noWildcardEverCoversADeniedFunction() throws Exception {
    Policy p = PolicyFile.parse("p.yaml", GOOD).policy();
    Principal ops = principal("spiffe://example.org/ops/alice");
    assertTrue(p.call(ops, "math", "sqrt", 1).allowed(), "math:* covers math");
    // Single functions denied in modules a wildcard may cover: still denied under it.
    Policy lists = PolicyFile.parse("p.yaml", GOOD.replace("\"math:*\"", "\"lists:*\""))
        .policy();
    assertTrue(lists.call(ops, "lists", "reverse", 1).allowed());
    for (String f : new String[] {"foreach", "map", "foldl", "filter"}) {
      for (int arity = 0; arity <= 4; arity++) {
        Decision d = lists.call(ops, "lists", f, arity);
        assertFalse(d.allowed(), "lists:" + f + "/" + arity + " under lists:*");
        assertTrue(d.reason().contains("is denied (code:"), d.reason());
      }
      assertTrue(error(GOOD.replace("\"math:*\"", "\"lists:" + f + "\"")).contains(
          "covers nothing"), f);
    }
    for (String m : new String[] {"os", "file", "code", "erl_eval", "init", "rpc", "erpc"}) {
      String yaml = GOOD.replace("\"math:*\"", "\"" + m + ":*\"");
      assertTrue(error(yaml).contains("a wildcard never covers a denied function"), m);
    }
    assertTrue(error(GOOD.replace("\"math:*\"", "\"erlang:apply\"")).contains(
        "covers nothing"));
  }

  @Test
  void unsafeNeedsAnExactNameAndTheFlagAndWarns() throws Exception {
    String needsFlag = GOOD.replace("\"math:*\"", "\"os:cmd/1\"");
    assertTrue(error(needsFlag).contains("needs unsafe: true"), error(needsFlag));
    assertTrue(error(needsFlag).startsWith("p.yaml:8: calls: module os is denied whole (os:"),
        error(needsFlag));
    PolicyFile.Loaded l = PolicyFile.parse("p.yaml", needsFlag.replace("max_depth: 16}",
        "max_depth: 16}\n    unsafe: true"));
    assertEquals(1, l.warnings().size());
    assertTrue(l.warnings().get(0).contains("allows os:cmd/1"), l.warnings().get(0));
    Principal ops = principal("spiffe://example.org/ops/alice");
    assertTrue(l.policy().call(ops, "os", "cmd", 1).allowed());
    assertFalse(l.policy().call(ops, "os", "cmd", 2).allowed(), "only the exact arity");
  }

  @Test
  void shadowModeAllowsButSaysItWouldDenyAndNeverForDeniedFunctions() throws Exception {
    Policy p = PolicyFile.parse("p.yaml", GOOD.replace("max_depth: 16}",
        "max_depth: 16}\n    permissive: true")).policy();
    Principal ops = principal("spiffe://example.org/ops/alice");
    Decision d = p.call(ops, "kv", "delete", 1);
    assertTrue(d.allowed() && d.shadowDenied(), d.toString());
    assertFalse(p.call(ops, "os", "cmd", 1).allowed(),
        "denied functions stay denied in shadow mode");
  }

  @Test
  void eachKindOfFileErrorNamesTheLineAndKey() {
    assertEquals("p.yaml:9: colour: unknown key in rule (expected one of [allow_pids,"
        + " allow_refs, atoms, calls, id, idempotent, limits, permissive, principals, sends,"
        + " shadow, unsafe])",
        error(GOOD.replace("    sends: [kv_server]", "    colour: blue\n    sends: [kv_server]")));
    assertTrue(error(GOOD.replace("atom_budget: 500", "atom_budget: lots"))
        .startsWith("p.yaml:2: atom_budget: 'lots' (expected: a whole number)"));
    assertTrue(error(GOOD.replace("atom_budget: 500", "atom_budget: 500\natom_budget: 5"))
        .contains("atom_budget: duplicate key"));
    assertTrue(error(GOOD.replace("    principals: [\"group:ops\", \"dns:client.example.org\"]\n",
        "")).contains("principals: missing"));
    assertTrue(error(GOOD.replace("version: 1\n", "")).contains("version: missing"));
    assertTrue(error(GOOD.replace("version: 1", "version: 2")).contains("(expected: 1)"));
    assertTrue(error(GOOD.replace("\"kv:get/1\"", "\"kv-get\"")).contains("calls:"));
    assertTrue(error(GOOD.replace("group:ops", "group:nobody")).contains("unknown group"));
    assertTrue(error(GOOD.replace("permissive", "x").replace("sends: [kv_server]",
        "permissive: maybe")).contains("(expected: true or false)"));
    assertTrue(error(GOOD.replace("    calls: [\"kv:get/1\", \"kv:put/2\", \"kv_stats:*\","
        + " \"math:*\"]\n", "").replace("    sends: [kv_server]\n", ""))
        .contains("allows nothing"));
    assertTrue(error("").contains("empty policy"));
    assertTrue(error("version: 1\nrules: []\n").contains("empty (a policy must allow"));
    assertTrue(error("version: [1").contains("not valid YAML"));
    assertTrue(error(GOOD.replace("concurrency: 4", "concurrency: 0")).contains(
        "concurrency: 0 (expected: >= 1)"));
  }

  @Test
  void aPolicyOthersCanWriteIsRefused(@TempDir Path dir) throws Exception {
    Path f = dir.resolve("policy.yaml");
    Files.writeString(f, GOOD);
    Files.setPosixFilePermissions(f, PosixFilePermissions.fromString("rw-rw-r--"));
    PolicyException e = assertThrows(PolicyException.class, () -> PolicyFile.load(f));
    assertTrue(e.getMessage().contains("writable by group or others"), e.getMessage());
    Files.writeString(f, GOOD.replace("kv:get/1", "kv get"));
    e = assertThrows(PolicyException.class, () -> PolicyFile.load(f));
    assertEquals(2, e.problems().size(), "both are news: " + e.problems());
    assertTrue(e.problems().get(1).contains(":8: calls:"), e.problems().toString());
    Files.writeString(f, GOOD);
    Files.setPosixFilePermissions(f, PosixFilePermissions.fromString("rw-r--r--"));
    assertEquals(1, PolicyFile.load(f).policy().rules().size());
  }

  @Test
  void everyErrorIsFoundInOneReadEachWithItsLine() {
    String yaml = """
        version: 2
        atom_budget: lots
        groups:
          ops: ["uri:relative/ops", "uri:spiffe://t/ops/*"]
        rules:
          - id: a
            principals: ["group:ops"]
            calls: ["kv:get/1"]
          - id: b
            principals: ["dns:b..x", "sha256:zz", "cn:b"]
            calls: ["kv:get/1"]
          - id: c
            principals: ["cn:c"]
            calls: ["kv-get"]
          - id: e
            principals: ["cn:e"]
            calls: ["kv:get/1"]
          - id: e
            principals: ["cn:e2"]
            calls: ["kv:get/1"]
          - id: d
            principals: ["cn:d"]
            colour: blue
        """;
    PolicyException e = assertThrows(PolicyException.class, () -> PolicyFile.parse("p.yaml",
        yaml));
    java.util.List<String> p = e.problems();
    assertEquals(8, p.size(), String.join("\n", p));
    assertEquals("p.yaml:1: version: 2 (expected: 1)", p.get(0));
    assertTrue(p.get(1).startsWith("p.yaml:2: atom_budget: 'lots'"), p.get(1));
    assertTrue(p.get(2).startsWith("p.yaml:4: groups.ops: principal rule 'uri:relative/ops':"
        + " not an absolute URI"), p.get(2));
    assertTrue(p.get(3).startsWith("p.yaml:10: principals: principal rule 'dns:b..x'"), p.get(3));
    assertTrue(p.get(4).startsWith("p.yaml:10: principals: principal rule 'sha256:zz'"),
        p.get(4));
    assertTrue(p.get(5).startsWith("p.yaml:14: calls: "), p.get(5));
    assertEquals("p.yaml:18: id: duplicate rule id 'e' (first at line 15)", p.get(6));
    assertTrue(p.get(7).startsWith("p.yaml:23: colour: unknown key in rule"), p.get(7));
    // Rule a names only the broken group: it is skipped, not blamed a second time.
    assertTrue(p.stream().noneMatch(m -> m.contains("would name nobody")), p.toString());
    // The message lists them all, one per line, as gateway run and reload print it.
    assertEquals("p.yaml: 8 problems:\n  " + String.join("\n  ", p), e.getMessage());
  }

  @Test
  void aSingleErrorIsTheWholeMessage() {
    PolicyException e = assertThrows(PolicyException.class, () -> PolicyFile.parse("p.yaml",
        GOOD.replace("dns:client.example.org", "dns:client.example.org.")));
    assertEquals(1, e.problems().size());
    assertEquals(e.problems().get(0), e.getMessage());
    assertTrue(e.getMessage().startsWith("p.yaml:7: principals: principal rule"
        + " 'dns:client.example.org.': '' is not a DNS label"), e.getMessage());
  }

  @Test
  void riskyRulesLoadWithWarningsNamingTheLine() throws Exception {
    assertEquals(java.util.List.of(), PolicyFile.parse("p.yaml", GOOD).warnings());
    PolicyFile.Loaded l = PolicyFile.parse("p.yaml", """
        version: 1
        groups:
          everyone: ["uri:spiffe://*"]
        rules:
          - id: a
            principals: ["group:everyone", "dns:ops-*"]
            calls: ["kv:get/1"]
            sends: [kv_server]
          - id: a-copy
            principals: ["dns:ops-*", "group:everyone"]
            calls: ["kv:get/1"]
            sends: [kv_server]
          - id: a-more
            principals: ["dns:ops-*", "group:everyone"]
            calls: ["kv:get/1", "kv:put/2"]
            sends: [kv_server]
          - id: a-shadow
            principals: ["group:everyone", "dns:ops-*"]
            calls: ["kv:get/1"]
            sends: [kv_server]
            permissive: true
          - id: starters
            principals: ["cn:ops"]
            sends: [init, my_app_sup, "Elixir.MyApp.DynamicSupervisor",
                    "Elixir.MyApp.Supervisor", kv_supervisor_like, logger]
        """);
    java.util.List<String> w = l.warnings();
    assertTrue(w.get(0).startsWith("p.yaml:3: groups.everyone: 'uri:spiffe://*' matches every"
        + " spiffe: URI"), w.get(0));
    assertTrue(w.get(1).startsWith("p.yaml:6: principals: 'dns:ops-*' matches every DNS name"
        + " starting with 'ops-'"), w.get(1));
    assertTrue(w.get(2).startsWith("p.yaml:10: principals: 'dns:ops-*'"), w.get(2));
    assertTrue(w.get(3).startsWith("p.yaml:14: principals: 'dns:ops-*'"), w.get(3));
    assertTrue(w.get(4).startsWith("p.yaml:18: principals: 'dns:ops-*'"), w.get(4));
    java.util.List<String> sends = w.stream().filter(s -> s.contains(": sends: ")).toList();
    assertEquals(5, sends.size(), w.toString());
    for (String name : new String[] {"24 init", "24 my_app_sup",
        "24 Elixir.MyApp.DynamicSupervisor", "25 Elixir.MyApp.Supervisor", "25 logger"}) {
      String[] at = name.split(" ");
      assertTrue(sends.stream().anyMatch(s -> s.startsWith("p.yaml:" + at[0] + ": sends: rule"
          + " 'starters' allows sends to " + at[1] + ", ") && s.contains("arbitrary code")),
          name + " in " + sends);
    }
    java.util.List<String> same = w.stream().filter(s -> s.contains("the same")).toList();
    assertEquals(java.util.List.of("p.yaml:9: id: rule 'a-copy' names the same principals and"
        + " allows the same calls and sends as rule 'a' (line 5); the first decides every"
        + " request, so 'a-copy' never does: remove one or merge them"), same);
    assertEquals(11, w.size(), String.join("\n", w)); // not a-shadow: it decides denials
  }

  @Test
  void theOneNameDecidesSendsAndShadowAndPolicyNames() throws Exception {
    Policy p = PolicyFile.parse("p.yaml", GOOD.replace("max_depth: 16}",
        "max_depth: 16}\n  - id: watch\n    principals: [\"dns:watch.example\"]\n"
        + "    sends: [kv_server]\n    permissive: true")).policy();
    Principal both = Principal.of(HeldCertificate.builder().dns("other.example")
        .dns("client.example.org").build().certificate());
    assertFalse(p.names(both), "only its first DNS SAN is its name");
    assertFalse(p.send(both, "kv_server").allowed());
    Principal client = Principal.of(HeldCertificate.builder().dns("client.example.org")
        .build().certificate());
    assertTrue(p.names(client));
    assertTrue(p.send(client, "kv_server").allowed());
    Principal watch = Principal.of(HeldCertificate.builder().dns("watch.example")
        .dns("client.example.org").build().certificate());
    assertTrue(p.names(watch));
    Decision d = p.send(watch, "other");
    assertTrue(d.allowed() && d.shadowDenied(), "its own shadow rule: " + d);
    Decision put = p.call(watch, "kv", "put", 2);
    assertTrue(put.shadowDenied() && put.rule().id().equals("watch"),
        "client.example.org's rule does not allow it: " + put);
  }

  @Test
  void theOldShadowKeyIsRefusedWithAHint() {
    String e = error(GOOD + "    shadow: true\n");
    assertTrue(e.contains("shadow") && e.contains("renamed permissive"), e);
  }

  @Test
  void atomBudgetPerPrincipalAtAndPastTheBudget() throws Exception {
    Policy at = PolicyFile.parse("p.yaml", GOOD.replace("atom_budget: 500",
        "atom_budget: 500\natom_budget_per_principal: 500")).policy();
    assertEquals(500, at.atomBudgetPerPrincipal());
    assertEquals(125, PolicyFile.parse("p.yaml", GOOD).policy().atomBudgetPerPrincipal());
    String past = error(GOOD.replace("atom_budget: 500",
        "atom_budget: 500\natom_budget_per_principal: 501"));
    assertTrue(past.contains("atom_budget_per_principal: 501 (expected: <= atom_budget, 500)"),
        past);
  }
}
