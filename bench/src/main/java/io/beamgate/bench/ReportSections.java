package io.beamgate.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Sections of docs/benchmarks.md written by a scenario of their own ("## Scale out",
 * "## Microbenchmarks (JMH)"): a run of that scenario replaces just its section, and a full
 * run keeps it as it is.
 */
final class ReportSections {
  private ReportSections() {}

  /**
   * {@code doc} with its section under {@code heading} (to the next "## " heading) replaced
   * by {@code section}, or with {@code section} appended when it has none.
   */
  static String splice(String doc, String heading, String section) {
    int at = doc.indexOf("\n" + heading + "\n");
    if (at < 0) {
      return doc.stripTrailing() + "\n\n" + section.stripTrailing() + "\n";
    }
    int next = doc.indexOf("\n## ", at + 1 + heading.length());
    String rest = next < 0 ? "" : doc.substring(next);
    return doc.substring(0, at + 1) + section.stripTrailing() + "\n" + rest;
  }

  /** The section under {@code heading} of the report file at {@code out}, or null. */
  static String existing(Path out, String heading) {
    try {
      String doc = Files.readString(out);
      int at = doc.indexOf("\n" + heading + "\n");
      if (at < 0) {
        return null;
      }
      int next = doc.indexOf("\n## ", at + 1 + heading.length());
      return doc.substring(at + 1, next < 0 ? doc.length() : next + 1);
    } catch (IOException e) {
      return null;
    }
  }

  /** Writes {@code section} into the report at {@code out} in place of {@code heading}'s. */
  static void write(Path out, String heading, String section) throws IOException {
    String doc = Files.exists(out) ? Files.readString(out) : "# Benchmarks\n";
    Files.writeString(out, splice(doc, heading, section));
  }
}
