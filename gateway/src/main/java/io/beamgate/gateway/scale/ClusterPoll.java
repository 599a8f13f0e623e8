package io.beamgate.gateway.scale;

import io.beamgate.node.rpc.RpcClient;
import io.beamgate.node.term.Atom;
import io.beamgate.node.term.Binary;
import io.beamgate.node.term.ErlList;
import io.beamgate.node.term.Int;
import io.beamgate.node.term.Term;
import io.beamgate.node.term.Tuple;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * One look at the cluster through its backends. On each backend that is up, a gateway
 * registers itself in the application environment of {@code beamgate_scale} (a key
 * {@code {<<"gateway">>, <<Group>>, Node}}: a registration that costs no process and dies
 * with the backend), then reads who registered, which of them the backend is connected to
 * ({@code nodes(hidden)}: the gateways that are up), and the backend's atom count against a
 * baseline kept there too ({@code <<"atom_baseline">>}, set by the first gateway that looks).
 * Keys are binaries so that looking creates no atom on the backend beyond the application's
 * name, once.
 *
 * <p>The environment is the backends', so every gateway and every restart of one reads the
 * same registrations and the same baseline; a backend that restarts starts both afresh, as
 * its atom table does.
 */
final class ClusterPoll {
  static final Atom APP = Atom.of("beamgate_scale");
  static final Binary BASELINE = bin("atom_baseline");
  private static final Binary GATEWAY = bin("gateway");

  /** What one poll saw: the gateways up (self included) and the atoms added since baseline. */
  record Snapshot(Set<String> gateways, long atomsUsed, int backendsAnswered) {}

  private final RpcClient rpc;
  private final String self;
  private final Binary group;
  private final Duration timeout;

  ClusterPoll(RpcClient rpc, String self, String group, Duration timeout) {
    this.rpc = rpc;
    this.self = self;
    this.group = bin(group);
    this.timeout = timeout;
  }

  static Binary bin(String s) {
    return Binary.of(s.getBytes(StandardCharsets.UTF_8));
  }

  // Each backend's growth as last measured: one that does not answer keeps counting.
  private final java.util.Map<String, Long> growth = new java.util.concurrent.ConcurrentHashMap<>();

  /**
   * Asks each of {@code backends}. The atoms used are the sum of every backend's growth over
   * its baseline (the last measure for one that did not answer): an atom the gateways forward
   * lands on at least one backend, so the sum is at least the distinct atoms forwarded through
   * every gateway (the largest growth alone would not be: atoms spread over backends would
   * each count once, then reach every backend later).
   */
  Snapshot poll(List<String> backends) {
    Set<String> gateways = new HashSet<>();
    gateways.add(self);
    int answered = 0;
    for (String b : backends) {
      try {
        growth.put(b, pollOne(b, gateways));
        answered++;
      } catch (Exception e) {
        org.slf4j.LoggerFactory.getLogger(ClusterPoll.class).debug("scale: {} did not answer:"
            + " {}", b, e.getMessage());
      }
    }
    long used = 0;
    for (long g : growth.values()) {
      used += g;
    }
    return new Snapshot(Set.copyOf(gateways), used, answered);
  }

  private long pollOne(String backend, Set<String> gateways) throws Exception {
    call(backend, "application", "set_env", List.of(APP,
        Tuple.of(GATEWAY, group, Atom.of(self)), Atom.TRUE));
    Term env = call(backend, "application", "get_all_env", List.of(APP));
    Term hidden = call(backend, "erlang", "nodes", List.of(Atom.of("hidden")));
    long count = ((Int) call(backend, "erlang", "system_info",
        List.of(Atom.of("atom_count")))).value();
    Set<String> up = new HashSet<>();
    for (Term n : ((ErlList) hidden).elements()) {
      if (n instanceof Atom a) {
        up.add(a.name());
      }
    }
    Long baseline = null;
    for (Term kv : ((ErlList) env).elements()) {
      if (!(kv instanceof Tuple t) || t.arity() != 2) {
        continue;
      }
      Term key = t.get(0);
      if (key.equals(BASELINE) && t.get(1) instanceof Int i) {
        baseline = i.value();
      } else if (key instanceof Tuple k && k.arity() == 3 && k.get(0).equals(GATEWAY)
          && k.get(1).equals(group) && k.get(2) instanceof Atom node) {
        if (up.contains(node.name())) {
          gateways.add(node.name());
        } else if (!node.name().equals(self)) {
          // a gateway gone (or renamed by its restart): forgotten, so registrations do not
          // pile up; one only cut off registers again at its next poll
          call(backend, "application", "unset_env", List.of(APP, key));
        }
      }
    }
    if (baseline == null || baseline > count) {
      // the first gateway to look (or a table smaller than the baseline: not this backend's)
      call(backend, "application", "set_env", List.of(APP, BASELINE, Int.of(count)));
      baseline = count;
    }
    return count - baseline;
  }

  private Term call(String node, String m, String f, List<? extends Term> args)
      throws Exception {
    return rpc.callAsync(node, m, f, args, timeout).get(timeout.toMillis() + 500,
        TimeUnit.MILLISECONDS);
  }
}
