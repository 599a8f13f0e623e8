package io.beamgate.bench;

import io.beamgate.bench.Harness.Result;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** Writes the harness's results as Markdown (table, chart link, ratios) and as an SVG chart. */
final class Report {
  private Report() {}

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

  static String markdown(List<Result> results, int seconds, Harness.Fairness fair) {
    StringBuilder sb = new StringBuilder();
    sb.append("# Benchmarks\n\n");
    sb.append("Written by `bench/run.sh` (the harness in `bench/`) on ").append(LocalDate.now())
        .append(", ").append(Runtime.getRuntime().availableProcessors())
        .append(" cores, Java ").append(System.getProperty("java.version"))
        .append(". One real erl node serves every call: `erlang:element(1, {Payload})`, so the"
            + " payload travels both ways. Three clients call it in the same run, one after the"
            + " other, each for ").append(seconds).append(" s after a 0.5 s warm-up:\n\n")
        .append("- `erl`: another erl node, `rpc:call/4` (erpc underneath) — the anchor;\n")
        .append("- `jinterface`: OTP's JInterface (Debian erlang-jinterface), a mailbox per"
            + " caller, through `rex`;\n")
        .append("- `beamgate`: beamgate's node, blocking `Rpc.call` (erpc underneath), a thread"
            + " per caller;\n")
        .append("- `beamgate-async`: the same node's `RpcClient.callAsync`, the 64 calls kept in"
            + " flight without a thread each.\n\n")
        .append("Memory is the client's: erl's `erlang:memory(total)`, the JVM's used heap after"
            + " a GC for the Java clients (JInterface and beamgate share one JVM).\n\n");
    sb.append("| scenario | client | calls/s | MB/s | p50 us | p99 us | memory MiB |\n");
    sb.append("|---|---|---:|---:|---:|---:|---:|\n");
    for (Result r : results) {
      sb.append(String.format(Locale.ROOT, "| %s | %s | %.0f | %.1f | %d | %d | %.1f |%n",
          scenario(r), r.client(), r.rate(), r.mbPerSec(), r.p50Us(), r.p99Us(),
          r.memBytes() / 1048576.0));
    }
    sb.append("\n![throughput relative to erl->erl](benchmarks.svg)\n\n");
    sb.append("What bounds each figure, and what was tried: [performance notes]"
        + "(performance-notes.md).\n\n");
    sb.append("## Fairness: small calls while 100 MB messages flow\n\n")
        .append("beamgate's node makes sequential 100 B calls to the erl node, first alone, then"
            + " while another of its mailboxes keeps sending 100 MB binaries to a process on the"
            + " same erl node over the same connection (in fragments of 64 KiB, so the small"
            + " calls interleave).\n\n")
        .append("| small calls | calls/s | p50 us | p99 us |\n|---|---:|---:|---:|\n")
        .append(String.format(Locale.ROOT, "| alone | %.0f | %d | %d |%n", fair.alone().rate(),
            fair.alone().p50Us(), fair.alone().p99Us()))
        .append(String.format(Locale.ROOT, "| with 100 MB messages flowing (%.0f MB/s) | %.0f |"
            + " %d | %d |%n%n", fair.bulkMbPerSec(), fair.withBulk().rate(),
            fair.withBulk().p50Us(), fair.withBulk().p99Us()));
    sb.append("Ratios are throughputs: beamgate's over erl's (`node/erl`) and over"
        + " JInterface's (`node/jinterface`), per scenario; `async/...` for the asynchronous"
        + " client where it ran.\n\n");
    List<String> parts = new ArrayList<>();
    for (Map.Entry<String, Map<String, Result>> e : byScenario(results).entrySet()) {
      Map<String, Result> m = e.getValue();
      String part = String.format(Locale.ROOT, "%s node/erl=%.2f node/jinterface=%.2f",
          e.getKey(), m.get("beamgate").rate() / m.get("erl").rate(),
          m.get("beamgate").rate() / m.get("jinterface").rate());
      if (m.containsKey("beamgate-async")) {
        part += String.format(Locale.ROOT, " async/erl=%.2f async/jinterface=%.2f",
            m.get("beamgate-async").rate() / m.get("erl").rate(),
            m.get("beamgate-async").rate() / m.get("jinterface").rate());
      }
      parts.add(part);
    }
    sb.append(String.join("; ", parts)).append('\n');
    return sb.toString();
  }

  /** Grouped bars: each client's throughput relative to erl's, per scenario. */
  static String svg(List<Result> results) {
    Map<String, Map<String, Result>> by = byScenario(results);
    String[] clients = {"erl", "jinterface", "beamgate", "beamgate-async"};
    String[] colors = {"#888888", "#d08020", "#2060c0", "#60a0f0"};
    int groupW = 150;
    int barW = 30;
    int h = 260;
    int top = 30;
    int w = 60 + by.size() * groupW + 20;
    double max = 0.1;
    for (Map<String, Result> m : by.values()) {
      for (String c : clients) {
        if (m.containsKey(c)) {
          max = Math.max(max, m.get(c).rate() / m.get("erl").rate());
        }
      }
    }
    max = Math.ceil(max * 2) / 2;
    StringBuilder sb = new StringBuilder();
    sb.append(String.format(Locale.ROOT, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\""
        + " height=\"%d\" font-family=\"sans-serif\" font-size=\"11\">%n", w, h + 80));
    sb.append("<text x=\"10\" y=\"18\" font-size=\"13\">Throughput relative to erl -> erl"
        + " (higher is better)</text>\n");
    for (double y = 0; y <= max + 1e-9; y += 0.5) {
      int py = top + (int) (h - y / max * h);
      sb.append(String.format(Locale.ROOT, "<line x1=\"50\" y1=\"%d\" x2=\"%d\" y2=\"%d\""
          + " stroke=\"%s\"/><text x=\"20\" y=\"%d\">%.1f</text>%n", py, w - 10, py,
          y == 1.0 ? "#000" : "#ddd", py + 4, y));
    }
    int g = 0;
    for (Map.Entry<String, Map<String, Result>> e : by.entrySet()) {
      int gx = 60 + g * groupW;
      for (int i = 0; i < clients.length; i++) {
        if (!e.getValue().containsKey(clients[i])) {
          continue;
        }
        double v = e.getValue().get(clients[i]).rate() / e.getValue().get("erl").rate();
        int bh = (int) (v / max * h);
        sb.append(String.format(Locale.ROOT, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\""
            + " fill=\"%s\"><title>%s %s %.2f</title></rect>%n", gx + i * barW, top + h - bh,
            barW - 4, bh, colors[i], e.getKey(), clients[i], v));
      }
      sb.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\">%s</text>%n", gx, top + h + 16,
          e.getKey()));
      g++;
    }
    for (int i = 0; i < clients.length; i++) {
      sb.append(String.format(Locale.ROOT, "<rect x=\"%d\" y=\"%d\" width=\"12\" height=\"12\""
          + " fill=\"%s\"/><text x=\"%d\" y=\"%d\">%s</text>%n", 60 + i * 110, top + h + 40,
          colors[i], 76 + i * 110, top + h + 50, clients[i]));
    }
    sb.append("</svg>\n");
    return sb.toString();
  }
}
