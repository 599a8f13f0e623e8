package io.beamgate.security.audit;

import java.io.FileOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;

/**
 * Run by {@link AuditLogTmpfsTest} inside its own mount namespace, with a small tmpfs at
 * {@code args[0]}: writes records while the file system fills up and frees up again, then
 * copies the audit file out to {@code args[1]} with the numbers of the records reported
 * written and lost. The tmpfs goes away with this process.
 */
public final class TmpfsAuditProbe {
  private TmpfsAuditProbe() {}

  public static void main(String[] args) throws Exception {
    Path fs = Path.of(args[0]);
    Path out = Path.of(args[1]);
    Path file = fs.resolve("audit.jsonl");
    List<Integer> written = new ArrayList<>();
    List<Integer> lost = new ArrayList<>();
    AuditLog log = AuditLog.toFile(file, AuditLog.OnFailure.REFUSE);
    int n = 0;
    for (int cycle = 0; cycle < 3; cycle++) {
      for (int i = 0; i < 5; i++, n++) {
        (log.record(AuditLogTest.numbered(n)) ? written : lost).add(n);
      }
      Path filler = fs.resolve("filler");
      fill(filler);
      boolean refused = false;
      for (int i = 0; i < 200; i++, n++) {
        (log.record(AuditLogTest.numbered(n)) ? written : lost).add(n);
        refused |= log.refusal() != null;
      }
      if (!refused) {
        throw new AssertionError("the file system never filled up");
      }
      Files.delete(filler);
      log.maintain(); // the gateway's once-a-second retry ends the refusal
      if (log.refusal() != null) {
        throw new AssertionError("still refused after space was freed: " + log.refusal());
      }
      for (int i = 0; i < 20; i++, n++) {
        (log.record(AuditLogTest.numbered(n)) ? written : lost).add(n);
      }
    }
    log.close();
    Files.copy(file, out.resolve("audit.jsonl"), StandardCopyOption.REPLACE_EXISTING);
    Files.writeString(out.resolve("written.txt"), join(written));
    Files.writeString(out.resolve("lost.txt"), join(lost));
    Files.writeString(out.resolve("lost-count.txt"), Long.toString(log.lost()));
  }

  /** Writes to {@code filler} until the file system has no byte left. */
  private static void fill(Path filler) throws IOException {
    try (OutputStream o = new FileOutputStream(filler.toFile())) {
      byte[] page = new byte[4096];
      try {
        while (true) {
          o.write(page);
        }
      } catch (IOException full) {
        // now byte by byte, into what is left of the last page
      }
      try {
        while (true) {
          o.write(1);
        }
      } catch (IOException full) {
        // full
      }
    }
  }

  private static String join(List<Integer> ns) {
    StringBuilder sb = new StringBuilder();
    for (int x : ns) {
      sb.append(x).append('\n');
    }
    return sb.toString();
  }
}
