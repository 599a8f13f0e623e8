package io.beamgate.security.policy;

import io.beamgate.security.config.ConfigException;
import io.beamgate.security.config.StrictYaml;
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
 *     shadow: false
 *     unsafe: false
 * </pre>
 */
public final class PolicyFile {
  private static final Set<String> TOP = Set.of("version", "atom_budget",
      "atom_budget_per_principal", "groups", "rules");
  private static final Set<String> RULE = Set.of("id", "principals", "calls", "sends", "atoms",
      "limits", "allow_pids", "allow_refs", "shadow", "unsafe");
  private static final Set<String> LIMITS = Set.of("rate_per_second", "concurrency",
      "timeout_ms", "max_arg_bytes", "max_result_bytes", "max_depth");

  private final String file;
  private final StrictYaml yaml;
  /** Warnings for an admin (unsafe entries), filled while loading. */
  private final List<String> warnings = new ArrayList<>();

  private PolicyFile(String file) {
    this.file = file;
    this.yaml = new StrictYaml(file);
  }

  /** A loaded policy and what an admin should know about it. */
  public record Loaded(Policy policy, List<String> warnings) {}

  public static Loaded load(Path path) throws PolicyException, IOException {
    try {
      StrictYaml.checkNotWritableByOthers(path);
    } catch (ConfigException e) {
      throw new PolicyException(e.getMessage());
    }
    return parse(path.toString(), Files.readString(path, StandardCharsets.UTF_8));
  }

  public static Loaded parse(String name, String text) throws PolicyException {
    PolicyFile pf = new PolicyFile(name);
    try {
      Policy p = pf.policy(text);
      return new Loaded(p, List.copyOf(pf.warnings));
    } catch (ConfigException e) {
      throw new PolicyException(e.getMessage());
    }
  }

  private Policy policy(String text) throws ConfigException {
    Node root = yaml.root(text, "policy (a policy must allow something)");
    Map<String, Node> top = yaml.mapping(root, "policy", TOP);
    int version = yaml.integer(top, "version", root, 1, 1, true);
    if (version != 1) {
      throw yaml.err(top.get("version"), "version", version + " (expected: 1)");
    }
    int budget = yaml.integer(top, "atom_budget", root, 10_000, 0, false);
    int share = yaml.integer(top, "atom_budget_per_principal", root,
        io.beamgate.security.guard.AtomBudget.defaultShare(budget), 0, false);
    if (share > budget) {
      throw yaml.err(top.get("atom_budget_per_principal"), "atom_budget_per_principal",
          share + " (expected: <= atom_budget, " + budget + ")");
    }
    Map<String, List<PrincipalMatcher>> groups = new HashMap<>();
    if (top.containsKey("groups")) {
      Map<String, Node> g = yaml.mapping(top.get("groups"), "groups", null);
      for (Map.Entry<String, Node> e : g.entrySet()) {
        List<PrincipalMatcher> ms = new ArrayList<>();
        for (Node item : yaml.sequence(e.getValue(), "groups." + e.getKey())) {
          ms.add(matcher(item, "groups." + e.getKey()));
        }
        groups.put(e.getKey(), ms);
      }
    }
    Node rulesNode = top.get("rules");
    if (rulesNode == null) {
      throw yaml.err(root, "rules", "missing (a policy must allow something)");
    }
    List<Rule> rules = new ArrayList<>();
    Set<String> ids = new HashSet<>();
    for (Node rn : yaml.sequence(rulesNode, "rules")) {
      Rule r = rule(rn, groups);
      if (!ids.add(r.id())) {
        throw yaml.err(rn, "id", "duplicate rule id '" + r.id() + "'");
      }
      rules.add(r);
    }
    if (rules.isEmpty()) {
      throw yaml.err(rulesNode, "rules", "empty (a policy must allow something)");
    }
    return new Policy(rules, budget, share);
  }

  private Rule rule(Node n, Map<String, List<PrincipalMatcher>> groups) throws ConfigException {
    Map<String, Node> m = yaml.mapping(n, "rule", RULE);
    String id = yaml.string(m, "id", n, true);
    String where = "rule '" + id + "'";
    List<PrincipalMatcher> principals = new ArrayList<>();
    Node pn = yaml.required(m, "principals", n, where);
    for (Node item : yaml.sequence(pn, where + " principals")) {
      String s = yaml.scalar(item, "principals");
      if (s.startsWith("group:")) {
        List<PrincipalMatcher> g = groups.get(s.substring(6));
        if (g == null) {
          throw yaml.err(item, "principals", "unknown group '" + s.substring(6) + "'");
        }
        principals.addAll(g);
      } else {
        principals.add(matcher(item, "principals"));
      }
    }
    if (principals.isEmpty()) {
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
        sends.add(yaml.scalar(item, "sends"));
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
    return new Rule(id, principals, calls, sends, limits, guard, yaml.bool(m, "shadow", false),
        unsafe);
  }

  private PrincipalMatcher matcher(Node item, String key) throws ConfigException {
    try {
      return PrincipalMatcher.parse(yaml.scalar(item, key));
    } catch (IllegalArgumentException e) {
      throw yaml.err(item, key, e.getMessage());
    }
  }

}
