package io.beamgate.security.policy;

import io.beamgate.security.yaml.ConfigException;
import io.beamgate.security.yaml.StrictYaml;
import io.beamgate.security.guard.GuardRule;
import io.beamgate.security.identity.PrincipalMatcher;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.snakeyaml.engine.v2.nodes.Node;

/**
 * Reads a policy file: strict YAML where unknown keys, wrong types, duplicate keys and missing
 * required fields are errors naming the file, line and key. See docs/admin-guide.md.
 *
 * <pre>
 * version: 1
 * atom_budget: 10000            # distinct new atoms ever forwarded (default 10000)
 * atom_budget_per_principal: 2500  # of which one principal may bring (default a quarter)
 * groups:
 *   ops: ["uri:spiffe://example.org/ops/*"]
 * rules:
 *   - id: kv-clients
 *     principals: ["group:ops", "dns:client.example.org"]
 *     calls: ["kv:get/1", "kv:put/2"]
 *     sends: [kv_server]
 *     atoms: [get, put]
 *     limits: {rate_per_second: 100, concurrency: 16, timeout_ms: 5000,
 *              max_arg_bytes: 65536, max_result_bytes: 1048576, max_depth: 32}
 *     allow_pids: false
 *     permissive: false
 *     unsafe: false
 *     idempotent: false          # true: its calls may run twice (clients may retry them)
 * </pre>
 */
public final class PolicyFile {
  private static final Set<String> TOP = Set.of("version", "atom_budget",
      "atom_budget_per_principal", "groups", "rules");
  private static final Set<String> RULE = Set.of("id", "principals", "calls", "sends", "atoms",
      "limits", "allow_pids", "allow_refs", "permissive", "unsafe", "idempotent",
      "shadow"); // shadow: the old name of permissive, refused with a hint
  private static final Set<String> LIMITS = Set.of("rate_per_second", "concurrency",
      "timeout_ms", "max_arg_bytes", "max_result_bytes", "max_depth");

  private final String file;
  private final StrictYaml yaml;
  /** Warnings for an admin (unsafe entries), filled while loading. */
  private final List<String> warnings = new ArrayList<>();
  /**
   * Every error found so far, {@code file:line: key: message}: reading goes on past an error
   * (to the next rule, group or entry) so that one run reports them all.
   */
  private final List<String> errors = new ArrayList<>();
  /** Groups with an error of their own: rules naming them are skipped, not blamed again. */
  private final Set<String> brokenGroups = new HashSet<>();

  private PolicyFile(String file) {
    this.file = file;
    this.yaml = new StrictYaml(file);
  }

  /** A loaded policy and what an admin should know about it. */
  public record Loaded(Policy policy, List<String> warnings) {}

  public static Loaded load(Path path) throws PolicyException, IOException {
    PolicyFile pf = new PolicyFile(path.toString());
    try {
      StrictYaml.checkNotWritableByOthers(path);
    } catch (ConfigException e) {
      pf.errors.add(e.getMessage()); // and read on: the file's own errors are news too
    }
    return pf.load(Files.readString(path, StandardCharsets.UTF_8));
  }

  /**
   * Reads a policy; when it cannot be used, the exception lists every error found (see
   * {@link PolicyException#problems()}) and the warnings so far.
   */
  public static Loaded parse(String name, String text) throws PolicyException {
    return new PolicyFile(name).load(text);
  }

  private Loaded load(String text) throws PolicyException {
    Policy p = null;
    try {
      p = policy(text);
    } catch (ConfigException e) {
      errors.add(e.getMessage()); // past this one, nothing more can be read
    }
    if (!errors.isEmpty()) {
      throw new PolicyException(file, errors, warnings);
    }
    return new Loaded(p, List.copyOf(warnings));
  }

  /** Records what {@code step} throws, so that reading goes on; false when it threw. */
  private boolean recorded(Step step) {
    try {
      step.run();
      return true;
    } catch (ConfigException e) {
      errors.add(e.getMessage());
      return false;
    }
  }

  private interface Step {
    void run() throws ConfigException;
  }

  private Policy policy(String text) throws ConfigException {
    Node root = yaml.root(text, "policy (a policy must allow something)");
    Map<String, Node> top = yaml.mapping(root, "policy", TOP);
    recorded(() -> {
      int version = yaml.integer(top, "version", root, 1, 1, true);
      if (version != 1) {
        throw yaml.err(top.get("version"), "version", version + " (expected: 1)");
      }
    });
    int[] budget = {10_000};
    recorded(() -> budget[0] = yaml.integer(top, "atom_budget", root, 10_000, 0, false));
    int[] share = {io.beamgate.security.guard.AtomBudget.defaultShare(budget[0])};
    recorded(() -> {
      share[0] = yaml.integer(top, "atom_budget_per_principal", root, share[0], 0, false);
      if (share[0] > budget[0]) {
        throw yaml.err(top.get("atom_budget_per_principal"), "atom_budget_per_principal",
            share[0] + " (expected: <= atom_budget, " + budget[0] + ")");
      }
    });
    Map<String, List<PrincipalMatcher>> groups = new HashMap<>();
    if (top.containsKey("groups")) {
      recorded(() -> groups(top.get("groups"), groups));
    }
    Node rulesNode = top.get("rules");
    if (rulesNode == null) {
      throw yaml.err(root, "rules", "missing (a policy must allow something)");
    }
    List<Rule> rules = new ArrayList<>();
    List<Integer> lines = new ArrayList<>();
    Map<String, Integer> ids = new HashMap<>();
    List<Node> ruleNodes = yaml.sequence(rulesNode, "rules");
    for (Node rn : ruleNodes) {
      Rule[] r = new Rule[1];
      if (!recorded(() -> r[0] = rule(rn, groups)) || r[0] == null) {
        continue;
      }
      Integer first = ids.putIfAbsent(r[0].id(), StrictYaml.line(rn));
      if (first != null) {
        errors.add(yaml.err(rn, "id", "duplicate rule id '" + r[0].id() + "' (first at line "
            + first + ")").getMessage());
        continue;
      }
      rules.add(r[0]);
      lines.add(StrictYaml.line(rn));
    }
    if (ruleNodes.isEmpty()) {
      throw yaml.err(rulesNode, "rules", "empty (a policy must allow something)");
    }
    warnings.addAll(PolicyLint.sameRules(file, rules, lines));
    return new Policy(rules, budget[0], share[0]);
  }

  /** groups: name to principal rules; each bad entry is an error, the others are read. */
  private void groups(Node n, Map<String, List<PrincipalMatcher>> groups)
      throws ConfigException {
    for (Map.Entry<String, Node> e : yaml.mapping(n, "groups", null).entrySet()) {
      List<PrincipalMatcher> ms = new ArrayList<>();
      groups.put(e.getKey(), ms);
      int errorsBefore = errors.size();
      recorded(() -> {
        for (Node item : yaml.sequence(e.getValue(), "groups." + e.getKey())) {
          recorded(() -> ms.add(matcher(item, "groups." + e.getKey())));
        }
      });
      if (errors.size() > errorsBefore) {
        brokenGroups.add(e.getKey());
      }
    }
  }

  private Rule rule(Node n, Map<String, List<PrincipalMatcher>> groups) throws ConfigException {
    Map<String, Node> m = yaml.mapping(n, "rule", RULE);
    String id = yaml.string(m, "id", n, true);
    String where = "rule '" + id + "'";
    List<PrincipalMatcher> principals = new ArrayList<>();
    int errorsBefore = errors.size();
    boolean[] brokenGroup = {false};
    Node pn = yaml.required(m, "principals", n, where);
    for (Node item : yaml.sequence(pn, where + " principals")) {
      recorded(() -> {
        String s = yaml.scalar(item, "principals");
        if (s.startsWith("group:") && brokenGroups.contains(s.substring(6))) {
          brokenGroup[0] = true; // its error is recorded at the group
        } else if (s.startsWith("group:")) {
          List<PrincipalMatcher> g = groups.get(s.substring(6));
          if (g == null) {
            throw yaml.err(item, "principals", "unknown group '" + s.substring(6) + "'");
          }
          principals.addAll(g);
        } else {
          principals.add(matcher(item, "principals"));
        }
      });
    }
    if (principals.isEmpty() && errors.size() == errorsBefore && !brokenGroup[0]) {
      throw yaml.err(pn, "principals", "empty: the rule would name nobody");
    }
    boolean unsafe = yaml.bool(m, "unsafe", false);
    List<CallPattern> calls = new ArrayList<>();
    if (m.containsKey("calls")) {
      for (Node item : yaml.sequence(m.get("calls"), where + " calls")) {
        CallPattern c;
        try {
          c = CallPattern.parse(yaml.scalar(item, "calls"));
        } catch (IllegalArgumentException e) {
          throw yaml.err(item, "calls", e.getMessage());
        }
        Capabilities.Admission a = Capabilities.admission(c);
        String hint = c.isExact() ? " (see docs/admin-guide.md, calls and unsafe)"
            : " (name the functions you need as module:function/arity; see"
            + " docs/admin-guide.md, calls and unsafe)";
        if (a.need() == Capabilities.Need.REFUSED) {
          throw yaml.err(item, "calls", a.reason() + hint);
        }
        if (a.need() == Capabilities.Need.UNSAFE) {
          if (!unsafe) {
            throw yaml.err(item, "calls", a.reason() + "; allowing it needs unsafe: true on"
                + " the rule" + hint);
          }
          warnings.add(file + ":" + StrictYaml.line(item) + ": rule '" + id + "' allows " + c
              + (c.isExact() ? ", a denied function (unsafe): " : ", an unsafe wildcard: ")
              + a.reason());
        }
        calls.add(c);
      }
    }
    Set<String> sends = new LinkedHashSet<>();
    if (m.containsKey("sends")) {
      for (Node item : yaml.sequence(m.get("sends"), where + " sends")) {
        String name = yaml.scalar(item, "sends");
        sends.add(name);
        String risk = PolicyLint.sendRisk(name);
        if (risk != null) {
          warnings.add(file + ":" + StrictYaml.line(item) + ": sends: rule '" + id
              + "' allows sends to " + name + ", " + risk);
        }
      }
    }
    if (calls.isEmpty() && sends.isEmpty()) {
      throw yaml.err(n, "calls", where + " allows nothing (give calls or sends)");
    }
    Set<String> atoms = new LinkedHashSet<>();
    if (m.containsKey("atoms")) {
      for (Node item : yaml.sequence(m.get("atoms"), where + " atoms")) {
        atoms.add(yaml.scalar(item, "atoms"));
      }
    }
    Rule.Limits limits = Rule.Limits.DEFAULTS;
    GuardRule guard = GuardRule.DEFAULTS.withAtoms(atoms)
        .withPids(yaml.bool(m, "allow_pids", false)).withRefs(yaml.bool(m, "allow_refs", false));
    if (m.containsKey("limits")) {
      Map<String, Node> l = yaml.mapping(m.get("limits"), "limits", LIMITS);
      limits = new Rule.Limits(
          yaml.integer(l, "rate_per_second", n, limits.ratePerSecond(), 1, false),
          yaml.integer(l, "concurrency", n, limits.concurrency(), 1, false),
          yaml.integer(l, "timeout_ms", n, (int) limits.timeoutMillis(), 1, false),
          yaml.integer(l, "max_result_bytes", n, (int) limits.maxResultBytes(), 1, false));
      guard = guard.withMaxBytes(yaml.integer(l, "max_arg_bytes", n, (int) guard.maxBytes(), 1,
          false)).withMaxDepth(yaml.integer(l, "max_depth", n, guard.maxDepth(), 1, false));
    }
    if (m.containsKey("shadow")) {
      // Envoy's shadow rules never change a decision; ours allowed what it would deny, so an
      // operator reading "shadow" would expect the opposite of what it does.
      throw yaml.err(m.get("shadow"), "shadow", "renamed permissive (write permissive: true):"
          + " such a rule allows what it would deny and records it, unlike Envoy's shadow"
          + " rules, which never change a decision");
    }
    boolean permissive = yaml.bool(m, "permissive", false);
    boolean idempotent = yaml.bool(m, "idempotent", false);
    if (idempotent) {
      warnings.addAll(PolicyLint.idempotent(file + ":" + StrictYaml.line(m.get("idempotent")),
          id, calls, sends));
    }
    if (errors.size() > errorsBefore || brokenGroup[0]) {
      return null; // its principals' errors are recorded
    }
    return new Rule(id, principals, calls, sends, limits, guard, permissive, unsafe,
        idempotent);
  }

  /** One principal rule; a very broad prefix is a warning at its line. */
  private PrincipalMatcher matcher(Node item, String key) throws ConfigException {
    PrincipalMatcher pm;
    try {
      pm = PrincipalMatcher.parse(yaml.scalar(item, key));
    } catch (IllegalArgumentException e) {
      throw yaml.err(item, key, e.getMessage());
    }
    String broad = pm.breadth();
    if (broad != null) {
      warnings.add(file + ":" + StrictYaml.line(item) + ": " + key + ": '" + pm + "' " + broad
          + "; name the principals this rule is for more narrowly");
    }
    return pm;
  }

}
