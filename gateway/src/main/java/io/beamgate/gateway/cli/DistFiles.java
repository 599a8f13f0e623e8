package io.beamgate.gateway.cli;

import java.io.IOException;
import java.io.OutputStream;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.GZIPOutputStream;
import picocli.AutoComplete;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;

/**
 * Writes the files shipped beside the jar and in the .deb, from the CLI's own model at build
 * time (the gateway pom runs it in prepare-package): {@code man/beamgate*.1.gz}, one manual
 * page per command, and {@code completion/beamgate}, the bash (and zsh) completion script.
 */
public final class DistFiles {
  private DistFiles() {}

  /** {@code DistFiles OUTPUT_DIR VERSION}. */
  public static void main(String[] args) throws IOException {
    if (args.length != 2) {
      throw new IllegalArgumentException("arguments: " + args.length
          + " (expected: OUTPUT_DIR VERSION)");
    }
    write(Path.of(args[0]), args[1]);
  }

  /** Writes the pages and the completion script under {@code out}; returns the page count. */
  public static int write(Path out, String version) throws IOException {
    CommandLine cl = Main.commandLine();
    Path man = Files.createDirectories(out.resolve("man"));
    int n = 0;
    for (CommandSpec spec : ManPage.all(cl)) {
      // gzip without a timestamp or name in its header: the same model makes the same bytes
      try (OutputStream o = new GZIPOutputStream(Files.newOutputStream(
          man.resolve(ManPage.fileName(spec) + ".gz")))) {
        o.write(ManPage.render(spec, "beamgate " + version).getBytes(StandardCharsets.UTF_8));
      }
      n++;
    }
    Path completion = Files.createDirectories(out.resolve("completion"));
    try (Writer w = Files.newBufferedWriter(completion.resolve("beamgate"),
        StandardCharsets.UTF_8)) {
      w.write(AutoComplete.bash("beamgate", cl));
    }
    return n;
  }
}
