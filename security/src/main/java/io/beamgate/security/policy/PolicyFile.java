package io.beamgate.security.policy;

import io.beamgate.security.guard.GuardRule;
import io.beamgate.security.identity.PrincipalMatcher;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.snakeyaml.engine.v2.api.LoadSettings;
import org.snakeyaml.engine.v2.api.lowlevel.Compose;
import org.snakeyaml.engine.v2.exceptions.YamlEngineException;
import org.snakeyaml.engine.v2.nodes.MappingNode;
import org.snakeyaml.engine.v2.nodes.Node;
import org.snakeyaml.engine.v2.nodes.NodeTuple;
import org.snakeyaml.engine.v2.nodes.ScalarNode;
import org.snakeyaml.engine.v2.nodes.SequenceNode;

/**
 * Reads a policy file: strict YAML where unknown keys, wrong types, duplicate keys and missing
 * required fields are errors naming the file, line and key. See docs/admin-guide.md.
 *
 * <pre>
 * version: 1
 * atom_budget: 10000            # distinct new atoms ever forwarded (default 10000)
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
  private static final Set<String> TOP = Set.of("version", "atom_budget", "groups", "rules");
  private static final Set<String> RULE = Set.of("id", "principals", "calls", "sends", "atoms",
      "limits", "allow_pids", "allow_refs", "shadow", "unsafe");
  private static final Set<String> LIMITS = Set.of("rate_per_second", "concurrency",
      "timeout_ms", "max_arg_bytes", "max_result_bytes", "max_depth");

  private final String file;
  /** Warnings for an admin (unsafe entries), filled while loading. */
  private final List<String> warnings = new ArrayList<>();

  private PolicyFile(String file) {
    this.file = file;
  }

  /** A loaded policy and what an admin should know about it. */
  public record Loaded(Policy policy, List<String> warnings) {}

  public static Loaded load(Path path) throws PolicyException, IOException {
    checkNotWritableByOthers(path);
    return parse(path.toString(), Files.readString(path, StandardCharsets.UTF_8));
  }

  public static Loaded parse(String name, String yaml) throws PolicyException {
    PolicyFile pf = new PolicyFile(name);
    Policy p = pf.policy(yaml);
    return new Loaded(p, List.copyOf(pf.warnings));
  }

  static void checkNotWritableByOthers(Path path) throws PolicyException, IOException {
    try {
      Set<PosixFilePermission> perms = Files.getPosixFilePermissions(path);
      if (perms.contains(PosixFilePermission.GROUP_WRITE)
          || perms.contains(PosixFilePermission.OTHERS_WRITE)) {
        throw new PolicyException(path + ": writable by group or others (mode "
            + java.nio.file.attribute.PosixFilePermissions.toString(perms)
            + "); refusing a policy anyone else could change (chmod go-w)");
      }
    } catch (UnsupportedOperationException e) {
      // not a POSIX file system
    }
  }

  private PolicyException err(Node n, String key, String msg) {
    int line = n == null ? 0 : n.getStartMark().map(m -> m.getLine() + 1).orElse(0);
    return new PolicyException(file + ":" + line + ": " + (key == null ? "" : key + ": ")
        + msg);
  }

  private Policy policy(String yaml) throws PolicyException {
    Optional<Node> root;
    try {
      root = new Compose(LoadSettings.builder().setLabel(file).build()).composeString(yaml);
    } catch (YamlEngineException e) {
      throw new PolicyException(file + ": not valid YAML: " + e.getMessage());
    }
    if (root.isEmpty()) {
      throw new PolicyException(file + ": empty policy (a policy must allow something)");
    }
    Map<String, Node> top = mapping(root.get(), "policy", TOP);
    int version = integer(top, "version", null, 1, 1, true);
    int budget = integer(top, "atom_budget", null, 10_000, 0, false);
    Map<String, List<PrincipalMatcher>> groups = new HashMap<>();
    if (top.containsKey("groups")) {
      Map<String, Node> g = mapping(top.get("groups"), "groups", null);
      for (Map.Entry<String, Node> e : g.entrySet()) {
        List<PrincipalMatcher> ms = new ArrayList<>();
        for (Node item : sequence(e.getValue(), "groups." + e.getKey())) {
          ms.add(matcher(item, "groups." + e.getKey()));
        }
        groups.put(e.getKey(), ms);
      }
    }
    Node rulesNode = top.get("rules");
    if (rulesNode == null) {
      throw err(root.get(), "rules", "missing (a policy must allow something)");
    }
    List<Rule> rules = new ArrayList<>();
    Set<String> ids = new HashSet<>();
    for (Node rn : sequence(rulesNode, "rules")) {
      Rule r = rule(rn, groups);
      if (!ids.add(r.id())) {
        throw err(rn, "id", "duplicate rule id '" + r.id() + "'");
      }
      rules.add(r);
    }
    if (rules.isEmpty()) {
      throw err(rulesNode, "rules", "empty (a policy must allow something)");
    }
    return new Policy(rules, budget);
  }

  private Rule rule(Node n, Map<String, List<PrincipalMatcher>> groups) throws PolicyException {
    Map<String, Node> m = mapping(n, "rule", RULE);
    String id = string(m, "id", n, true);
    String where = "rule '" + id + "'";
    List<PrincipalMatcher> principals = new ArrayList<>();
    Node pn = required(m, "principals", n, where);
    for (Node item : sequence(pn, where + " principals")) {
      String s = scalar(item, "principals");
      if (s.startsWith("group:")) {
        List<PrincipalMatcher> g = groups.get(s.substring(6));
        if (g == null) {
          throw err(item, "principals", "unknown group '" + s.substring(6) + "'");
        }
        principals.addAll(g);
      } else {
        principals.add(matcher(item, "principals"));
      }
    }
    if (principals.isEmpty()) {
      throw err(pn, "principals", "empty: the rule would name nobody");
    }
    boolean unsafe = bool(m, "unsafe", false);
    List<CallPattern> calls = new ArrayList<>();
    if (m.containsKey("calls")) {
      for (Node item : sequence(m.get("calls"), where + " calls")) {
        CallPattern c;
        try {
          c = CallPattern.parse(scalar(item, "calls"));
        } catch (IllegalArgumentException e) {
          throw err(item, "calls", e.getMessage());
        }
        String denied = c.function().equals(CallPattern.ANY_FUNCTION)
            ? (DenyList.MODULES.contains(c.module()) ? "module " + c.module()
                + " is on the built-in deny-list" : null)
            : DenyList.reason(c.module(), c.function(), c.arity());
        if (denied != null) {
          if (!c.isExact()) {
            throw err(item, "calls", "'" + c + "': " + denied + "; a wildcard never covers"
                + " it (name module:function/arity exactly, with unsafe: true, if you must)");
          }
          if (!unsafe) {
            throw err(item, "calls", "'" + c + "': " + denied
                + "; allowing it needs unsafe: true on the rule");
          }
          warnings.add(file + ":" + line(item) + ": rule '" + id + "' allows " + c
              + ", which is on the built-in deny-list (unsafe)");
        }
        calls.add(c);
      }
    }
    Set<String> sends = new LinkedHashSet<>();
    if (m.containsKey("sends")) {
      for (Node item : sequence(m.get("sends"), where + " sends")) {
        sends.add(scalar(item, "sends"));
      }
    }
    if (calls.isEmpty() && sends.isEmpty()) {
      throw err(n, "calls", where + " allows nothing (give calls or sends)");
    }
    Set<String> atoms = new LinkedHashSet<>();
    if (m.containsKey("atoms")) {
      for (Node item : sequence(m.get("atoms"), where + " atoms")) {
        atoms.add(scalar(item, "atoms"));
      }
    }
    Rule.Limits limits = Rule.Limits.DEFAULTS;
    GuardRule guard = GuardRule.DEFAULTS.withAtoms(atoms)
        .withPids(bool(m, "allow_pids", false)).withRefs(bool(m, "allow_refs", false));
    if (m.containsKey("limits")) {
      Map<String, Node> l = mapping(m.get("limits"), "limits", LIMITS);
      limits = new Rule.Limits(
          integer(l, "rate_per_second", n, limits.ratePerSecond(), 1, false),
          integer(l, "concurrency", n, limits.concurrency(), 1, false),
          integer(l, "timeout_ms", n, (int) limits.timeoutMillis(), 1, false),
          integer(l, "max_result_bytes", n, (int) limits.maxResultBytes(), 1, false));
      guard = guard.withMaxBytes(integer(l, "max_arg_bytes", n, (int) guard.maxBytes(), 1,
          false)).withMaxDepth(integer(l, "max_depth", n, guard.maxDepth(), 1, false));
    }
    return new Rule(id, principals, calls, sends, limits, guard, bool(m, "shadow", false),
        unsafe);
  }

  private PrincipalMatcher matcher(Node item, String key) throws PolicyException {
    try {
      return PrincipalMatcher.parse(scalar(item, key));
    } catch (IllegalArgumentException e) {
      throw err(item, key, e.getMessage());
    }
  }

  private static int line(Node n) {
    return n.getStartMark().map(m -> m.getLine() + 1).orElse(0);
  }

  /** A mapping's entries by key; duplicate keys, non-string keys and unknown keys refused. */
  private Map<String, Node> mapping(Node n, String what, Set<String> allowed)
      throws PolicyException {
    if (!(n instanceof MappingNode mn)) {
      throw err(n, what, "expected a mapping (key: value)");
    }
    Map<String, Node> out = new LinkedHashMap<>();
    for (NodeTuple t : mn.getValue()) {
      if (!(t.getKeyNode() instanceof ScalarNode k)) {
        throw err(t.getKeyNode(), what, "keys must be plain names");
      }
      String key = k.getValue();
      if (allowed != null && !allowed.contains(key)) {
        throw err(k, key, "unknown key in " + what + " (expected one of "
            + new java.util.TreeSet<>(allowed) + ")");
      }
      if (out.put(key, t.getValueNode()) != null) {
        throw err(k, key, "duplicate key in " + what);
      }
    }
    return out;
  }

  private List<Node> sequence(Node n, String what) throws PolicyException {
    if (!(n instanceof SequenceNode sn)) {
      throw err(n, what, "expected a list");
    }
    return sn.getValue();
  }

  private String scalar(Node n, String key) throws PolicyException {
    if (!(n instanceof ScalarNode s)) {
      throw err(n, key, "expected a single value, not a list or mapping");
    }
    return s.getValue();
  }

  private Node required(Map<String, Node> m, String key, Node parent, String where)
      throws PolicyException {
    Node n = m.get(key);
    if (n == null) {
      throw err(parent, key, "missing in " + where);
    }
    return n;
  }

  private String string(Map<String, Node> m, String key, Node parent, boolean required)
      throws PolicyException {
    Node n = m.get(key);
    if (n == null) {
      if (required) {
        throw err(parent, key, "missing");
      }
      return null;
    }
    String s = scalar(n, key);
    if (s.isBlank()) {
      throw err(n, key, "empty");
    }
    return s;
  }

  private boolean bool(Map<String, Node> m, String key, boolean dflt) throws PolicyException {
    Node n = m.get(key);
    if (n == null) {
      return dflt;
    }
    String s = scalar(n, key);
    if (s.equals("true")) {
      return true;
    }
    if (s.equals("false")) {
      return false;
    }
    throw err(n, key, "'" + s + "' (expected: true or false)");
  }

  private int integer(Map<String, Node> m, String key, Node parent, int dflt, int min,
      boolean required) throws PolicyException {
    Node n = m.get(key);
    if (n == null) {
      if (required) {
        throw err(parent, key, "missing");
      }
      return dflt;
    }
    String s = scalar(n, key);
    try {
      int v = Integer.parseInt(s);
      if (v < min) {
        throw err(n, key, v + " (expected: >= " + min + ")");
      }
      if (key.equals("version") && v != 1) {
        throw err(n, key, v + " (expected: 1)");
      }
      return v;
    } catch (NumberFormatException e) {
      throw err(n, key, "'" + s + "' (expected: a whole number)");
    }
  }
}
