package io.beamgate.gateway.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * Debian's logrotate, run on a configuration the test writes, with a state file of its own
 * ({@code -s}): never the machine's. $LOGROTATE names another binary. Under CI=true a missing
 * logrotate is a failure (.ci/run installs it), never a skip.
 */
final class Logrotate {
  private Logrotate() {}

  static Path binary() {
    String env = System.getenv("LOGROTATE");
    Path p = Path.of(env != null && !env.isEmpty() ? env : "/usr/sbin/logrotate");
    if (!Files.isExecutable(p)) {
      io.beamgate.node.testing.Needs.missing(p
          + " is not installed (.ci/run installs logrotate)");
    }
    return p;
  }

  /** Rotates {@code file} as a packaged service's config would: create mode, two kept. */
  static void rotate(Path file, Path work) throws Exception {
    Path conf = work.resolve("logrotate.conf");
    Files.writeString(conf, file + " {\n  create 0600\n  rotate 2\n  missingok\n"
        + "  nocompress\n}\n", StandardCharsets.UTF_8);
    Process p = new ProcessBuilder(binary().toString(), "-f", "-s",
        work.resolve("logrotate.state").toString(), conf.toString())
        .redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(p.waitFor(60, TimeUnit.SECONDS));
    assertEquals(0, p.exitValue(), out);
    assertTrue(Files.exists(file.resolveSibling(file.getFileName() + ".1")), "rotated: " + out);
    assertEquals(0, Files.size(file), "logrotate created a new empty file");
  }
}
