package io.beamgate.security.policy;

/**
 * The deny-list's old entry point, kept for its callers: what is denied now comes from the
 * capability table ({@link Capabilities}), where modules that can send, signal, spawn, load
 * code or read secrets are denied whole or classified export by export, and anything a
 * classified module exports that the table does not call safe is denied.
 */
public final class DenyList {
  private DenyList() {}

  /** Why {@code module:function/arity} is denied, or null when it is not. */
  public static String reason(String module, String function, int arity) {
    return Capabilities.reason(module, function, arity);
  }
}
