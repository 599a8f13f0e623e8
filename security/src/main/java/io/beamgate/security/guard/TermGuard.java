package io.beamgate.security.guard;

import io.beamgate.node.etf.EtfEncoder;
import io.beamgate.node.term.Atom;
import io.beamgate.node.term.ErlList;
import io.beamgate.node.term.ErlMap;
import io.beamgate.node.term.ExternalFun;
import io.beamgate.node.term.Fun;
import io.beamgate.node.term.Pid;
import io.beamgate.node.term.Port;
import io.beamgate.node.term.Ref;
import io.beamgate.node.term.Term;
import io.beamgate.node.term.TermText;
import io.beamgate.node.term.Tuple;
import java.util.ArrayDeque;
import java.util.List;
import java.util.Map;

/**
 * Decides what the arguments of a call from an untrusted side may contain before anything
 * reaches the cluster: no funs or external funs anywhere (inside maps, tuples, improper list
 * tails); no pids, ports or references unless the rule allows them; atoms only from the rule's
 * allow-list or within the global {@link AtomBudget}; bounded depth and size; and the call's
 * arity must equal the number of arguments. Iterative: no depth of nesting overflows the
 * stack. New atoms are charged to the budget only after every other check has passed, so a
 * call refused for another reason spends none of it. Thread-safe.
 */
public final class TermGuard {
  private final AtomBudget budget;

  public TermGuard(AtomBudget budget) {
    this.budget = budget;
  }

  public AtomBudget budget() {
    return budget;
  }

  /** A term to check, where it is, and how deep. */
  private record Item(Term term, TermPath at, int depth) {
    String path() {
      return at.toString();
    }
  }

  /** Checks {@code module:function/arity} applied to {@code args} under {@code rule}. */
  public Verdict check(String module, String function, int arity, List<Term> args,
      GuardRule rule) {
    return check(module, function, arity, args, rule, List.of());
  }

  /**
   * As above; {@code chargedNames} also become atoms on the receiving node and count against
   * the budget (a function name that only a {@code module:*} pattern allowed, for example).
   */
  public Verdict check(String module, String function, int arity, List<Term> args,
      GuardRule rule, java.util.Collection<String> chargedNames) {
    return check(module, function, arity, args, rule, chargedNames, null);
  }

  /**
   * As above, charging new atoms to {@code principal}'s share of the budget too (null: the
   * pool only).
   */
  public Verdict check(String module, String function, int arity, List<Term> args,
      GuardRule rule, java.util.Collection<String> chargedNames, String principal) {
    if (arity != args.size()) {
      return Verdict.refuse("arity mismatch: " + module + ":" + function + "/" + arity
          + " called with " + args.size() + " argument(s)", null);
    }
    ArrayDeque<Item> work = new ArrayDeque<>();
    for (int i = args.size() - 1; i >= 0; i--) {
      work.push(new Item(args.get(i), TermPath.root("args[" + i + "]"), 1));
    }
    java.util.Set<Atom> newAtoms = new java.util.HashSet<>();
    for (String name : chargedNames) {
      if (!rule.allowedAtoms().contains(name)) {
        newAtoms.add(Atom.of(name));
      }
    }
    while (!work.isEmpty()) {
      Item it = work.pop();
      Term t = it.term();
      if (it.depth() > rule.maxDepth()) {
        return Verdict.refuse("nesting depth: " + it.depth() + " (expected: <= "
            + rule.maxDepth() + ")", it.path());
      }
      if (t instanceof Fun || t instanceof ExternalFun) {
        return Verdict.refuse("fun in arguments (" + TermText.format(t) + ")", it.path());
      } else if (t instanceof Pid && !rule.allowPids()) {
        return Verdict.refuse("pid in arguments", it.path());
      } else if (t instanceof Ref && !rule.allowRefs()) {
        return Verdict.refuse("reference in arguments", it.path());
      } else if (t instanceof Port && !rule.allowPorts()) {
        return Verdict.refuse("port in arguments", it.path());
      } else if (t instanceof Atom a) {
        if (!rule.allowedAtoms().contains(a.name()) && !AtomBudget.STANDARD.contains(a.name())) {
          newAtoms.add(a);
        }
      } else if (t instanceof Tuple tu) {
        for (int i = tu.arity() - 1; i >= 0; i--) {
          work.push(new Item(tu.get(i), it.at().child("{" + i + "}"), it.depth() + 1));
        }
      } else if (t instanceof ErlList l) {
        if (!l.isProper()) {
          work.push(new Item(l.tail(), it.at().child("|tail"), it.depth() + 1));
        }
        for (int i = l.size() - 1; i >= 0; i--) {
          work.push(new Item(l.get(i), it.at().child("[" + i + "]"), it.depth() + 1));
        }
      } else if (t instanceof ErlMap m) {
        for (Map.Entry<Term, Term> e : m.entries().entrySet()) {
          work.push(new Item(e.getKey(), it.at().key("#key{%}", e.getKey()), it.depth() + 1));
          work.push(new Item(e.getValue(), it.at().key("#{%}", e.getKey()), it.depth() + 1));
        }
      }
    }
    long size = 0;
    for (Term a : args) {
      // a size-only walk that stops past the limit: nothing is encoded to be measured
      size += EtfEncoder.encodedSizeAtMost(a, rule.maxBytes() - size + 1);
      if (size > rule.maxBytes()) {
        return Verdict.refuse("argument size: more than " + rule.maxBytes()
            + " bytes (expected: <= " + rule.maxBytes() + ")", null);
      }
    }
    AtomBudget.Refusal over = budget.admitAll(newAtoms, principal);
    if (over != null && over.share()) {
      return Verdict.refuse("atom budget share exhausted (" + principal + " has brought "
          + budget.usedBy(principal) + " of the " + budget.perPrincipal() + " new atoms one"
          + " principal may; atom_budget_per_principal): unknown atom '"
          + abbreviate(over.atom().name()) + "'", null);
    }
    if (over != null && over.cluster() != null) {
      return Verdict.refuse("atom budget exhausted across the cluster (" + over.cluster()
          + "): unknown atom '" + abbreviate(over.atom().name()) + "'", null);
    }
    if (over != null) {
      return Verdict.refuse("atom budget exhausted (" + budget.limit()
          + " distinct atoms forwarded): unknown atom '" + abbreviate(over.atom().name())
          + "'", null);
    }
    return Verdict.OK;
  }

  private static String abbreviate(String s) {
    return TermPath.abbreviate(s);
  }
}
