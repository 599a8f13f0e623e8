package io.beamgate.security.policy;

import io.beamgate.security.identity.Principal;
import io.beamgate.security.identity.PrincipalMatcher;
import java.util.List;

/**
 * What each principal may do: default deny; a request is allowed when a rule naming the
 * principal allows it; functions the capability table denies ({@link Capabilities}) only by
 * an exact {@code unsafe} entry, never by a wildcard. When a principal has a permissive
 * rule, what would be denied is allowed and reported as shadow_denied (for rolling out a
 * stricter policy); denied functions stay denied.
 */
public record Policy(List<Rule> rules, int atomBudget, int atomBudgetPerPrincipal) {
  public Policy {
    // The rules in file order, with an index by principal and by module or process name: a
    // decision reads only the rules that can apply, and still finds the first match in file
    // order (IndexedRules).
    rules = rules instanceof IndexedRules indexed ? indexed
        : new IndexedRules(List.copyOf(rules));
  }

  /** With the default share of the atom budget per principal (a quarter of it). */
  public Policy(List<Rule> rules, int atomBudget) {
    this(rules, atomBudget, io.beamgate.security.guard.AtomBudget.defaultShare(atomBudget));
  }

  private IndexedRules index() {
    return (IndexedRules) rules;
  }

  /** May {@code p} call {@code module:function/arity}? */
  public Decision call(Principal p, String module, String function, int arity) {
    String denied = Capabilities.reason(module, function, arity);
    // Only rules that may name p and have a pattern in this module: the others cannot match.
    for (int i : index().forCall(p, module)) {
      Rule r = rules.get(i);
      if (!names(r, p)) {
        continue;
      }
      for (CallPattern c : r.calls()) {
        if (!c.matches(module, function, arity)) {
          continue;
        }
        if (denied != null && !(r.unsafe() && c.isExact())) {
          continue; // no wildcard covers a denied function
        }
        if (!c.isExact() && !r.unsafe() && Capabilities.wildcardNeedsUnsafe(c)) {
          continue; // what a policy file could not load (a rule built in code)
        }
        return Decision.allow(r);
      }
    }
    if (denied != null) {
      return Decision.deny(null, denied); // never softened by a permissive rule
    }
    String reason = !names(p) ? "no rule names principal " + p.name()
        : "no rule allows " + module + ":" + function + "/" + arity + " for " + p.name();
    return shadowed(p, reason);
  }

  /**
   * Does any rule name {@code p}? A principal no rule names may not stay connected or bridge
   * (checked at connection and after every reload).
   */
  public boolean names(Principal p) {
    for (int i : index().forPrincipal(p)) {
      if (names(rules.get(i), p)) {
        return true;
      }
    }
    return false;
  }

  private static boolean names(Rule r, Principal p) {
    for (PrincipalMatcher m : r.principals()) {
      if (m.matches(p)) {
        return true;
      }
    }
    return false;
  }

  /** May {@code p} send to the process registered as {@code name}? */
  public Decision send(Principal p, String name) {
    for (int i : index().forSend(p, name)) {
      Rule r = rules.get(i);
      if (names(r, p) && r.sends().contains(name)) {
        return Decision.allow(r);
      }
    }
    return shadowed(p, "no rule allows sends to " + name + " for " + p.name());
  }

  /** A denial, unless a permissive rule for the principal turns it into a logged allow. */
  private Decision shadowed(Principal p, String reason) {
    for (int i : index().forPrincipal(p)) {
      Rule r = rules.get(i);
      if (r.permissive() && names(r, p)) {
        return new Decision(true, r, reason, true);
      }
    }
    return Decision.deny(null, reason);
  }
}
