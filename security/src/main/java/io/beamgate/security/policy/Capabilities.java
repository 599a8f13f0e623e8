package io.beamgate.security.policy;

import io.beamgate.security.policy.CapabilityTable.Function;
import io.beamgate.security.policy.CapabilityTable.ModuleEntry;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * What a call can do to the cluster, from the capability table ({@code capabilities.txt}
 * beside this class): the one place that says whether a function is denied, whether a module
 * is dangerous, and what a {@code calls} pattern needs to load.
 *
 * <p>Capabilities, not a deny-list: a module whose functions send, signal, spawn, load code,
 * open ports or files, or read secrets is either denied whole or classified export by export,
 * and in a classified module whatever the table does not call {@code safe} is denied. A new
 * OTP release that adds an export therefore adds a denied function, never an open one (and a
 * test against the installed OTP lists it for review).
 *
 * <p>The gateway also asks {@link #dangerousModule} and {@link #denied} about {@code {M, F, A}}
 * terms found inside arguments and messages, so the answers must not depend on a policy.
 */
public final class Capabilities {
  private static final CapabilityTable TABLE = CapabilityTable.load();

  private Capabilities() {}

  /**
   * A module no wildcard may cover without {@code unsafe: true}: denied whole ({@code os},
   * {@code gen_server}, {@code 'Elixir.Task'}, ...) or classified function by function
   * ({@code erlang}, {@code timer}). An {@code {M, F, A}} term naming such a module is code a
   * server may run.
   */
  public static boolean dangerousModule(String module) {
    return TABLE.modules().containsKey(module);
  }

  /** Every function of the module is denied (module:* and module:function never load). */
  public static boolean deniedWhole(String module) {
    ModuleEntry m = TABLE.modules().get(module);
    return m != null && !m.perFunction();
  }

  /**
   * Is {@code module:function/arity} denied? True for every function of a module denied
   * whole, for every export of a classified module that the table does not call safe
   * (unknown ones included), and for the single functions the table denies elsewhere. A
   * denied function is allowed only by naming it exactly in a rule with {@code unsafe: true}.
   */
  public static boolean denied(String module, String function, int arity) {
    ModuleEntry m = TABLE.modules().get(module);
    String verdict = TABLE.verdict(module, function, arity);
    if (m == null) {
      return verdict != null; // left to the policy: only what the table names is denied
    }
    return !m.perFunction() || !CapabilityTable.SAFE.equals(verdict);
  }

  /**
   * Why {@code module:function/arity} is denied, or null when it is not: the function, then
   * the category and what it lets a caller do, for example {@code erlang:send_nosuspend/2 is
   * denied (send: sends a message to any process, ...)}.
   */
  public static String reason(String module, String function, int arity) {
    if (!denied(module, function, arity)) {
      return null;
    }
    String mfa = new CallPattern(module, function, arity).toString();
    ModuleEntry m = TABLE.modules().get(module);
    if (m != null && !m.perFunction()) {
      // Starts with the module, as the deny-list's reasons did (clients and tests match it).
      return "module " + CallPattern.quote(module) + " is denied whole (" + m.category() + ": "
          + m.why() + ")";
    }
    String category = TABLE.verdict(module, function, arity);
    if (category == null) {
      return mfa + " is denied (unclassified: module " + CallPattern.quote(module) + " is"
          + " classified function by function and this function is not classified safe;"
          + " unknown functions are denied)";
    }
    return mfa + " is denied (" + describe(category) + ")";
  }

  private static String describe(String category) {
    return category + ": " + TABLE.categories().get(category);
  }

  /** What a {@code calls} pattern needs before a policy may load it. */
  public enum Need {
    /** Loads in any rule. */
    NOTHING,
    /** Loads only in a rule with {@code unsafe: true}, with a warning. */
    UNSAFE,
    /** Never loads: it would cover nothing (every function it names is denied). */
    REFUSED
  }

  /** A pattern's need and, unless it needs nothing, why. */
  public record Admission(Need need, String reason) {}

  /**
   * What {@code c} needs to load. An exact denied function needs {@code unsafe}. A wildcard
   * never covers a denied function: {@code m:*} over a dangerous module needs {@code unsafe}
   * (it covers only the module's safe functions) or is refused when the module is denied
   * whole; {@code m:f} is refused when no arity of {@code f} is safe, and needs {@code unsafe}
   * when some are denied.
   */
  public static Admission admission(CallPattern c) {
    String shown = "'" + c + "'";
    if (c.isExact()) {
      String why = reason(c.module(), c.function(), c.arity());
      return why == null ? new Admission(Need.NOTHING, null) : new Admission(Need.UNSAFE, why);
    }
    String module = CallPattern.quote(c.module());
    ModuleEntry m = TABLE.modules().get(c.module());
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
    Set<Integer> safeArities = arities(c.module(), c.function(), true);
    String anyArity = TABLE.anyArity().get(new Function(c.module(), c.function()));
    if (anyArity != null || m != null && safeArities.isEmpty()) {
      String category = anyArity != null ? describe(anyArity)
          : "no arity of it is classified safe in module " + module;
      return new Admission(Need.REFUSED, shown + " covers nothing: every arity is denied ("
          + category + "), and a wildcard never covers a denied function");
    }
    Set<Integer> deniedArities = arities(c.module(), c.function(), false);
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
  static boolean wildcardNeedsUnsafe(CallPattern c) {
    if (c.isModuleWildcard()) {
      return TABLE.modules().containsKey(c.module());
    }
    return TABLE.modules().containsKey(c.module())
        && !arities(c.module(), c.function(), false).isEmpty();
  }

  /** The listed arities of a function classified safe ({@code safe}) or denied (not). */
  private static Set<Integer> arities(String module, String function, boolean safe) {
    Set<Integer> out = new TreeSet<>();
    TABLE.arities().getOrDefault(new Function(module, function), Map.of()).forEach((a, v) -> {
      if (CapabilityTable.SAFE.equals(v) == safe) {
        out.add(a);
      }
    });
    return out;
  }

  private static long safeCount(String module) {
    return TABLE.arities().entrySet().stream().filter(e -> e.getKey().module().equals(module))
        .mapToLong(e -> e.getValue().values().stream().filter(CapabilityTable.SAFE::equals)
            .count()).sum();
  }

  /** Modules classified function by function (their exports are checked against an OTP). */
  public static Set<String> perFunctionModules() {
    Set<String> out = new TreeSet<>();
    TABLE.modules().values().stream().filter(ModuleEntry::perFunction)
        .forEach(m -> out.add(m.module()));
    return out;
  }

  /** Does the table give {@code module:function/arity} a verdict (safe or a category)? */
  public static boolean classified(String module, String function, int arity) {
    return TABLE.verdict(module, function, arity) != null;
  }
}
