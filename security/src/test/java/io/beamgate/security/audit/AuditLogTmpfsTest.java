package io.beamgate.security.audit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The audit log on a real file system that fills up: a 256 KiB tmpfs mounted in a private
 * mount namespace ({@code unshare -m} as root, or {@code unshare -Urm}), where {@link TmpfsAuditProbe} runs. The
 * kernel's own partial writes and ENOSPC, no simulation. Under CI=true, a machine where this
 * cannot be mounted fails the test instead of skipping it.
 */
class AuditLogTmpfsTest {
  @TempDir Path dir;

  @Test
  void aRealFileSystemThatFillsAndEmptiesLeavesOnlyWholeRecordsAndEveryWrittenOne()
      throws Exception {
    Path mnt = Files.createDirectory(dir.resolve("mnt"));
    Path out = Files.createDirectory(dir.resolve("out"));
    String unshare = namespaceFlags(mnt);
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    Process p = new ProcessBuilder("unshare", unshare, "sh", "-c",
        "mount -t tmpfs -o size=256k tmpfs \"$1\" && exec \"$2\" -Xmx64m -cp \"$3\" "
            + TmpfsAuditProbe.class.getName() + " \"$1\" \"$4\"",
        "sh", mnt.toString(), java, System.getProperty("java.class.path"), out.toString())
        .redirectErrorStream(true).redirectOutput(dir.resolve("probe.log").toFile()).start();
    if (!p.waitFor(120, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      fail("the probe did not finish in 120 s");
    }
    String probeLog = Files.readString(dir.resolve("probe.log"));
    assertEquals(0, p.exitValue(), "probe failed:\n" + probeLog);

    Path audit = out.resolve("audit.jsonl");
    List<Integer> written = numbers(out.resolve("written.txt"));
    List<Integer> lost = numbers(out.resolve("lost.txt"));
    assertFalse(lost.isEmpty(), "the file system filled up");
    assertEquals(Long.parseLong(Files.readString(out.resolve("lost-count.txt"))), lost.size());
    // Every line parses (no fragment, nothing glued); every record reported written is
    // there once and in order; none reported lost is.
    assertEquals(written, AuditLogTest.probes(audit));
    List<Map<String, Object>> gaps = AuditLogTest.gaps(audit);
    assertEquals(3, gaps.size(), "one audit_gap record per time the disk was full");
    for (Map<String, Object> g : gaps) {
      assertTrue(((String) g.get("reason")).contains("No space left on device"),
          g::toString);
    }
    assertTrue(probeLog.contains("audit record not written"), "lost records are logged");
  }

  /**
   * The unshare flags that let this process mount a tmpfs: {@code -m} as root, else
   * {@code -Urm} (a user namespace, where user namespaces are allowed). Skips when neither
   * works, except under CI, where that is a failure.
   */
  private static String namespaceFlags(Path mnt) throws IOException, InterruptedException {
    StringBuilder why = new StringBuilder();
    for (String flags : List.of("-m", "-Urm")) {
      try {
        Process p = new ProcessBuilder("unshare", flags, "sh", "-c",
            "mount -t tmpfs -o size=64k tmpfs \"$1\"", "sh", mnt.toString())
            .redirectErrorStream(true).start();
        String text = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0) {
          return flags;
        }
        why.append(" unshare ").append(flags).append(": ").append(text.strip()).append(';');
      } catch (IOException e) {
        why.append(" cannot run unshare (util-linux): ").append(e.getMessage()).append(';');
      }
    }
    String msg = "cannot mount a tmpfs in a private mount namespace (needs root, or"
        + " CAP_SYS_ADMIN, or user namespaces):" + why;
    if ("true".equals(System.getenv("CI"))) {
      fail(msg);
    }
    Assumptions.abort(msg);
    return null;
  }

  private static List<Integer> numbers(Path f) throws IOException {
    List<Integer> out = new ArrayList<>();
    for (String l : Files.readAllLines(f)) {
      if (!l.isBlank()) {
        out.add(Integer.parseInt(l.trim()));
      }
    }
    return out;
  }
}
