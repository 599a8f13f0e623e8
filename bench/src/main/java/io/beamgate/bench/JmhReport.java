package io.beamgate.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The microbenchmarks' section of docs/benchmarks.md ("## Microbenchmarks (JMH)"), written by
 * {@code bench/run.sh --jmh} from JMH's CSV results; a full run keeps it as it is.
 * Usage: {@code JmhReport RESULTS.csv REPORT.md LOAD_AT_START JMH_ARGUMENTS...}.
 */
final class JmhReport {
  static final String HEADING = "## Microbenchmarks (JMH)";

  private JmhReport() {}

  /** One CSV line's fields (JMH quotes every text field; numbers may be bare). */
  static List<String> fields(String line) {
    List<String> out = new ArrayList<>();
    StringBuilder cur = new StringBuilder();
    boolean quoted = false;
    for (int i = 0; i < line.length(); i++) {
      char c = line.charAt(i);
      if (c == '"') {
        quoted = !quoted;
      } else if (c == ',' && !quoted) {
        out.add(cur.toString());
        cur.setLength(0);
      } else {
        cur.append(c);
      }
    }
    out.add(cur.toString());
    return out;
  }

  static String section(List<String> csv, String load, String args) {
    List<String> head = fields(csv.get(0));
    int bench = head.indexOf("Benchmark");
    int mode = head.indexOf("Mode");
    int score = head.indexOf("Score");
    int error = head.indexOf("Score Error (99.9%)");
    int unit = head.indexOf("Unit");
    List<Integer> params = new ArrayList<>();
    for (int i = 0; i < head.size(); i++) {
      if (head.get(i).startsWith("Param: ")) {
        params.add(i);
      }
    }
    StringBuilder sb = new StringBuilder(HEADING).append("\n\n");
    sb.append("Written by `bench/run.sh --jmh").append(args.isBlank() ? "" : " " + args)
        .append("` on ").append(LocalDate.now()).append(", ")
        .append(Runtime.getRuntime().availableProcessors()).append(" cores, Java ")
        .append(System.getProperty("java.version")).append("; load average at the start: ")
        .append(load).append(". The hot pieces of a call on their own (sources in"
            + " `bench/src/main/java/io/beamgate/bench/jmh`): ETF encode and decode against"
            + " JInterface's OtpOutputStream/OtpInputStream, the protobuf conversion both"
            + " ways, the request and result paths, the term guard, the code-shape scan, the"
            + " policy decision and the client-chain check; terms: a 100 B call, a record, a"
            + " list of 1 000 elements, a 64 KiB binary. A full run of `bench/run.sh` keeps"
            + " this section as it is. Error: JMH's 99.9 % interval; on a shared machine it"
            + " can exceed the score, so compare orders of magnitude across runs, and"
            + " neighbours in the same table.\n\n");
    sb.append("| benchmark |");
    for (int p : params) {
      sb.append(' ').append(head.get(p).substring("Param: ".length())).append(" |");
    }
    sb.append(" mode | score | error | unit |\n|---|");
    params.forEach(p -> sb.append("---|"));
    sb.append("---|---:|---:|---|\n");
    for (String line : csv.subList(1, csv.size())) {
      if (line.isBlank()) {
        continue;
      }
      List<String> f = fields(line);
      String name = f.get(bench).replaceFirst("^io\\.beamgate\\.bench\\.jmh\\.", "");
      sb.append("| ").append(name).append(" |");
      for (int p : params) {
        String v = p < f.size() ? f.get(p) : "";
        sb.append(' ').append(v.isEmpty() ? "–" : v).append(" |");
      }
      sb.append(' ').append(f.get(mode)).append(" | ")
          .append(num(f.get(score))).append(" | ").append(num(f.get(error))).append(" | ")
          .append(f.get(unit)).append(" |\n");
    }
    return sb.toString();
  }

  private static String num(String s) {
    try {
      double d = Double.parseDouble(s);
      return Double.isNaN(d) ? "–" : String.format(Locale.ROOT, d >= 100 ? "%.0f" : "%.3g", d);
    } catch (NumberFormatException e) {
      return s;
    }
  }

  public static void main(String[] args) throws IOException {
    if (args.length < 3) {
      throw new IllegalArgumentException("usage: JmhReport RESULTS.csv REPORT.md LOAD [ARGS...]");
    }
    List<String> csv = Files.readAllLines(Path.of(args[0]));
    if (csv.isEmpty()) {
      throw new IllegalStateException(args[0] + ": no results (did JMH run any benchmark?)");
    }
    String jmhArgs = String.join(" ", List.of(args).subList(3, args.length));
    ReportSections.write(Path.of(args[1]), HEADING, section(csv, args[2], jmhArgs));
    System.out.println("JMH results written to " + args[1] + " (" + HEADING + ")");
  }
}
