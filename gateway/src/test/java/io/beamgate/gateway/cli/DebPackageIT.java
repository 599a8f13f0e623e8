package io.beamgate.gateway.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * target/beamgate.deb installed for real with dpkg (failsafe runs this after package), then
 * purged. Needs root and dpkg: under CI=true their absence is a failure, never a skip.
 */
class DebPackageIT {
  static final Path DEB = Path.of("target", "beamgate.deb");

  record Run(int exit, String out) {}

  static Run run(String... cmd) throws Exception {
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    p.getOutputStream().close();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!p.waitFor(120, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new AssertionError(String.join(" ", cmd) + ": no exit after 120 s\n" + out);
    }
    return new Run(p.exitValue(), out);
  }

  /** dpkg, retried while another dpkg or apt holds its lock (the machine is shared). */
  static Run dpkg(String... args) throws Exception {
    List<String> cmd = new java.util.ArrayList<>(List.of("dpkg"));
    cmd.addAll(List.of(args));
    Run r = null;
    for (int i = 0; i < 60; i++) {
      r = run(cmd.toArray(new String[0]));
      if (r.exit() == 0 || !r.out().contains("lock")) {
        return r;
      }
      Thread.sleep(2000);
    }
    return r;
  }

  static void need(boolean present, String what) {
    if (!present && "true".equalsIgnoreCase(System.getenv("CI"))) {
      throw new AssertionError(what + " (CI=true: the .deb must be installed, not skipped)");
    }
    Assumptions.assumeTrue(present, what);
  }

  static void removeUser() throws Exception {
    if (run("getent", "passwd", "beamgate").exit() == 0) {
      Run r = run("userdel", "beamgate");
      assertEquals(0, r.exit(), r.out());
    }
    if (run("getent", "group", "beamgate").exit() == 0) {
      Run r = run("groupdel", "beamgate");
      assertEquals(0, r.exit(), r.out());
    }
  }

  @Test
  void theDebInstallsRunsKeepsItsConffileAndPurges() throws Exception {
    assertTrue(Files.isRegularFile(DEB), DEB.toAbsolutePath() + " is missing (expected: built"
        + " by the package phase, jdeb)");
    need(Files.isExecutable(Path.of("/usr/bin/dpkg")), "dpkg is not installed");
    need("root".equals(System.getProperty("user.name")), "dpkg -i needs root");
    Run before = run("dpkg-query", "-W", "-f=${Status}", "beamgate");
    assertFalse(before.out().contains("installed") && !before.out().contains("not-installed"),
        "a beamgate package is already installed here; this test installs and purges its own"
        + " (remove it with dpkg -P beamgate): " + before.out());
    // A beamgate user left by an earlier run (a purge keeps it): gone, so that postinst is
    // seen creating it.
    removeUser();
    try {
      Run install = dpkg("-i", DEB.toAbsolutePath().toString());
      assertEquals(0, install.exit(), install.out());

      Run version = run("/usr/bin/beamgate", "--version");
      assertEquals(0, version.exit(), version.out());
      assertTrue(version.out().startsWith("beamgate 0."), version.out());
      Run help = run("/usr/bin/beamgate", "gateway", "run", "--help");
      assertTrue(help.out().contains("--log-format"), help.out());

      for (String f : List.of("/usr/share/beamgate/beamgate.jar",
          "/lib/systemd/system/beamgate.service", "/etc/beamgate/beamgate.env",
          "/usr/share/man/man1/beamgate-gateway-run.1.gz", "/usr/share/man/man1/beamgate.1.gz",
          "/usr/share/bash-completion/completions/beamgate",
          "/usr/share/doc/beamgate/copyright")) {
        assertTrue(Files.isRegularFile(Path.of(f)), f);
      }
      Run user = run("getent", "passwd", "beamgate");
      assertEquals(0, user.exit(), "no beamgate user after install");
      assertTrue(user.out().contains(":/var/lib/beamgate:/usr/sbin/nologin"), user.out());
      Run conf = run("stat", "-c", "%U:%G %a", "/etc/beamgate");
      assertEquals("root:beamgate 750", conf.out().strip());
      Run conffiles = run("dpkg-query", "-W", "-f=${Conffiles}", "beamgate");
      assertTrue(conffiles.out().contains("/etc/beamgate/beamgate.env"), conffiles.out());
      Run man = run("man", "-P", "cat", "-l", "/usr/share/man/man1/beamgate-gateway-run.1.gz");
      assertTrue(man.out().contains("--config=FILE"), man.out());

      // An operator's edit survives a reinstall and a remove; purge takes it.
      Path env = Path.of("/etc/beamgate/beamgate.env");
      Files.writeString(env, "# edited by DebPackageIT\n", StandardOpenOption.APPEND);
      Run again = dpkg("-i", DEB.toAbsolutePath().toString());
      assertEquals(0, again.exit(), again.out());
      assertTrue(Files.readString(env).contains("edited by DebPackageIT"), "conffile kept");
      Run remove = dpkg("-r", "beamgate");
      assertEquals(0, remove.exit(), remove.out());
      assertFalse(Files.exists(Path.of("/usr/bin/beamgate")));
      assertTrue(Files.readString(env).contains("edited by DebPackageIT"), "kept by remove");
    } finally {
      Run purge = dpkg("-P", "beamgate");
      assertEquals(0, purge.exit(), purge.out());
    }
    assertEquals(0, run("getent", "passwd", "beamgate").exit(),
        "a purge keeps the system user, as Debian does");
    removeUser(); // this test's own: the machine is left as it was
    assertFalse(Files.exists(Path.of("/usr/bin/beamgate")));
    assertFalse(Files.exists(Path.of("/etc/beamgate/beamgate.env")), "purge removes conffiles");
    assertFalse(run("dpkg-query", "-W", "-f=${Status}", "beamgate").out()
        .contains(" installed"));
  }
}
