package io.beamgate.bench;

import io.beamgate.bench.ScaleRun.Failover;
import io.beamgate.bench.ScaleRun.Throughput;
import io.beamgate.client.GatewayException;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The scale scenario's Markdown section ("## Scale out"), and its place in the report file: a
 * full run keeps the section of the file it replaces (the scenario runs only with
 * {@code --only scale}), and a scale-only run replaces just that section.
 */
final class ScaleReport {
  static final String HEADING = "## Scale out";

  private ScaleReport() {}

  private static String f(String fmt, Object... args) {
    return String.format(Locale.ROOT, fmt, args);
  }

  static String section(ScaleRun.Result r) {
    StringBuilder sb = new StringBuilder(HEADING).append("\n\n");
    sb.append(f("Measured by `bench/run.sh --only scale --seconds %d` (about two minutes;"
        + " not part of the default run). One, two and three `beamgate gateway run`"
        + " processes (each its own JVM, configuration, port and node name, `-Xmx1g`, audit"
        + " log on) in front of the same two erl backends (`backends` lists both; `scale:"
        + " {group, poll_ms: 500}`, so the gateways share the rules' limits, which are raised"
        + " out of the way). One Java client (`ClientConfig.builder().gateways(...)` with every"
        + " address) keeps %d calls of %d B in flight (`erlang:element/2`), spread round robin"
        + " over the gateways, for %d s after %d s of warm-up, best of %d rounds. CPU-µs per"
        + " call is read from `/proc` for every process (the harness's JVM, which is the"
        + " client, each gateway and both backends) and summed; the idle part is what the"
        + " same processes burn with no calls (scale polls, ticks, GC) over as long.%n%n",
        r.seconds(),
        ScaleRun.CONCURRENCY, ScaleRun.SIZE, r.seconds(), ScaleRun.WARM_UP, r.rounds()));
    sb.append(f("**On this machine's %d cores every process shares the same CPUs**: adding"
        + " gateways cannot add throughput here, so the table shows the cost per call of"
        + " spreading the load over more processes, not a speed-up. On separate hosts each"
        + " gateway brings its own cores. On a loaded machine (a load average above the core"
        + " count) more processes also win a bigger share of the CPUs from the other work, so"
        + " calls/s may rise with the number of gateways all the same. CPU-µs per call moves"
        + " less with the neighbours than calls/s, but on a machine this busy it still varies"
        + " from run to run (less of the JIT's work is done after the warm-up, caches are"
        + " shared). Load average (1, 5, 15 min) at the start: %s; at the end: %s.%n%n",
        Runtime.getRuntime().availableProcessors(), r.loadAtStart(), r.loadAtEnd()));
    List<String> procs = ScaleRun.processes(r);
    sb.append("| gateways | calls/s | p50 us | p99 us | CPU-µs per call, all processes |"
        + " idle part |");
    procs.forEach(p -> sb.append(' ').append(p).append(" |"));
    sb.append("\n|---:|---:|---:|---:|---:|---:|");
    procs.forEach(p -> sb.append("---:|"));
    sb.append('\n');
    for (Throughput t : r.throughput()) {
      sb.append(f("| %d | %.0f | %d | %d | %.1f | %.1f |", t.gateways(), t.rate(), t.p50Us(),
          t.p99Us(), t.cpuTotal(), t.idleUs()));
      for (String p : procs) {
        Double v = t.cpuUs().get(p);
        sb.append(v == null ? " — |" : f(" %.1f |", v));
      }
      sb.append('\n');
    }
    sb.append(f("%nFailover: three gateways under load, two Java clients with all three"
        + " addresses (keepalive every %d ms, dead after %d ms of silence): %d chains of"
        + " `callIdempotent(scale_bench:idem/2)` under a rule marked `idempotent: true`, and"
        + " %d of `call(scale_bench:once/2)` under another principal's rule that is not."
        + " After %d s, gateway 3's JVM is killed (kill -9) or stopped (SIGSTOP, then killed"
        + " at the end) by its PID; the load goes on for %d s; a killed gateway is started"
        + " again, and warmed up, before the next case."
        + " The backends (bench/erl/scale_bench.erl) count every run of every call's key and"
        + " the gateway it came through. *Back to 90%%*: from the loss until the end of the first"
        + " %d ms window with at least 90%% of the two-gateway rate of the same mixed load"
        + " (%.0f calls/s, measured just before). *Every call sent before the client saw"
        + " the loss answered*: each of them may have gone to the lost gateway, so by then every"
        + " retried call was answered (and every other one failed OUTCOME_UNKNOWN).%n%n",
        ScaleRun.KEEPALIVE_INTERVAL.toMillis(), ScaleRun.KEEPALIVE_TIMEOUT.toMillis(),
        ScaleRun.CONCURRENCY / 2, ScaleRun.CONCURRENCY / 2, ScaleRun.BEFORE_LOSS,
        ScaleRun.AFTER_LOSS, ScaleRun.RECOVERY_WINDOW_NS / 1_000_000, r.reference()));
    sb.append("| | " + String.join(" | ", r.failovers().stream().map(x -> x.loss().text)
        .toList()) + " |\n|---|");
    r.failovers().forEach(x -> sb.append("---:|"));
    sb.append('\n');
    row(sb, r, "calls/s before (3 gateways)", x -> f("%.0f", x.rateBefore()));
    row(sb, r, "client saw the loss after (first OUTCOME_UNKNOWN)", x -> ms(x.seenMs()));
    row(sb, r, "back to 90% of the 2-gateway rate after", x -> ms(x.recoveredMs()));
    row(sb, r, "every call sent before the client saw the loss answered or failed after",
        x -> ms(x.settledMs()));
    row(sb, r, "slowest call ending after the loss", x -> ms(x.slowestAfterMs()));
    row(sb, r, "idempotent calls retried after running through the lost gateway (ran twice)",
        x -> f("%d", x.idemTwice()));
    row(sb, r, "idempotent calls answered / failed", x -> f("%d / %s", x.idemOk(),
        codes(x.idemFailed())));
    row(sb, r, "non-idempotent calls OUTCOME_UNKNOWN: sent to the lost gateway before the"
        + " client saw the loss (of which had run)",
        x -> f("%d (%d)", x.onceUnknown(), x.onceUnknownRan()));
    row(sb, r, "non-idempotent calls OUTCOME_UNKNOWN that ran through a survivor (must be 0)",
        x -> x.onceUnknownViaSurvivor() == 0 ? "0"
            : f("**%d: violated**", x.onceUnknownViaSurvivor()));
    row(sb, r, "non-idempotent calls answered / other failures", x -> f("%d / %s",
        x.onceOk(), codes(x.onceFailed())));
    row(sb, r, "**non-idempotent calls run twice** (backends' count; must be 0)",
        x -> x.onceTwice() == 0 ? "0" : f("**%d: violated**", x.onceTwice()));
    row(sb, r, "non-idempotent calls answered but never run (must be 0)",
        x -> x.onceOkNotRun() == 0 ? "0" : f("**%d: violated**", x.onceOkNotRun()));
    sb.append("\nUntil the client sees the loss it still sends a third of the new calls to the"
        + " lost gateway, and a chain whose call lands there waits: the longer the loss goes"
        + f(" unseen, the more of each stream's %d chains end up waiting there.",
            ScaleRun.CONCURRENCY / 2)
        + " The client keeps no count of its retries: the idempotent calls retried are at"
        + " least those the backends ran twice, and about as many as the non-idempotent"
        + " stream's OUTCOME_UNKNOWN (the same number of chains, spread the same way)"
        + (r.failovers().stream().allMatch(x -> x.idemFailed().isEmpty())
            ? "; every one was answered (no idempotent call failed).\n\n"
            : "; **some idempotent calls failed**: see the table.\n\n"));
    return sb.toString();
  }

  private static String ms(long v) {
    return v < 0 ? "not within the run" : f("%,d ms", v);
  }

  private static String codes(Map<GatewayException.Code, Long> m) {
    return m.isEmpty() ? "0" : m.toString();
  }

  private static void row(StringBuilder sb, ScaleRun.Result r, String name,
      java.util.function.Function<Failover, String> cell) {
    sb.append("| ").append(name).append(" |");
    for (Failover x : r.failovers()) {
      sb.append(' ').append(cell.apply(x)).append(" |");
    }
    sb.append('\n');
  }

  /** {@code doc} with its scale section replaced by {@code section} (appended if absent). */
  static String splice(String doc, String section) {
    return ReportSections.splice(doc, HEADING, section);
  }

  /** The scale section of the report file at {@code out}, or null. */
  static String existing(Path out) {
    return ReportSections.existing(out, HEADING);
  }

  /** Writes {@code section} into the report at {@code out} in place of its scale section. */
  static void write(Path out, String section) throws IOException {
    ReportSections.write(out, HEADING, section);
  }
}
