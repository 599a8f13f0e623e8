package io.beamgate.node.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Runs the test escript {@code /etf/etf_corpus.escript} with real Erlang, and reads and writes
 * its record files (4-byte big-endian lengths, each followed by that many bytes).
 */
public final class Escript {
  private final Path dir;

  public Escript(Path dir) {
    this.dir = dir;
  }

  /** Runs the script with {@code args}; fails the test when it fails or takes over 2 min. */
  public void run(String... args) throws IOException, InterruptedException {
    Path script = dir.resolve("etf_corpus.escript");
    if (!Files.exists(script)) {
      try (InputStream in = Escript.class.getResourceAsStream("/etf/etf_corpus.escript")) {
        Files.write(script, in.readAllBytes());
      }
    }
    List<String> cmd = new ArrayList<>(List.of(Erl.require("escript"), script.toString()));
    cmd.addAll(List.of(args));
    String what = "escript " + String.join(" ", args);
    String out = runProcess(cmd, dir.resolve("escript.log"), 120, what);
    assertEquals("0", out.substring(0, out.indexOf('\n')), what + ": " + out);
  }

  /**
   * Runs an OS process with its output in {@code log}, waiting at most {@code seconds}; the
   * process and its children are killed by PID in a finally, whatever happens. Returns the exit
   * code, a newline, then the output.
   */
  public static String runProcess(List<String> cmd, Path log, long seconds, String what)
      throws IOException, InterruptedException {
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true)
        .redirectOutput(log.toFile()).start();
    try {
      if (!p.waitFor(seconds, TimeUnit.SECONDS)) {
        throw new AssertionError(what + " timed out after " + seconds + " s");
      }
      return p.exitValue() + "\n" + new String(Files.readAllBytes(log), java.nio.charset.StandardCharsets.UTF_8);
    } finally {
      killTree(p.toHandle());
    }
  }

  private static void killTree(ProcessHandle h) {
    h.descendants().forEach(ProcessHandle::destroyForcibly);
    h.destroyForcibly();
  }

  public static List<byte[]> readRecords(Path f) throws IOException {
    ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(f));
    List<byte[]> l = new ArrayList<>();
    while (b.hasRemaining()) {
      byte[] t = new byte[b.getInt()];
      b.get(t);
      l.add(t);
    }
    return l;
  }

  public static void writeRecords(Path f, List<byte[]> records) throws IOException {
    int size = 0;
    for (byte[] r : records) {
      size += 4 + r.length;
    }
    ByteBuffer b = ByteBuffer.allocate(size);
    for (byte[] r : records) {
      b.putInt(r.length).put(r);
    }
    Files.write(f, b.array());
  }
}
