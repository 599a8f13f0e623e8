package io.beamgate.node.term;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import io.beamgate.node.testing.Erl;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * Runs {@code erl -noshell -eval Expr} as an OS process with a timeout, killing it (and what it
 * started) by PID in all cases. Without erl on PATH, {@link Erl#require()} fails the test when
 * CI=true and skips it otherwise.
 */
final class OtpProcess {
  private OtpProcess() {}

  /** Runs the body; it must halt(0) on success. The log is in the failure message. */
  static void eval(Path dir, String body, long timeoutSeconds)
      throws IOException, InterruptedException {
    String erl = Erl.require();
    String expr = "try " + body + ", halt(0) catch C:E:S -> io:format(\"~p~n\", [{C, E, S}]),"
        + " halt(1) end.";
    Path log = Files.createTempFile(dir, "erl", ".log");
    Process p = new ProcessBuilder(erl, "-noshell", "-eval", expr)
        .redirectErrorStream(true).redirectOutput(log.toFile()).start();
    try {
      if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
        fail("erl timed out after " + timeoutSeconds + " s: " + Files.readString(log));
      }
      assertEquals(0, p.exitValue(), "erl failed: " + Files.readString(log));
    } finally {
      if (p.isAlive()) {
        p.descendants().forEach(ProcessHandle::destroyForcibly);
        p.destroyForcibly();
        p.waitFor(10, TimeUnit.SECONDS);
      }
    }
  }

  /** An Erlang string literal for a path. */
  static String str(Path p) {
    String s = p.toAbsolutePath().toString();
    if (s.contains("\"") || s.contains("\\")) {
      throw new IllegalArgumentException("unexpected path: " + s);
    }
    return "\"" + s + "\"";
  }
}
