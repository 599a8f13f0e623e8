package io.beamgate.security.guard;

import io.beamgate.node.term.Atom;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The distinct atoms the gateway may ever forward into the cluster, beyond each rule's
 * allow-list. BEAM never frees atoms and decodes distribution traffic without {@code safe}, so
 * every new atom a client sends would stay in the cluster's atom table for good; this budget
 * bounds that growth. Atoms every node already has ({@code ok}, {@code true}...) are free.
 * Thread-safe.
 */
public final class AtomBudget {
  static final Set<String> STANDARD = Set.of("ok", "error", "true", "false", "undefined", "nil",
      "infinity", "normal", "badarg", "timeout", "noproc", "nodedown", "EXIT", "DOWN");

  private final int limit;
  private final Set<String> admitted = ConcurrentHashMap.newKeySet();
  private final AtomicInteger count = new AtomicInteger();

  /** @param limit most distinct non-standard atoms ever admitted (default 10 000) */
  public AtomBudget(int limit) {
    if (limit < 0) {
      throw new IllegalArgumentException("atom budget: " + limit + " (expected: >= 0)");
    }
    this.limit = limit;
  }

  public static AtomBudget withDefaults() {
    return new AtomBudget(10_000);
  }

  /** True when {@code a} may be forwarded: standard, seen before, or within the budget. */
  public synchronized boolean admit(Atom a) {
    String n = a.name();
    if (STANDARD.contains(n) || admitted.contains(n)) {
      return true;
    }
    while (true) {
      int c = count.get();
      if (c >= limit) {
        return false;
      }
      if (count.compareAndSet(c, c + 1)) {
        if (!admitted.add(n)) {
          count.decrementAndGet(); // someone else admitted it meanwhile
        }
        return true;
      }
    }
  }

  /**
   * Admits all of {@code atoms} or none: returns null when all fit (standard, seen before, or
   * within the budget together), else one atom that does not fit, and nothing is spent.
   */
  public synchronized Atom admitAll(java.util.Collection<Atom> atoms) {
    java.util.Set<String> fresh = new java.util.LinkedHashSet<>();
    Atom first = null;
    for (Atom a : atoms) {
      String n = a.name();
      if (!STANDARD.contains(n) && !admitted.contains(n) && fresh.add(n)) {
        if (first == null) {
          first = a;
        }
      }
    }
    if (fresh.isEmpty()) {
      return null;
    }
    if (count.get() + fresh.size() > limit) {
      return first;
    }
    for (String n : fresh) {
      if (admitted.add(n)) {
        count.incrementAndGet();
      }
    }
    return null;
  }

  public int used() {
    return count.get();
  }

  public int limit() {
    return limit;
  }
}
