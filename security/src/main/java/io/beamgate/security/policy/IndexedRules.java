package io.beamgate.security.policy;

import io.beamgate.security.identity.Principal;
import io.beamgate.security.identity.PrincipalMatcher;
import java.util.AbstractList;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.RandomAccess;

/**
 * A policy's rules in file order, with an index so a decision looks only at the rules that can
 * name its principal and mention its module (or process name), still in file order: the first
 * match is the one a scan of every rule finds.
 *
 * <p>A rule is filed under each exact principal it names (by kind and value: the name a
 * {@link PrincipalMatcher} of that kind compares) and under each module of its calls and each
 * name of its sends. A rule with a prefix principal ({@code uri:spiffe://example.org/*}) cannot
 * be filed by name: it goes to a fallback bucket that every lookup reads too. So the candidates
 * are a superset of the rules that name the principal; the caller still checks each candidate
 * with {@link PrincipalMatcher#matches}, as the scan does.
 *
 * <p>It is the {@code rules} list of {@link Policy} (an unmodifiable {@link List}), so the
 * policy stays a record whose rules read as before.
 */
final class IndexedRules extends AbstractList<Rule> implements RandomAccess {
  private static final int[] NONE = new int[0];

  private final Rule[] rules;
  /** Exact principals, per kind of matcher: value → the rules naming it. */
  private final Map<PrincipalMatcher.Type, Map<String, Bucket>> exact =
      new EnumMap<>(PrincipalMatcher.Type.class);
  /** The rules with at least one prefix principal. */
  private final Bucket fallback;

  /** The rules of one principal key, in file order: all of them, by call module, by send name. */
  private static final class Bucket {
    final List<Integer> allBuilding = new ArrayList<>();
    final Map<String, List<Integer>> modulesBuilding = new HashMap<>();
    final Map<String, List<Integer>> sendsBuilding = new HashMap<>();
    int[] all = NONE;
    Map<String, int[]> byModule = Map.of();
    Map<String, int[]> bySend = Map.of();

    void add(int i, Rule r) {
      if (!allBuilding.isEmpty() && allBuilding.get(allBuilding.size() - 1) == i) {
        return; // a rule naming the same key twice is filed once
      }
      allBuilding.add(i);
      for (CallPattern c : r.calls()) {
        addOnce(modulesBuilding.computeIfAbsent(c.module(), k -> new ArrayList<>()), i);
      }
      for (String s : r.sends()) {
        addOnce(sendsBuilding.computeIfAbsent(s, k -> new ArrayList<>()), i);
      }
    }

    void freeze() {
      all = ints(allBuilding);
      byModule = frozen(modulesBuilding);
      bySend = frozen(sendsBuilding);
      allBuilding.clear(); // a policy lives as long as it is in force: keep only the arrays
      modulesBuilding.clear();
      sendsBuilding.clear();
    }

    private static void addOnce(List<Integer> l, int i) {
      if (l.isEmpty() || l.get(l.size() - 1) != i) {
        l.add(i);
      }
    }

    private static Map<String, int[]> frozen(Map<String, List<Integer>> m) {
      Map<String, int[]> out = new HashMap<>(m.size() * 2);
      m.forEach((k, v) -> out.put(k, ints(v)));
      return out;
    }

    private static int[] ints(List<Integer> l) {
      return l.stream().mapToInt(Integer::intValue).toArray();
    }
  }

  IndexedRules(List<Rule> rules) {
    this.rules = rules.toArray(new Rule[0]);
    Bucket prefixed = new Bucket();
    for (int i = 0; i < this.rules.length; i++) {
      Rule r = this.rules[i];
      for (PrincipalMatcher m : r.principals()) {
        Bucket b = m.prefix() ? prefixed
            : exact.computeIfAbsent(m.type(), t -> new HashMap<>())
                .computeIfAbsent(m.value(), v -> new Bucket());
        b.add(i, r);
      }
    }
    prefixed.freeze();
    fallback = prefixed;
    exact.values().forEach(byValue -> byValue.values().forEach(Bucket::freeze));
  }

  @Override
  public Rule get(int index) {
    return rules[index];
  }

  @Override
  public int size() {
    return rules.length;
  }

  /** The rules that may name {@code p} and have a call pattern in {@code module}, in order. */
  int[] forCall(Principal p, String module) {
    Bucket byName = byName(p);
    Bucket byFingerprint = byFingerprint(p);
    return merge(byName == null ? NONE : byName.byModule.getOrDefault(module, NONE),
        byFingerprint == null ? NONE : byFingerprint.byModule.getOrDefault(module, NONE),
        fallback.byModule.getOrDefault(module, NONE));
  }

  /** The rules that may name {@code p} and allow sends to {@code name}, in order. */
  int[] forSend(Principal p, String name) {
    Bucket byName = byName(p);
    Bucket byFingerprint = byFingerprint(p);
    return merge(byName == null ? NONE : byName.bySend.getOrDefault(name, NONE),
        byFingerprint == null ? NONE : byFingerprint.bySend.getOrDefault(name, NONE),
        fallback.bySend.getOrDefault(name, NONE));
  }

  /** Every rule that may name {@code p}, in order. */
  int[] forPrincipal(Principal p) {
    Bucket byName = byName(p);
    Bucket byFingerprint = byFingerprint(p);
    return merge(byName == null ? NONE : byName.all,
        byFingerprint == null ? NONE : byFingerprint.all, fallback.all);
  }

  /** The bucket of {@code p}'s name under matchers of its own kind (as matches compares it). */
  private Bucket byName(Principal p) {
    PrincipalMatcher.Type type;
    String key;
    switch (p.kind()) {
      case URI -> {
        type = PrincipalMatcher.Type.URI;
        key = p.name();
      }
      case DNS -> {
        type = PrincipalMatcher.Type.DNS;
        key = p.name().toLowerCase(Locale.ROOT); // as PrincipalMatcher compares DNS names
      }
      case CN -> {
        type = PrincipalMatcher.Type.CN;
        key = p.name();
      }
      default -> {
        return null;
      }
    }
    Map<String, Bucket> m = exact.get(type);
    return m == null ? null : m.get(key);
  }

  private Bucket byFingerprint(Principal p) {
    Map<String, Bucket> m = exact.get(PrincipalMatcher.Type.SHA256);
    return m == null ? null : m.get(p.fingerprintSha256());
  }

  /** The sorted union of three sorted lists of rule numbers, each number once. */
  static int[] merge(int[] a, int[] b, int[] c) {
    if (b.length == 0 && c.length == 0) {
      return a;
    }
    if (a.length == 0 && c.length == 0) {
      return b;
    }
    if (a.length == 0 && b.length == 0) {
      return c;
    }
    int[] out = new int[a.length + b.length + c.length];
    int i = 0;
    int j = 0;
    int k = 0;
    int n = 0;
    while (i < a.length || j < b.length || k < c.length) {
      int min = Math.min(i < a.length ? a[i] : Integer.MAX_VALUE,
          Math.min(j < b.length ? b[j] : Integer.MAX_VALUE,
              k < c.length ? c[k] : Integer.MAX_VALUE));
      out[n++] = min;
      if (i < a.length && a[i] == min) {
        i++;
      }
      if (j < b.length && b[j] == min) {
        j++;
      }
      if (k < c.length && c[k] == min) {
        k++;
      }
    }
    return n == out.length ? out : Arrays.copyOf(out, n);
  }
}
