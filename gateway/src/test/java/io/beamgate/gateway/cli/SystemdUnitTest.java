package io.beamgate.gateway.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The systemd unit shipped in src/main/dist: valid for systemd, and for the CLI it starts. */
class SystemdUnitTest {
  static final Path UNIT = Path.of("src", "main", "dist", "beamgate.service");

  static String value(String unit, String key) {
    return unit.lines().filter(l -> l.startsWith(key + "=")).map(l -> l.substring(
        key.length() + 1)).findFirst().orElseThrow(() -> new AssertionError(key + " missing"));
  }

  @Test
  void theUnitReloadsWithSighupAndIsSandboxed() throws Exception {
    String unit = Files.readString(UNIT, StandardCharsets.UTF_8);
    assertEquals("/bin/kill -HUP $MAINPID", value(unit, "ExecReload"));
    for (String k : List.of("NoNewPrivileges=yes", "ProtectSystem=strict", "ProtectHome=yes",
        "PrivateTmp=yes", "CapabilityBoundingSet=", "User=beamgate", "UMask=0077",
        // the gateway sends sd_notify from its main process (SdNotify, GatewayNotifyTest)
        "Type=notify", "NotifyAccess=main")) {
      assertTrue(unit.lines().anyMatch(k::equals), k);
    }
  }

  @Test
  void itsCommandLineIsOneTheCliAccepts() throws Exception {
    String exec = value(Files.readString(UNIT, StandardCharsets.UTF_8), "ExecStart");
    List<String> words = Arrays.asList(exec.split(" +"));
    int jar = words.indexOf("/usr/bin/beamgate");
    String[] args = words.subList(jar + 1, words.size()).toArray(new String[0]);
    // throws on an unknown option or a missing value
    Main.commandLine().parseArgs(args);
    assertEquals(List.of("gateway", "run"), words.subList(jar + 1, jar + 3));
  }

  @Test
  void systemdAnalyzeVerifiesItWithoutAWord(@TempDir Path dir) throws Exception {
    // Debian's systemd package has it (CI: apt-get install -y systemd).
    boolean present = Files.isExecutable(Path.of("/usr/bin/systemd-analyze"))
        || Files.isExecutable(Path.of("/bin/systemd-analyze"));
    if (!present && "true".equalsIgnoreCase(System.getenv("CI"))) {
      throw new AssertionError("systemd-analyze is not installed (CI=true: .ci/run installs"
          + " systemd; this check must run, not skip)");
    }
    Assumptions.assumeTrue(present, "systemd-analyze is not installed");
    // verify checks that ExecStart's program exists: the unit as shipped, with /usr/bin/beamgate
    // (installed by the .deb, DebPackageIT) pointed at the launcher in src/main/dist.
    Path launcher = Path.of("src", "main", "dist", "beamgate").toAbsolutePath();
    assertTrue(Files.isExecutable(launcher), launcher + " must be executable");
    Path unit = dir.resolve("beamgate.service");
    Files.writeString(unit, Files.readString(UNIT, StandardCharsets.UTF_8)
        .replace("ExecStart=/usr/bin/beamgate ", "ExecStart=" + launcher + " "));
    Process p = new ProcessBuilder("systemd-analyze", "verify", unit.toString())
        .redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(p.waitFor(60, TimeUnit.SECONDS));
    assertEquals(0, p.exitValue(), out);
    assertEquals("", out.strip(), "warnings are errors here");
  }
}
