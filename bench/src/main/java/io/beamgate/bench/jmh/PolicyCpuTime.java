package io.beamgate.bench.jmh;

import io.beamgate.security.identity.Principal;
import io.beamgate.security.policy.Decision;
import io.beamgate.security.policy.Policy;
import io.beamgate.security.policy.PolicyFile;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.Locale;

/**
 * The policy decision in thread CPU time per decision (best block of several), which a machine
 * shared with other builds barely moves, unlike JMH's wall times: GuardBench's policies (one
 * rule; 50 rules where the match is the last, by a prefix principal; a denied call), and 50
 * rules naming exact principals where the match is the last. Uses only the public API, so the
 * same class measures a build before and after a change.
 * {@code java -cp ... io.beamgate.bench.jmh.PolicyCpuTime}
 */
public final class PolicyCpuTime {
  private PolicyCpuTime() {}

  static long sink;

  public static void main(String[] args) throws Exception {
    Principal client = new Principal("spiffe://bench/client", Principal.Kind.URI,
        "ab".repeat(32), "1");
    Policy small = PolicyFile.parse("small.yaml", """
        version: 1
        rules:
          - id: bench
            principals: ["uri:spiffe://bench/client"]
            calls: ["erlang:element/2"]
        """).policy();
    Policy fiftyPrefix = PolicyFile.parse("fifty.yaml", fifty("uri:spiffe://bench/*"))
        .policy();
    Policy fiftyExact = PolicyFile.parse("fifty.yaml", fifty("uri:spiffe://bench/client"))
        .policy();
    measure("policySmall", () -> small.call(client, "erlang", "element", 2));
    measure("policyFiftyRules", () -> fiftyPrefix.call(client, "erlang", "element", 2));
    measure("policyDenied", () -> fiftyPrefix.call(client, "os", "cmd", 1));
    measure("policyFiftyExact", () -> fiftyExact.call(client, "erlang", "element", 2));
    measure("policyFiftyNoRule", () -> fiftyExact.call(client, "kv", "get", 1));
    // Again, last: the first one measured runs with the JIT's first profile of the decision.
    measure("policySmall again", () -> small.call(client, "erlang", "element", 2));
  }

  /** GuardBench's 50 rules: 49 for other principals and modules, then the one that matches. */
  static String fifty(String last) {
    StringBuilder sb = new StringBuilder("version: 1\nrules:\n");
    for (int i = 0; i < 49; i++) {
      sb.append("  - id: r").append(i).append("\n    principals: [\"uri:spiffe://bench/other")
          .append(i).append("\"]\n    calls: [\"app").append(i).append(":get/1\", \"app")
          .append(i).append(":put/2\"]\n");
    }
    sb.append("  - id: bench\n    principals: [\"").append(last).append("\"]\n"
        + "    calls: [\"erlang:element/2\", \"kv:put/2\"]\n");
    return sb.toString();
  }

  interface Op {
    Decision run();
  }

  static void measure(String name, Op op) {
    ThreadMXBean mx = ManagementFactory.getThreadMXBean();
    int n = 200_000;
    double best = Double.MAX_VALUE;
    for (int block = 0; block < 25; block++) {
      long c0 = mx.getCurrentThreadCpuTime();
      for (int i = 0; i < n; i++) {
        sink += op.run().allowed() ? 1 : 0;
      }
      long c1 = mx.getCurrentThreadCpuTime();
      if (block >= 5) { // the first blocks warm the JIT up
        best = Math.min(best, (c1 - c0) / (double) n);
      }
    }
    System.out.printf(Locale.ROOT, "%-18s %9.1f ns CPU/decision%n", name, best);
  }
}
