package io.beamgate.security.policy;

import io.beamgate.security.policy.Capabilities.Admission;
import io.beamgate.security.policy.Capabilities.Need;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * The capability table as read from {@code capabilities.txt} (format in the file's header):
 * which modules are denied whole, which are classified function by function, and the verdict
 * of each listed function. Read once; a malformed table is an error at class load, never a
 * silently shorter table.
 */
record CapabilityTable(Map<String, String> categories, Map<String, ModuleEntry> modules,
    Map<Function, Map<Integer, String>> arities, Map<Function, String> anyArity) {

  static final String RESOURCE = "capabilities.txt";
  static final String SAFE = "safe";

  /** A module that is not left to the policy: denied whole, or classified per function. */
  record ModuleEntry(String module, boolean perFunction, String category, String why) {}

  /** A function of a module, any arity (a record key: names may hold ':' or '/'). */
  record Function(String module, String name) {}

  /**
   * {@code arities} maps a function to the verdict of each listed arity ({@code safe} or a
   * category); {@code anyArity} maps a function to the category denying every arity.
   */
  CapabilityTable {
    categories = Map.copyOf(categories);
    modules = Map.copyOf(modules);
    Map<Function, Map<Integer, String>> copy = new HashMap<>();
    arities.forEach((k, v) -> copy.put(k, Map.copyOf(v)));
    arities = Map.copyOf(copy);
    anyArity = Map.copyOf(anyArity);
  }

  /** The verdict for one function: {@code safe}, a category, or null when not listed. */
  String verdict(String module, String function, int arity) {
    Function f = new Function(module, function);
    String v = arities.getOrDefault(f, Map.of()).get(arity);
    return v != null ? v : anyArity.get(f);
  }

  /**
   * Is {@code module:function/arity} denied? True for every function of a module denied
   * whole, for every export of a classified module that the table does not call safe
   * (unknown ones included), and for the single functions the table denies elsewhere. A
   * denied function is allowed only by naming it exactly in a rule with {@code unsafe: true}.
   */
  boolean denied(String module, String function, int arity) {
    ModuleEntry m = modules.get(module);
    String v = verdict(module, function, arity);
    if (m == null) {
      return v != null; // left to the policy: only what the table names is denied
    }
    return !m.perFunction() || !SAFE.equals(v);
  }

  /**
   * Why {@code module:function/arity} is denied, or null when it is not: the function, then
   * the category and what it lets a caller do, for example {@code erlang:send_nosuspend/2 is
   * denied (send: sends a message to any process, ...)}.
   */
  String reason(String module, String function, int arity) {
    if (!denied(module, function, arity)) {
      return null;
    }
    String mfa = new CallPattern(module, function, arity).toString();
    ModuleEntry m = modules.get(module);
    if (m != null && !m.perFunction()) {
      // Starts with the module, as the deny-list's reasons did (clients and tests match it).
      return "module " + CallPattern.quote(module) + " is denied whole (" + m.category() + ": "
          + m.why() + ")";
    }
    String category = verdict(module, function, arity);
    if (category == null) {
      return mfa + " is denied (unclassified: module " + CallPattern.quote(module) + " is"
          + " classified function by function and this function is not classified safe;"
          + " unknown functions are denied)";
    }
    return mfa + " is denied (" + describe(category) + ")";
  }

  private String describe(String category) {
    return category + ": " + categories.get(category);
  }

  /** See {@link Capabilities#admission}. */
  Admission admission(CallPattern c) {
    String shown = "'" + c + "'";
    if (c.isExact()) {
      String why = reason(c.module(), c.function(), c.arity());
      return why == null ? new Admission(Need.NOTHING, null) : new Admission(Need.UNSAFE, why);
    }
    String module = CallPattern.quote(c.module());
    ModuleEntry m = modules.get(c.module());
    if (m != null && !m.perFunction()) {
      return new Admission(Need.REFUSED, shown + " covers nothing: module " + module
          + " is denied whole (" + m.category() + ": " + m.why()
          + "), and a wildcard never covers a denied function");
    }
    if (c.isModuleWildcard()) {
      if (m == null) {
        return new Admission(Need.NOTHING, null);
      }
      return new Admission(Need.UNSAFE, shown + " is a wildcard over module " + module
          + ", which is dangerous (" + m.why() + "); it covers only the " + safeCount(c.module())
          + " functions the capability table classifies safe");
    }
    Set<Integer> safeArities = listedArities(c.module(), c.function(), true);
    String everyArity = anyArity.get(new Function(c.module(), c.function()));
    if (everyArity != null || m != null && safeArities.isEmpty()) {
      String category = everyArity != null ? describe(everyArity)
          : "no arity of it is classified safe in module " + module;
      return new Admission(Need.REFUSED, shown + " covers nothing: every arity is denied ("
          + category + "), and a wildcard never covers a denied function");
    }
    Set<Integer> deniedArities = listedArities(c.module(), c.function(), false);
    if (!deniedArities.isEmpty()) {
      return new Admission(Need.UNSAFE, shown + " matches denied arities " + deniedArities
          + "; it covers only the safe ones " + new TreeSet<>(safeArities));
    }
    return new Admission(Need.NOTHING, null);
  }

  /**
   * Can a non-exact pattern cover anything without {@code unsafe}? For the call path, where
   * rules built in code (not loaded from a file) must not do what a file could not.
   */
  boolean wildcardNeedsUnsafe(CallPattern c) {
    if (c.isModuleWildcard()) {
      return modules.containsKey(c.module());
    }
    return !listedArities(c.module(), c.function(), false).isEmpty();
  }

  /** The listed arities of a function classified safe ({@code safe}) or denied (not). */
  private Set<Integer> listedArities(String module, String function, boolean safe) {
    Set<Integer> out = new TreeSet<>();
    arities.getOrDefault(new Function(module, function), Map.of()).forEach((a, v) -> {
      if (SAFE.equals(v) == safe) {
        out.add(a);
      }
    });
    return out;
  }

  private long safeCount(String module) {
    return arities.entrySet().stream().filter(e -> e.getKey().module().equals(module))
        .mapToLong(e -> e.getValue().values().stream().filter(SAFE::equals)
            .count()).sum();
  }

  static CapabilityTable load() {
    try (InputStream in = CapabilityTable.class.getResourceAsStream(RESOURCE)) {
      if (in == null) {
        throw new IllegalStateException(RESOURCE + ": missing from the classpath"
            + " (expected: beside " + CapabilityTable.class.getName() + ")");
      }
      return parse(new String(in.readAllBytes(), StandardCharsets.UTF_8));
    } catch (IOException e) {
      throw new UncheckedIOException(RESOURCE + ": " + e.getMessage(), e);
    }
  }

  /** Parses a table; throws IllegalArgumentException naming the line of the first problem. */
  static CapabilityTable parse(String text) {
    Map<String, String> categories = new HashMap<>();
    Map<String, ModuleEntry> modules = new HashMap<>();
    Map<Function, Map<Integer, String>> arities = new HashMap<>();
    Map<Function, String> anyArity = new HashMap<>();
    int lineNo = 0;
    try (BufferedReader r = new BufferedReader(new java.io.StringReader(text))) {
      for (String line; (line = r.readLine()) != null; ) {
        lineNo++;
        String l = line.strip();
        if (l.isEmpty() || l.startsWith("#")) {
          continue;
        }
        String[] w = l.split("\\s+", 4);
        String where = RESOURCE + ":" + lineNo + ": ";
        switch (w[0]) {
          case "category" -> {
            need(w, 3, where, "category <name> <what it lets a caller do>");
            if (w[1].equals(SAFE) || categories.put(w[1], rest(l, 2)) != null) {
              throw new IllegalArgumentException(where + "category " + w[1]
                  + ": duplicate or reserved (expected: a new name, not 'safe')");
            }
          }
          case "deny-module", "per-function" -> {
            boolean perFunction = w[0].equals("per-function");
            need(w, perFunction ? 3 : 4, where, perFunction ? "per-function <module> <why>"
                : "deny-module <module> <category> <why>");
            String module = moduleName(w[1], where);
            String category = perFunction ? null : category(categories, w[2], where);
            String why = perFunction ? rest(l, 2) : rest(l, 3);
            if (modules.put(module, new ModuleEntry(module, perFunction, category, why))
                != null) {
              throw new IllegalArgumentException(where + "module " + w[1] + ": listed twice");
            }
          }
          default -> {
            need(w, 2, where, "<module>:<function>[/<arity>] <safe or category>");
            function(w[0], w[1], where, categories, modules, arities, anyArity);
          }
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return new CapabilityTable(categories, modules, arities, anyArity);
  }

  private static void function(String pattern, String verdict, String where,
      Map<String, String> categories, Map<String, ModuleEntry> modules,
      Map<Function, Map<Integer, String>> arities, Map<Function, String> anyArity) {
    CallPattern c;
    try {
      c = CallPattern.parse(pattern, true);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(where + e.getMessage());
    }
    if (c.isModuleWildcard()) {
      throw new IllegalArgumentException(where + pattern + ": a wildcard (expected:"
          + " deny-module or per-function for a whole module)");
    }
    ModuleEntry m = modules.get(c.module());
    if (m != null && !m.perFunction()) {
      throw new IllegalArgumentException(where + pattern + ": module " + c.module()
          + " is denied whole; its functions need no entry");
    }
    boolean isSafe = verdict.equals(SAFE);
    if (!isSafe) {
      category(categories, verdict, where);
    }
    if (c.arity() == CallPattern.ANY_ARITY) {
      if (isSafe || m != null) {
        throw new IllegalArgumentException(where + pattern + ": no arity (expected:"
            + " function/arity; only a denied function of a module left to the policy may"
            + " omit it)");
      }
      Function f = new Function(c.module(), c.function());
      if (anyArity.put(f, verdict) != null || arities.containsKey(f)) {
        throw new IllegalArgumentException(where + pattern + ": listed twice");
      }
      return;
    }
    if (isSafe && m == null) {
      throw new IllegalArgumentException(where + pattern + ": safe in module " + c.module()
          + ", which is left to the policy (expected: per-function " + c.module()
          + " first)");
    }
    Function f = new Function(c.module(), c.function());
    if (anyArity.containsKey(f)
        || arities.computeIfAbsent(f, k -> new HashMap<>()).put(c.arity(), verdict) != null) {
      throw new IllegalArgumentException(where + pattern + ": listed twice");
    }
  }

  private static String moduleName(String s, String where) {
    try {
      return CallPattern.parse(s + ":*").module();
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(where + "module " + s + ": " + e.getMessage());
    }
  }

  private static String category(Map<String, String> categories, String name, String where) {
    if (!categories.containsKey(name)) {
      throw new IllegalArgumentException(where + "category '" + name + "' is not declared"
          + " (expected: safe, or one of " + new java.util.TreeSet<>(categories.keySet())
          + ")");
    }
    return name;
  }

  private static void need(String[] w, int n, String where, String form) {
    if (w.length < n) {
      throw new IllegalArgumentException(where + "too few fields (expected: " + form + ")");
    }
  }

  /** The text after the first {@code n} fields of a line, as written. */
  private static String rest(String line, int n) {
    String s = line;
    for (int i = 0; i < n; i++) {
      s = s.strip();
      int sp = s.indexOf(' ');
      int tab = s.indexOf('\t');
      int cut = sp < 0 ? tab : tab < 0 ? sp : Math.min(sp, tab);
      s = cut < 0 ? "" : s.substring(cut);
    }
    return s.strip();
  }
}
