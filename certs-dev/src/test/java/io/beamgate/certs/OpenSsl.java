package io.beamgate.certs;

import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;

/** Runs the real {@code openssl}; tests fail under CI=true without it and skip elsewhere. */
final class OpenSsl {
  record Result(int exit, String output) {}

  private OpenSsl() {}

  static Result run(String... args) throws IOException, InterruptedException {
    List<String> cmd = new ArrayList<>();
    cmd.add("openssl");
    cmd.addAll(List.of(args));
    Process p;
    try {
      p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    } catch (IOException e) {
      String msg = "openssl not found: install Debian's openssl";
      if ("true".equalsIgnoreCase(System.getenv("CI"))) {
        fail(msg + " (CI=true: these tests must run)");
      }
      Assumptions.abort(msg);
      throw e;
    }
    String out = new String(p.getInputStream().readAllBytes());
    if (!p.waitFor(30, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new IOException("openssl timed out");
    }
    return new Result(p.exitValue(), out);
  }
}
