package io.beamgate.bench;

import io.beamgate.bench.Harness.Result;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The report's CPU sections: CPU-µs per call of every process on each path beside throughput
 * and latency, the CPU goals, and the contention mode's ratios next to the quiet ones.
 */
final class CpuReport {
  private CpuReport() {}

  private static String f(String fmt, Object... args) {
    return String.format(Locale.ROOT, fmt, args);
  }

  /** One line for the console: each process's CPU-µs per call and the sum. */
  static String describe(Map<String, Double> cpu) {
    if (cpu.isEmpty()) {
      return "not read";
    }
    List<String> parts = new ArrayList<>();
    cpu.forEach((role, us) -> parts.add(f("%s %.1f", role, us)));
    return String.join(" + ", parts) + f(" = %.1f us", Cpu.total(cpu));
  }

  /** As above, with the idle share of the total. */
  static String describe(Result r) {
    if (r.cpuUs().isEmpty()) {
      return "not read";
    }
    List<String> w = new ArrayList<>();
    r.writesPerCall().forEach((role, n) -> w.add(f("%s %.2f", role, n)));
    return describe(r.cpuUs()) + f(" (idle share %.1f); writes/call: ", r.idleUs())
        + String.join(", ", w);
  }

  /** The table: per scenario and client, throughput, p50 and CPU-µs per call per process. */
  static String table(List<Result> results) {
    Map<String, Map<String, Result>> by = Report.byScenario(results);
    StringBuilder sb = new StringBuilder();
    sb.append("| scenario | client | calls/s | p50 us |");
    for (String role : Cpu.ROLES) {
      sb.append(' ').append(role).append(" |");
    }
    sb.append(" total | total × erl-tls's | idle share | net total | write syscalls per call |"
        + "\n|---|---|---:|---:|");
    sb.append("---:|".repeat(Cpu.ROLES.length + 4)).append("---|\n");
    for (Result r : results) {
      sb.append(f("| %s | %s | %.0f | %d |", Report.scenario(r), r.client(), r.rate(),
          r.p50Us()));
      for (String role : Cpu.ROLES) {
        Double v = r.cpuUs().get(role);
        sb.append(v == null ? " – |" : f(" %.1f |", v));
      }
      Result anchor = by.get(Report.scenario(r)).get("erl-tls");
      double t = r.cpuTotal();
      sb.append(Double.isNaN(t) ? " – |" : f(" **%.1f** |", t));
      sb.append(anchor == null || Double.isNaN(t) || Double.isNaN(anchor.cpuTotal()) ? " – |"
          : f(" %.2f |", t / anchor.cpuTotal()));
      sb.append(Double.isNaN(t) ? " – | – |" : f(" %.1f | %.1f |", r.idleUs(), t - r.idleUs()));
      List<String> w = new ArrayList<>();
      r.writesPerCall().forEach((role, n) -> w.add(f("%s %.2f", role, n)));
      sb.append(' ').append(String.join(", ", w)).append(" |");
      sb.append('\n');
    }
    return sb.toString();
  }

  /** The section itself, the report's first figures after the goals. */
  static String section(List<Result> results) {
    return "## CPU per call, per process\n\n"
        + "Each process's CPU time (user + system, per thread from"
        + " `/proc/PID/task/TID/schedstat`, in ns) read from outside at both edges of the"
        + " measured window, over the calls made: µs of CPU per call. HotSpot's JIT compiler"
        + " threads are left out of the Java processes (warm-up, not a cost per call; the"
        + " gateways are warmed up first); garbage collection and everything else is in. On a shared machine this figure does not move with the neighbours (a busy"
        + " neighbour slows a call down, it does not add to its CPU time). `client JVM` is the"
        + " harness's JVM when the client is Java (jinterface, node, the gateway's client"
        + " library): the whole JVM (its measuring threads, which end inside the window,"
        + " included, from the JVM's own process CPU time); `erl client` is the erl node that"
        + " calls (erl, erl-tls, bridge); `gateway A` is the gateway in front of the erl server,"
        + " `gateway B` the bridge's other gateway; `erl server` is the node that runs"
        + " `erlang:element/2` (the TLS-distribution node for erl-tls). A thread that ends"
        + " inside the window is missing from the other processes' figures (their threads live"
        + " as long as they do). Each window is preceded by a quiet second (no calls) in which the"
        + " same processes are read too: `idle share` is what they burn without calls (timers,"
        + " ticks, GC, a gateway's sweeps) over the window's length, per call, and `net total`"
        + " the total without it. `write syscalls per call`: each process's write system calls"
        + " (`syscw` in `/proc/PID/io`) over the calls, a count the machine's load does not"
        + " move. On a busy machine fewer calls fit in the window, so the idle"
        + " share grows; the net figure is the one to compare across runs. The table shows the best round"
        + " (by calls/s) of each client, as the calls table does.\n\n"
        + table(results) + '\n';
  }

  /**
   * The CPU goals of issue 17: 64 calls of 100 B in flight, the whole path's CPU per call over
   * erl-tls's (client + server), at most {@code max}.
   */
  static Report.Goal goal(Map<String, Map<String, Result>> by, String client, double max,
      String goal, String shortName) {
    Map<String, Result> m = by.getOrDefault("c64-100B", Map.of());
    Result a = m.get("erl-tls");
    Result g = m.get(client);
    boolean have = a != null && g != null && !Double.isNaN(a.cpuTotal())
        && !Double.isNaN(g.cpuTotal());
    Double r = have ? g.cpuTotal() / a.cpuTotal() : null;
    return new Report.Goal(goal, shortName, a == null ? "—" : f("%.1f us", a.cpuTotal()),
        g == null ? "not measured" : f("%.1f us", g.cpuTotal()), r, r == null ? null : max / r);
  }

  /** The contention mode's section: every goal's ratio quiet and with the hog, side by side. */
  static String contention(Report.Run run) {
    if (run.contended() == null || run.contended().isEmpty()) {
      return "";
    }
    Report.Run hogged = new Report.Run(run.contended(), run.seconds(), run.rounds(), null,
        run.tlsChecks(), List.of(), null, run.idleTarget(), run.gatewayMissing(),
        run.gatewayCallsMissing(), List.of(), run.gatewayTlsProvider(), run.loadAtStart(),
        run.loadAtEnd());
    List<Report.Goal> quiet = Report.goals(run);
    List<Report.Goal> busy = Report.goals(hogged);
    StringBuilder sb = new StringBuilder("## Under contention\n\n");
    sb.append(f("`--contention`: after the quiet pass, every call scenario ran again while a"
        + " CPU hog (a separate JVM, one busy thread per core: %d) ran beside it at the same"
        + " priority. Issue 17's goal: each ratio within 20%% of its quiet value (held: the"
        + " busy ratio's attainment is at least 0.8 of the quiet one's).%n%n",
        Runtime.getRuntime().availableProcessors()));
    sb.append("| goal | quiet ratio | with the hog | busy / quiet | held |\n"
        + "|---|---:|---:|---:|---|\n");
    for (int i = 0; i < quiet.size(); i++) {
      Report.Goal q = quiet.get(i);
      Report.Goal b = busy.get(i);
      if (q.ratio() == null || b.ratio() == null) {
        continue;
      }
      sb.append(f("| %s | %.2f× | %.2f× | %.2f | %s |%n", q.goal(), q.ratio(), b.ratio(),
          b.ratio() / q.ratio(), b.attainment() >= 0.8 * q.attainment() ? "yes" : "**no**"));
    }
    sb.append("\nThe contended pass, CPU per call per process (with the hog's CPU not in"
        + " any column):\n\n").append(table(run.contended())).append('\n');
    return sb.toString();
  }
}
