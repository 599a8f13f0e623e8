package io.beamgate.security.policy;

import io.beamgate.security.policy.CapabilityTable.ModuleEntry;
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

  // Names are as they reach the cluster (atom text, unquoted); none may be null.

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
    return TABLE.denied(module, function, arity);
  }

  /**
   * Why {@code module:function/arity} is denied, or null when it is not: for example
   * {@code erlang:send_nosuspend/2 is denied (send: sends a message to any process, ...)} or
   * {@code module os is denied whole (os: ...)}.
   */
  public static String reason(String module, String function, int arity) {
    return TABLE.reason(module, function, arity);
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
   * whole; {@code m:f} is refused when no arity of {@code f} may be allowed, and needs
   * {@code unsafe} when some arities are denied.
   */
  public static Admission admission(CallPattern c) {
    return TABLE.admission(c);
  }

  /**
   * Does a non-exact pattern need {@code unsafe}? For the call path, where rules built in
   * code (not loaded from a file) must not do what a file could not.
   */
  static boolean wildcardNeedsUnsafe(CallPattern c) {
    return TABLE.wildcardNeedsUnsafe(c);
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
