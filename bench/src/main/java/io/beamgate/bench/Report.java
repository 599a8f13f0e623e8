package io.beamgate.bench;

import io.beamgate.bench.Harness.Result;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** Writes the harness's results as Markdown (tables, chart links, ratios) and as SVG charts. */
final class Report {
  private Report() {}

  /**
   * Everything one run measured. {@code gatewayMissing} says why the gateway did not run (null
   * when it did), {@code gatewayCallsMissing} why calls through it were not measured.
   */
  record Run(List<Result> results, int seconds, int rounds, Harness.Fairness fairness,
      List<TlsDist.Check> tlsChecks, List<Handshakes.Result> handshakes,
      IdleConnections.Result idle, int idleTarget, String gatewayMissing,
      String gatewayCallsMissing, List<Result> contended, String gatewayTlsProvider,
      String loadAtStart, String loadAtEnd) {}

  static final String[] CLIENTS = {"erl", "erl-tls", "jinterface", "node", "node-async",
      "gateway", "gateway-grpc"};
  static final String[] COLORS = {"#888888", "#404040", "#d08020", "#2060c0", "#60a0f0",
      "#20a040", "#a040a0"};

  static String scenario(Result r) {
    String size = r.size() >= 1 << 20 ? (r.size() >> 20) + "MiB"
        : r.size() >= 1024 ? (r.size() >> 10) + "KiB" : r.size() + "B";
    return (r.conc() == 1 ? "seq" : "c" + r.conc()) + "-" + size;
  }

  static Map<String, Map<String, Result>> byScenario(List<Result> results) {
    Map<String, Map<String, Result>> m = new LinkedHashMap<>();
    for (Result r : results) {
      m.computeIfAbsent(scenario(r), k -> new LinkedHashMap<>()).put(r.client(), r);
    }
    return m;
  }

  private static String f(String fmt, Object... args) {
    return String.format(Locale.ROOT, fmt, args);
  }

  static String markdown(Run run) {
    Map<String, Map<String, Result>> by = byScenario(run.results());
    boolean gw = run.gatewayMissing() == null;
    StringBuilder sb = new StringBuilder();
    sb.append("# Benchmarks\n\n");
    sb.append("Written by `bench/run.sh` (the harness in `bench/`) on ").append(LocalDate.now())
        .append(", ").append(Runtime.getRuntime().availableProcessors())
        .append(" cores, Java ").append(System.getProperty("java.version"))
        .append(", OTP ").append(otpRelease()).append(". Real erl nodes serve every call:"
            + " `erlang:element(1, {Payload})`, so the payload travels both ways. The clients"
            + " call in the same run, one after the other, each for ").append(run.seconds())
        .append(" s after a 0.5 s warm-up")
        .append(Harness.warmUpNote == null ? "" : " (and, before the first scenario, the"
            + " Java processes were brought to the JIT's steady state by calls from every"
            + " client but the erl ones: " + Harness.warmUpNote + ")")
        .append("; every scenario runs all its clients ")
        .append(run.rounds()).append(run.rounds() == 1 ? " time" : " times, round after round,"
            + " and each client's best round (highest calls/s) is shown, since load from"
            + " elsewhere on the machine only ever slows a round down")
        .append(":\n\n")
        .append("- `erl`: another erl node, `rpc:call/4` (erpc underneath), over plain"
            + " distribution — the first anchor;\n")
        .append("- `erl-tls`: the same erl client to a second erl node over OTP's TLS"
            + " distribution (`-proto_dist inet_tls`, TLS 1.3 only, `verify_peer` both ways;"
            + " [setup](#tls-distribution)) — the anchor of the gateway's goals;\n")
        .append("- `jinterface`: OTP's JInterface (Debian erlang-jinterface), a mailbox per"
            + " caller, through `rex`, plain distribution;\n")
        .append("- `node`: beamgate's node, blocking `Rpc.call` (erpc underneath), a thread"
            + " per caller, plain distribution;\n")
        .append("- `node-async`: the same node's `RpcClient.callAsync`, the 64 calls kept in"
            + " flight without a thread each;\n")
        .append("- `gateway`: client → mTLS → `beamgate gateway run` (its own JVM, `-Xmx1g`,"
            + " audit log on, a policy allowing only `erlang:element/2` with its rate and"
            + " concurrency limits raised out of the way) → plain distribution → erl; the Java"
            + " client library `BeamgateClient`, blocking when sequential, 64 futures in flight"
            + " on its one connection otherwise")
        .append(gw ? " (gateway TLS provider: " + run.gatewayTlsProvider() + ")" : "")
        .append(run.gatewayCallsMissing() == null ? ";\n"
            : ". **Not measured yet: " + run.gatewayCallsMissing() + ".**\n")
        .append("- `gateway-grpc`: the same gateway through its gRPC door (ALPN `h2` on the"
            + " same port, `beamgate.v1.Gateway/Call`), grpc-java's client (grpc-netty) with"
            + " the same certificate and call on one HTTP/2 connection.\n\n")
        .append("Memory is the client's: erl's `erlang:memory(total)`, the JVM's used heap after"
            + " a GC for the Java clients (they share one JVM). Load average (1, 5, 15 min)"
            + " at the start of the run: ").append(run.loadAtStart()).append("; at the end: ")
        .append(run.loadAtEnd()).append(" (the machine may be shared; a load above the core"
            + " count means something else was running).\n\n");

    sb.append("## Goals (Issue 5 §6, Issue 6 §4, Issue 17)\n\n");
    if (run.gatewayMissing() != null) {
      sb.append("The gateway did not run: ").append(run.gatewayMissing()).append(".\n\n");
    } else if (run.gatewayCallsMissing() != null) {
      sb.append("Calls through the gateway are not measured yet: ")
          .append(run.gatewayCallsMissing()).append(". Its handshakes and idle connections"
              + " are.\n\n");
    }
    sb.append("Issue 6 §4 adds the bridge's goals (the last two rows before handshakes): an erl"
        + " node of one cluster calling through gateway B and gateway A, against the same erl"
        + " client calling over OTP's TLS distribution directly. Issue 17 raises the idle"
        + " connection goal to 10 KiB (the larger of RSS and heap per connection) and adds the"
        + " node's own goals (the last two rows): the node library against JInterface and against"
        + " erl->erl, in the same scenarios.\n\n");
    sb.append("| goal | anchor | beamgate | ratio | met |\n|---|---:|---:|---:|---|\n");
    for (Goal g : goals(run)) {
      sb.append(f("| %s | %s | %s | %s | %s |%n", g.goal(), g.anchor(), g.gateway(),
          g.ratio() == null ? "—" : f("%.2f×", g.ratio()),
          g.attainment() == null ? "—" : g.attainment() >= 1.0 ? "yes" : "**no**"));
    }
    sb.append("\n![goal attainment](benchmarks-goals.svg)\n\n");
    sb.append(CpuReport.section(run.results()));
    sb.append(CpuReport.contention(run));

    sb.append("## Calls\n\n");
    sb.append("`× erl` and `× erl-tls`: the row's throughput over the anchor's in the same"
        + " scenario.\n\n");
    sb.append("| scenario | client | calls/s | MB/s | p50 us | p99 us | × erl | × erl-tls |"
        + " memory MiB |\n");
    sb.append("|---|---|---:|---:|---:|---:|---:|---:|---:|\n");
    for (Result r : run.results()) {
      Map<String, Result> m = by.get(scenario(r));
      sb.append(f("| %s | %s | %.0f | %.1f | %d | %d | %s | %s | %.1f |%n", scenario(r),
          r.client(), r.rate(), r.mbPerSec(), r.p50Us(), r.p99Us(), ratio(r, m.get("erl")),
          ratio(r, m.get("erl-tls")), r.memBytes() / 1048576.0));
    }
    sb.append("\n![throughput relative to erl->erl](benchmarks.svg)\n\n");
    sb.append("![throughput relative to erl->erl over TLS distribution](benchmarks-tls.svg)\n\n");
    sb.append("What bounds each figure, and what was tried: [performance notes]"
        + "(performance-notes.md).\n\n");

    sb.append("## TLS distribution\n\n");
    sb.append("Certificates are made at bench time with beamgate's certs-dev (`DevCa`,"
        + " `HeldCertificate`; EC P-256): a CA, a server certificate (serverAuth; SANs: the"
        + " host's short name, localhost, 127.0.0.1) and a client certificate (clientAuth)."
        + " Both erl nodes get the same `-ssl_dist_optfile`: the `server` section presents the"
        + " server certificate, the `client` section the client certificate; both sections set"
        + " `{versions, ['tlsv1.3']}`, `{verify, verify_peer}`, `{fail_if_no_peer_cert, true}`"
        + " and the CA as `cacertfile` (on the client side OTP accepts `fail_if_no_peer_cert`;"
        + " `verify_peer` is what makes it require the server's certificate, and check its"
        + " name). Every `erl-tls` client prints the protocol of its connection"
        + " (`net_kernel:node_info/2`, `#net_address.protocol`), which must be `tls`. Before"
        + " measuring, five erl nodes ping the TLS server:\n\n");
    sb.append("| client node | expected | got |\n|---|---|---|\n");
    for (TlsDist.Check c : run.tlsChecks()) {
      sb.append(f("| %s | %s | %s |%n", c.client(), c.expected(), c.got()));
    }
    sb.append('\n');

    sb.append(HandshakeReport.section(run));

    sb.append("## Memory per idle connection\n\n");
    IdleConnections.Result idle = run.idle();
    sb.append(f("The harness opens %,d mutual-TLS 1.3 connections to the gateway's listener"
        + " (eight threads, full handshakes, the bench client certificate), leaves them idle,"
        + " and reads the gateway process's memory from outside before and after: RSS"
        + " (`VmRSS` in `/proc/PID/status`: heap, direct buffers, native TLS state, thread"
        + " stacks) and the Java heap in use after a full GC (`jcmd PID GC.run`, then"
        + " `GC.heap_info`). The delta over the number of connections is the cost of one;"
        + " a sample of 100 connections is checked to still be open at the end. The harness"
        + " and the gateway each need a descriptor per connection: `bench/run.sh` asks for"
        + " `ulimit -n 65536` and otherwise takes the hard limit (here %s), and the harness"
        + " opens fewer connections, and says so, when that is short.%n%n",
        run.idleTarget(), Harness.maxOpenFiles() == Long.MAX_VALUE ? "unlimited"
            : f("%,d", Harness.maxOpenFiles())));
    if (idle == null) {
      sb.append("Not measured yet: ").append(run.gatewayMissing()).append(".\n\n");
    } else {
      sb.append("| connections | opened in s | RSS before MiB | RSS after MiB | RSS per"
          + " connection KiB | heap per connection KiB | still open (sample) |\n"
          + "|---:|---:|---:|---:|---:|---:|---:|\n");
      sb.append(f("| %,d | %.1f | %.1f | %.1f | %.1f | %.1f | %d/%d |%n%n", idle.connections(),
          idle.openSeconds(), idle.before().rssBytes() / 1048576.0,
          idle.after().rssBytes() / 1048576.0, idle.rssPerConnection() / 1024,
          idle.heapPerConnection() / 1024, idle.sampledOpen(), idle.sampled()));
    }

    Harness.Fairness fair = run.fairness();
    if (fair != null) {
      sb.append("## Fairness: small calls while 100 MB messages flow\n\n")
        .append("beamgate's node makes sequential 100 B calls to the erl node, first alone, then"
            + " while another of its mailboxes keeps sending 100 MB binaries to a process on the"
            + " same erl node over the same connection (in fragments of 64 KiB, so the small"
            + " calls interleave).\n\n")
        .append("| small calls | calls/s | p50 us | p99 us |\n|---|---:|---:|---:|\n")
        .append(f("| alone | %.0f | %d | %d |%n", fair.alone().rate(),
            fair.alone().p50Us(), fair.alone().p99Us()))
        .append(f("| with 100 MB messages flowing (%.0f MB/s) | %.0f | %d | %d |%n%n",
            fair.bulkMbPerSec(), fair.withBulk().rate(), fair.withBulk().p50Us(),
            fair.withBulk().p99Us()));
    }

    sb.append("## Ratios\n\nThroughputs, per scenario: `a/b` is client a's calls/s over client"
        + " b's.\n\n");
    List<String> parts = new ArrayList<>();
    String[][] pairs = {{"erl-tls", "erl"}, {"node", "erl"}, {"node", "erl-tls"},
        {"node", "jinterface"}, {"node-async", "erl"}, {"node-async", "erl-tls"},
        {"node-async", "jinterface"}, {"gateway", "erl-tls"}, {"gateway", "erl"},
        {"gateway-grpc", "erl-tls"}, {"gateway-grpc", "gateway"}};
    for (Map.Entry<String, Map<String, Result>> e : by.entrySet()) {
      Map<String, Result> m = e.getValue();
      StringBuilder part = new StringBuilder(e.getKey());
      for (String[] p : pairs) {
        if (m.containsKey(p[0]) && m.containsKey(p[1])) {
          part.append(f(" %s/%s=%.2f", p[0], p[1], m.get(p[0]).rate() / m.get(p[1]).rate()));
        }
      }
      parts.add(part.toString());
    }
    sb.append(String.join("; ", parts)).append('\n');
    return sb.toString();
  }

  private static String ratio(Result r, Result anchor) {
    return anchor == null ? "—" : f("%.2f", r.rate() / anchor.rate());
  }

  /**
   * One goal of Issue 5 §6: the anchor's and the gateway's figures as text, the ratio between
   * them, and the attainment — the measured figure over the goal's, oriented so that 1.0 or more
   * means met (null when not measured).
   */
  record Goal(String goal, String shortName, String anchor, String gateway, Double ratio,
      Double attainment) {}

  static List<Goal> goals(Run run) {
    Map<String, Map<String, Result>> by = byScenario(run.results());
    List<Goal> out = new ArrayList<>();
    out.add(rateGoal(by, "c64-100B", "64 calls in flight (100 B): throughput ≥ 1.0× erl-tls",
        "c64 100 B", 1.0));
    Map<String, Result> seq = by.getOrDefault("seq-100B", Map.of());
    Result a = seq.get("erl-tls");
    Result g = seq.get("gateway");
    Double r = a == null || g == null ? null : (double) g.p50Us() / Math.max(1, a.p50Us());
    out.add(new Goal("sequential p50 latency (100 B) ≤ 1.5× erl-tls", "seq p50",
        a == null ? "—" : f("%d us", a.p50Us()), g == null ? "not measured" : f("%d us",
        g.p50Us()), r, r == null ? null : 1.5 / r));
    out.add(CpuReport.goal(by, "gateway", 1.0, "64 calls in flight (100 B): CPU per call,"
        + " client + gateway + erl server, ≤ 1.0× erl-tls's client + server", "c64 CPU"));
    out.add(rateGoal(by, "seq-1MiB", "1 MiB payloads, sequential: throughput ≥ 3× erl-tls",
        "seq 1 MiB", 3.0));
    out.add(rateGoal(by, "c64-1MiB", "1 MiB payloads, 64 in flight: throughput ≥ 3× erl-tls",
        "c64 1 MiB", 3.0));
    out.add(rateGoal(by, "c64-100B", "bridge, 64 calls in flight (100 B): throughput ≥ 1.0×"
        + " erl-tls", "bridge c64", 1.0, "bridge"));
    out.add(CpuReport.goal(by, "bridge", 1.5, "bridge, 64 calls in flight (100 B): CPU per"
        + " call, all four processes, ≤ 1.5× erl-tls's client + server", "bridge CPU"));
    Result ba = seq.get("erl-tls");
    Result bb = seq.get("bridge");
    Double br = ba == null || bb == null ? null : (double) bb.p50Us() / Math.max(1, ba.p50Us());
    out.add(new Goal("bridge, sequential p50 latency (100 B) ≤ 2× erl-tls", "bridge p50",
        ba == null ? "—" : f("%d us", ba.p50Us()), bb == null ? "not measured"
        : f("%d us", bb.p50Us()), br, br == null ? null : 2.0 / br));
    out.add(HandshakeReport.goal(run));
    IdleConnections.Result idle = run.idle();
    out.add(new Goal(f("memory per idle connection, %,d open, ≤ 10 KiB, heap included",
        idle == null ? run.idleTarget() : idle.connections()), "idle memory", "—",
        idle == null ? "not measured" : f("%.1f KiB RSS (%.1f KiB heap)",
            idle.rssPerConnection() / 1024, idle.heapPerConnection() / 1024), null,
        idle == null ? null : 10 * 1024 / Math.max(1.0,
            Math.max(idle.rssPerConnection(), idle.heapPerConnection()))));
    out.add(anchoredGoal(by, "c64-100B", "node (async), 64 calls in flight (100 B): throughput"
        + " ≥ 2× JInterface", "node c64", 2.0, "jinterface", "node-async"));
    out.add(anchoredGoal(by, "seq-1MiB", "node, 1 MiB payloads, sequential: throughput ≥ 0.8×"
        + " erl->erl", "node 1 MiB", 0.8, "erl", "node"));
    return out;
  }

  private static Goal rateGoal(Map<String, Map<String, Result>> by, String scenario,
      String goal, String shortName, double min) {
    return rateGoal(by, scenario, goal, shortName, min, "gateway");
  }

  private static Goal rateGoal(Map<String, Map<String, Result>> by, String scenario,
      String goal, String shortName, double min, String client) {
    Map<String, Result> m = by.getOrDefault(scenario, Map.of());
    Result a = m.get("erl-tls");
    Result g = m.get(client);
    Double r = a == null || g == null ? null : g.rate() / a.rate();
    return new Goal(goal, shortName, a == null ? "—" : f("%.0f calls/s", a.rate()),
        g == null ? "not measured" : f("%.0f calls/s", g.rate()), r, r == null ? null : r / min);
  }

  /** {@code client}'s calls/s over {@code anchor}'s in {@code scenario}, against {@code min}. */
  private static Goal anchoredGoal(Map<String, Map<String, Result>> by, String scenario,
      String goal, String shortName, double min, String anchor, String client) {
    Map<String, Result> m = by.getOrDefault(scenario, Map.of());
    Result a = m.get(anchor);
    Result g = m.get(client);
    Double r = a == null || g == null ? null : g.rate() / a.rate();
    return new Goal(goal, shortName, a == null ? "—" : f("%.0f calls/s", a.rate()),
        g == null ? "not measured" : f("%.0f calls/s", g.rate()), r, r == null ? null : r / min);
  }

  /** One bar per goal: its attainment (1.0 = exactly met), on a log scale. */
  static String goalsSvg(Run run) {
    List<Goal> goals = goals(run);
    int barW = 70;
    int h = 220;
    int top = 40;
    int w = 70 + goals.size() * (barW + 20) + 20;
    double lo = 0.1;
    double hi = 10;
    for (Goal g : goals) {
      if (g.attainment() != null) {
        lo = Math.min(lo, g.attainment());
        hi = Math.max(hi, g.attainment());
      }
    }
    double lLo = Math.floor(Math.log10(lo));
    double lHi = Math.ceil(Math.log10(hi));
    java.util.function.DoubleUnaryOperator y = v -> top + h - (Math.log10(v) - lLo)
        / (lHi - lLo) * h;
    StringBuilder sb = new StringBuilder();
    sb.append(f("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\""
        + " font-family=\"sans-serif\" font-size=\"11\">%n", w, h + top + 50));
    sb.append("<text x=\"10\" y=\"18\" font-size=\"13\">Issue 5 and 6 goals: measured over goal"
        + " (1 = met exactly, higher is better, log scale)</text>\n");
    for (double e = lLo; e <= lHi + 1e-9; e++) {
      double v = Math.pow(10, e);
      int py = (int) y.applyAsDouble(v);
      sb.append(f("<line x1=\"60\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"%s\"/><text"
          + " x=\"20\" y=\"%d\">%s</text>%n", py, w - 10, py, e == 0 ? "#000" : "#ddd", py + 4,
          v >= 1 ? f("%.0f", v) : f("%.2g", v)));
    }
    int base = (int) y.applyAsDouble(1.0);
    for (int i = 0; i < goals.size(); i++) {
      Goal g = goals.get(i);
      int x = 70 + i * (barW + 20);
      if (g.attainment() == null) {
        sb.append(f("<text x=\"%d\" y=\"%d\" fill=\"#888\">not measured</text>%n", x,
            base - 6));
      } else {
        int py = (int) y.applyAsDouble(g.attainment());
        sb.append(f("<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"%s\">"
            + "<title>%s: %.2f</title></rect><text x=\"%d\" y=\"%d\">%.2f</text>%n", x,
            Math.min(py, base), barW, Math.max(1, Math.abs(base - py)),
            g.attainment() >= 1 ? "#20a040" : "#c03030", g.goal(), g.attainment(), x + 4,
            Math.min(py, base) - 4, g.attainment()));
      }
      sb.append(f("<text x=\"%d\" y=\"%d\">%s</text>%n", x, top + h + 18, g.shortName()));
    }
    sb.append("</svg>\n");
    return sb.toString();
  }

  private static String otpRelease() {
    try {
      Process p = new ProcessBuilder("erl", "-noshell", "-eval",
          "io:format(\"~s\", [erlang:system_info(otp_release)]), halt().").start();
      String v = Harness.output(p, 30).strip();
      return v.isEmpty() ? "?" : v;
    } catch (Exception e) {
      return "?";
    }
  }

  /** Grouped bars: each client's throughput relative to {@code baseline}'s, per scenario. */
  static String svg(List<Result> results, String baseline, String title) {
    Map<String, Map<String, Result>> by = byScenario(results);
    int barW = 22;
    int groupW = CLIENTS.length * barW + 18;
    int h = 260;
    int top = 30;
    int w = 60 + by.size() * groupW + 20;
    double max = 0.1;
    for (Map<String, Result> m : by.values()) {
      for (String c : CLIENTS) {
        if (m.containsKey(c) && m.containsKey(baseline)) {
          max = Math.max(max, m.get(c).rate() / m.get(baseline).rate());
        }
      }
    }
    max = Math.ceil(max * 2) / 2;
    double step = max > 12 ? 2.0 : max > 6 ? 1.0 : 0.5;
    StringBuilder sb = new StringBuilder();
    sb.append(f("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\""
        + " font-family=\"sans-serif\" font-size=\"11\">%n", Math.max(w, 60 + CLIENTS.length
        * 110), h + 90));
    sb.append(f("<text x=\"10\" y=\"18\" font-size=\"13\">%s</text>%n", title));
    for (double y = 0; y <= max + 1e-9; y += step) {
      int py = top + (int) (h - y / max * h);
      sb.append(f("<line x1=\"50\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"%s\"/><text x=\"20\""
          + " y=\"%d\">%.1f</text>%n", py, w - 10, py, y == 1.0 ? "#000" : "#ddd", py + 4, y));
    }
    int g = 0;
    for (Map.Entry<String, Map<String, Result>> e : by.entrySet()) {
      int gx = 60 + g * groupW;
      Result base = e.getValue().get(baseline);
      for (int i = 0; i < CLIENTS.length; i++) {
        if (base == null || !e.getValue().containsKey(CLIENTS[i])) {
          continue;
        }
        double v = e.getValue().get(CLIENTS[i]).rate() / base.rate();
        int bh = (int) (v / max * h);
        sb.append(f("<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"%s\"><title>%s"
            + " %s %.2f</title></rect>%n", gx + i * barW, top + h - bh, barW - 4, bh, COLORS[i],
            e.getKey(), CLIENTS[i], v));
      }
      sb.append(f("<text x=\"%d\" y=\"%d\">%s</text>%n", gx, top + h + 16, e.getKey()));
      g++;
    }
    for (int i = 0; i < CLIENTS.length; i++) {
      sb.append(f("<rect x=\"%d\" y=\"%d\" width=\"12\" height=\"12\" fill=\"%s\"/><text"
          + " x=\"%d\" y=\"%d\">%s</text>%n", 60 + i * 110, top + h + 40, COLORS[i],
          76 + i * 110, top + h + 50, CLIENTS[i]));
    }
    sb.append("</svg>\n");
    return sb.toString();
  }
}
