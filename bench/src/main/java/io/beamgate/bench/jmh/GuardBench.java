package io.beamgate.bench.jmh;

import io.beamgate.certs.HeldCertificate;
import io.beamgate.node.term.ErlList;
import io.beamgate.node.term.Term;
import io.beamgate.security.guard.AtomBudget;
import io.beamgate.security.guard.CodeShapes;
import io.beamgate.security.guard.GuardRule;
import io.beamgate.security.guard.TermGuard;
import io.beamgate.security.guard.Verdict;
import io.beamgate.security.identity.Principal;
import io.beamgate.security.policy.Decision;
import io.beamgate.security.policy.Policy;
import io.beamgate.security.policy.PolicyFile;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * The admission's hot pieces on every call: the term guard (and the code-shape scan) over the
 * call's arguments, and the policy decision, for a small policy and for one of 50 rules.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class GuardBench {
  @Param({"call100B", "record", "list1k"})
  public String term;

  List<Term> args;
  TermGuard guard;
  GuardRule rule;
  Policy small;
  Policy fifty;
  Principal principal;

  @Setup
  public void setUp() throws Exception {
    Term t = Terms.of(term);
    args = t instanceof ErlList l && term.equals("call100B") ? l.elements() : List.of(t);
    guard = new TermGuard(new AtomBudget(1_000_000));
    rule = GuardRule.DEFAULTS.withAtoms(Set.of("user", "admin", "ops", "age", "email", "score",
        "item")).withMaxBytes(4 << 20);
    principal = Principal.of(HeldCertificate.builder().uri("spiffe://bench/client").build()
        .certificate());
    small = PolicyFile.parse("small.yaml", """
        version: 1
        rules:
          - id: bench
            principals: ["uri:spiffe://bench/client"]
            calls: ["erlang:element/2"]
        """).policy();
    StringBuilder sb = new StringBuilder("version: 1\nrules:\n");
    for (int i = 0; i < 49; i++) {
      sb.append("  - id: r").append(i).append("\n    principals: [\"uri:spiffe://bench/other")
          .append(i).append("\"]\n    calls: [\"app").append(i).append(":get/1\", \"app")
          .append(i).append(":put/2\"]\n");
    }
    sb.append("  - id: bench\n    principals: [\"uri:spiffe://bench/*\"]\n"
        + "    calls: [\"erlang:element/2\", \"kv:*\"]\n");
    fifty = PolicyFile.parse("fifty.yaml", sb.toString()).policy();
  }

  @Benchmark
  public Verdict guard() {
    return guard.check("erlang", "element", args.size(), args, rule, List.of(),
        principal.name());
  }

  @Benchmark
  public Object codeShapes() {
    return CodeShapes.inArguments(args);
  }

  @Benchmark
  public Decision policySmall() {
    return small.call(principal, "erlang", "element", 2);
  }

  @Benchmark
  public Decision policyFiftyRules() {
    return fifty.call(principal, "erlang", "element", 2);
  }

  @Benchmark
  public Decision policyDenied() {
    return fifty.call(principal, "os", "cmd", 1);
  }
}
