package io.beamgate.security.audit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.beamgate.security.identity.Principal;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AuditLogTest {
  @TempDir Path dir;
  final AtomicLong nanos = new AtomicLong();

  /** A record that names itself: its mfa is {@code probe:N/0}. */
  static AuditRecord numbered(int n) {
    return AuditRecord.builder().time(Instant.parse("2026-11-22T12:00:00Z"))
        .principal("spiffe://t/app").certificate("ab12", "7f").peer("127.0.0.1:5000")
        .target("backend@host").mfa("probe:" + n + "/0").decision(AuditRecord.Decision.ALLOWED)
        .rule("rule-1").reason("x".repeat(n % 50)).latencyMicros(n).outcome("ok")
        .requestId("probe-" + n).build();
  }

  AuditLog onDisk(Path file, AuditLog.OnFailure f, AuditFile.Opener opener) throws IOException {
    return new AuditLog(AuditFile.open(file, opener), f, nanos::get, Clock.systemUTC());
  }

  static List<String> lines(Path file) throws IOException {
    String text = Files.readString(file, StandardCharsets.UTF_8);
    assertTrue(text.isEmpty() || text.endsWith("\n"), "the file ends with a whole line");
    return text.isEmpty() ? List.of() : List.of(text.split("\n", -1)).subList(0,
        text.split("\n", -1).length - 1);
  }

  /** Checks every line is one JSON record; returns the numbers of the probe records. */
  static List<Integer> probes(Path file) throws IOException {
    List<Integer> out = new ArrayList<>();
    for (String l : lines(file)) {
      Map<String, Object> m = JsonLine.parse(l);
      String mfa = (String) m.get("mfa");
      if (mfa != null && mfa.startsWith("probe:")) {
        out.add(Integer.parseInt(mfa.substring(6, mfa.indexOf('/'))));
      }
    }
    return out;
  }

  static List<Map<String, Object>> gaps(Path file) throws IOException {
    List<Map<String, Object>> out = new ArrayList<>();
    for (String l : lines(file)) {
      Map<String, Object> m = JsonLine.parse(l);
      if ("audit_gap".equals(m.get("outcome"))) {
        out.add(m);
      }
    }
    return out;
  }

  @Test
  void oneJsonLinePerDecisionWithoutEmptyFields() throws Exception {
    Path f = dir.resolve("audit.jsonl");
    AuditLog log = AuditLog.toFile(f, AuditLog.OnFailure.REFUSE);
    log.identify("gw-1:8443");
    assertTrue(log.record(AuditRecord.of(new Principal("spiffe://t/app",
            Principal.Kind.URI, "ab12", "7f"), "127.0.0.1:5000")
        .time(Instant.parse("2026-11-22T12:00:00Z")).requestId("gw-1:8443/9")
        .link("to-b").target("backend@host").mfa("kv:get/1")
        .decision(AuditRecord.Decision.ALLOWED).rule("rule-1").latencyMicros(1234).outcome("ok")
        .build()));
    assertTrue(log.record(AuditRecord.of(new Principal("spiffe://t/app",
            Principal.Kind.URI, "ab12", "7f"), "127.0.0.1:5000")
        .time(Instant.parse("2026-11-22T12:00:01Z")).mfa("os:cmd/1")
        .decision(AuditRecord.Decision.DENIED).reason("built-in deny-list: os")
        .latencyMicros(12).build()));
    log.close();
    List<String> lines = lines(f);
    assertEquals(2, lines.size());
    // The documented order (docs/admin-guide.md, "Audit log"); a change here is a format change.
    assertEquals("{\"v\":1,\"time\":\"2026-11-22T12:00:00Z\",\"gateway\":\"gw-1:8443\","
        + "\"request_id\":\"gw-1:8443/9\",\"principal\":\"spiffe://t/app\","
        + "\"fingerprint\":\"ab12\",\"serial\":\"7f\",\"peer\":\"127.0.0.1:5000\","
        + "\"link\":\"to-b\",\"target\":\"backend@host\",\"mfa\":\"kv:get/1\","
        + "\"decision\":\"allowed\",\"rule\":\"rule-1\",\"latency_us\":1234,"
        + "\"outcome\":\"ok\"}", lines.get(0));
    assertTrue(lines.get(1).contains("\"gateway\":\"gw-1:8443\",\"request_id\":\"gw-1:8443/1\","),
        "a record without a request id gets a fresh one: " + lines.get(1));
    assertTrue(lines.get(1).contains("\"decision\":\"denied\"")
        && !lines.get(1).contains("\"rule\""), lines.get(1));
    assertEquals("rw-r-----", java.nio.file.attribute.PosixFilePermissions.toString(
        Files.getPosixFilePermissions(f)), "a new audit file is not for everyone to read");
  }

  @Test
  void hostileValuesCannotBreakTheLine() {
    String line = AuditJson.toJson(AuditRecord.builder().time(Instant.EPOCH)
        .principal("a\"b\\c\nd\u0000e\u2028").mfa("m:f/0").decision(AuditRecord.Decision.FAILED)
        .reason("x\ry").build());
    assertFalse(line.contains("\n"), "still one line");
    assertTrue(line.contains("\"principal\":\"a\\\"b\\\\c\\nd\\u0000e\\u2028\""), line);
    assertTrue(line.contains("\"reason\":\"x\\ry\""), line);
    assertFalse(line.contains("\u0000"));
    assertEquals("a\"b\\c\nd\u0000e\u2028", JsonLine.parse(line).get("principal"));
  }

  @Test
  void aDiskThatFillsAndEmptiesLeavesOnlyWholeRecordsAndEveryWrittenOne() throws Exception {
    Path f = dir.resolve("audit.jsonl");
    SmallDisk disk = new SmallDisk(5_000);
    AuditLog log = onDisk(f, AuditLog.OnFailure.CONTINUE, disk);
    Set<Integer> written = new TreeSet<>();
    Set<Integer> notWritten = new TreeSet<>();
    int n = 0;
    for (int round = 0; round < 3; round++) {
      for (int i = 0; i < 60; i++, n++) {
        (log.record(numbered(n)) ? written : notWritten).add(n);
      }
      assertFalse(notWritten.isEmpty(), "the disk filled up");
      assertNull(log.refusal(), "continue: requests are not refused");
      disk.free += 3_000 + 100 * round; // space freed: later records go in again
    }
    for (int i = 0; i < 5; i++, n++) {
      assertTrue(log.record(numbered(n)));
      written.add(n);
    }
    log.close();
    List<Integer> inFile = probes(f); // every line parses: no fragment, nothing glued
    assertEquals(new ArrayList<>(written), inFile, "each record reported written, once,"
        + " in order, and none reported lost");
    assertEquals(notWritten.size(), log.lost());
    List<Map<String, Object>> gaps = gaps(f);
    assertEquals(3, gaps.size(), "one gap record per outage");
    long said = 0;
    for (Map<String, Object> g : gaps) {
      String reason = (String) g.get("reason");
      assertTrue(reason.contains("No space left on device"), reason);
      said += Long.parseLong(reason.replaceAll(".*: (\\d+) record\\(s\\) lost", "$1"));
    }
    assertEquals(notWritten.size(), said, "the gap records count every lost record");
  }

  @Test
  void aPartialLineThatCannotBeCutAtOnceIsCutBeforeTheNextRecord() throws Exception {
    Path f = dir.resolve("audit.jsonl");
    SmallDisk disk = new SmallDisk(1_000);
    AuditLog log = onDisk(f, AuditLog.OnFailure.CONTINUE, disk);
    int n = 0;
    while (log.record(numbered(n))) {
      n++;
    }
    int firstLost = n;
    disk.truncateFails = true;
    disk.free = 10; // the next record gets 10 bytes in, and they cannot be taken back now
    assertFalse(log.record(numbered(++n)));
    assertTrue(Files.size(f) > 0 && !Files.readString(f).endsWith("\n"), "a fragment");
    disk.truncateFails = false;
    disk.free = 100_000;
    assertTrue(log.record(numbered(++n)));
    log.close();
    List<Integer> inFile = probes(f);
    assertFalse(inFile.contains(firstLost));
    assertFalse(inFile.contains(firstLost + 1));
    assertEquals(n, inFile.get(inFile.size() - 1));
  }

  @Test
  void refuseRefusesWhileTheLogCannotBeWrittenAndRecoversByItself() throws Exception {
    Path f = dir.resolve("audit.jsonl");
    SmallDisk disk = new SmallDisk(0);
    AuditLog log = onDisk(f, AuditLog.OnFailure.REFUSE, disk);
    assertNull(log.refusal());
    assertFalse(log.record(numbered(1)));
    String why = log.refusal();
    assertEquals("the audit log cannot be written (No space left on device); requests are"
        + " refused until it can (audit.on_failure: refuse)", why);
    log.maintain();
    assertNotNull(log.refusal(), "still full: still refused");
    assertEquals(false, log.status().get("writable"));
    disk.free = 100_000;
    log.maintain(); // the timer's retry, with no request coming in
    assertNull(log.refusal());
    assertTrue(log.writable());
    assertTrue(log.record(numbered(2)));
    log.close();
    assertEquals(List.of(2), probes(f));
    assertEquals(1, gaps(f).size());
    assertEquals(1L, log.lost());
  }

  @Test
  void theNextRecordAlsoEndsTheRefusal() throws Exception {
    SmallDisk disk = new SmallDisk(0);
    AuditLog log = onDisk(dir.resolve("audit.jsonl"), AuditLog.OnFailure.REFUSE, disk);
    assertFalse(log.record(numbered(1)));
    assertNotNull(log.refusal());
    disk.free = 100_000;
    assertTrue(log.record(numbered(2)));
    assertNull(log.refusal());
  }

  @Test
  void continueNeverRefusesAndCountsWhatIsLost() throws Exception {
    SmallDisk disk = new SmallDisk(0);
    AuditLog log = onDisk(dir.resolve("audit.jsonl"), AuditLog.OnFailure.CONTINUE, disk);
    for (int i = 0; i < 3 * AuditLog.SHOWN_PER_WINDOW; i++) {
      assertFalse(log.record(numbered(i)));
    }
    assertNull(log.refusal());
    assertFalse(log.writable());
    assertEquals(3L * AuditLog.SHOWN_PER_WINDOW, log.lost());
    Map<String, Object> st = log.status();
    assertEquals(3L * AuditLog.SHOWN_PER_WINDOW, st.get("lost"));
    assertEquals("continue", st.get("on_failure"));
    assertEquals("No space left on device", st.get("error"));
  }

  @Test
  void aRealFullDeviceIsAFailure() throws Exception {
    // /dev/full: every write fails with ENOSPC, as a full file system does.
    Path full = dir.resolve("audit.jsonl");
    Files.createSymbolicLink(full, Path.of("/dev/full"));
    AuditLog log = AuditLog.toFile(full, AuditLog.OnFailure.REFUSE);
    assertFalse(log.record(numbered(1)));
    assertTrue(log.refusal().contains("No space left on device"), log.refusal());
    Files.delete(full);
    log.reopen(); // after a rotation: a fresh file, writable
    assertNull(log.refusal());
    assertTrue(log.record(numbered(2)));
    log.close();
    assertEquals(List.of(2), probes(full));
  }

  @Test
  void aDeletedFileIsNoticedAndCreatedAgain() throws Exception {
    Path f = dir.resolve("audit.jsonl");
    AuditLog log = onDisk(f, AuditLog.OnFailure.REFUSE, AuditFile.APPEND);
    assertTrue(log.record(numbered(1)));
    Files.delete(f);
    nanos.addAndGet(AuditLog.CHECK_EVERY_NANOS); // the once-a-second check is due
    assertTrue(log.record(numbered(2)));
    assertEquals(List.of(2), probes(f), "the record went to the path, not the unlinked file");
    Files.delete(f);
    log.maintain(); // the timer's check, with no record coming
    assertTrue(Files.exists(f));
    assertTrue(log.record(numbered(3)));
    log.close();
    assertEquals(List.of(3), probes(f));
  }

  @Test
  void aRotatedFileIsNoticedAndAFreshOneOpened() throws Exception {
    Path f = dir.resolve("audit.jsonl");
    Path old = dir.resolve("audit.jsonl.1");
    AuditLog log = onDisk(f, AuditLog.OnFailure.REFUSE, AuditFile.APPEND);
    assertTrue(log.record(numbered(1)));
    Files.move(f, old);
    assertTrue(log.record(numbered(2)), "before the check: still the old file, nothing lost");
    nanos.addAndGet(AuditLog.CHECK_EVERY_NANOS);
    assertTrue(log.record(numbered(3)));
    Files.move(f, dir.resolve("audit.jsonl.2"));
    log.reopen(); // logrotate's postrotate: at once, with no wait
    assertTrue(log.record(numbered(4)));
    log.close();
    assertEquals(List.of(1, 2), probes(old));
    assertEquals(List.of(3), probes(dir.resolve("audit.jsonl.2")));
    assertEquals(List.of(4), probes(f));
  }

  @Test
  void aPathThatCannotBeOpenedAgainIsAnOutageUntilItCan() throws Exception {
    Path f = dir.resolve("audit.jsonl");
    AuditLog log = onDisk(f, AuditLog.OnFailure.REFUSE, AuditFile.APPEND);
    assertTrue(log.record(numbered(1)));
    Files.delete(f);
    Files.createDirectory(f); // as root, permissions would not stop us: a directory does
    log.maintain();
    assertTrue(log.refusal().contains("Is a directory"), log.refusal());
    assertThrows(IOException.class, log::reopen);
    assertFalse(log.record(numbered(2)));
    Files.delete(f);
    log.maintain();
    assertNull(log.refusal());
    assertTrue(log.record(numbered(3)));
    log.close();
    assertEquals(List.of(3), probes(f));
    assertEquals(1, gaps(f).size());
  }

  @Test
  void aFileEndingInAFragmentGetsANewlineBeforeTheFirstRecord() throws Exception {
    Path f = dir.resolve("audit.jsonl");
    Files.writeString(f, AuditJson.toJson(numbered(1)) + "\n{\"time\":\"2026-");
    AuditLog log = AuditLog.toFile(f, AuditLog.OnFailure.REFUSE);
    assertTrue(log.record(numbered(2)));
    log.close();
    List<String> lines = lines(f);
    assertEquals(3, lines.size());
    assertEquals("{\"time\":\"2026-", lines.get(1), "the fragment stays, alone on its line");
    assertEquals(numbered(2).mfa(), JsonLine.parse(lines.get(2)).get("mfa"));
  }

  @Test
  void standardOutputGetsTheSameLines() {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    AuditLog log = AuditLog.toStream(new PrintStream(bytes, true, StandardCharsets.UTF_8),
        AuditLog.OnFailure.CONTINUE);
    assertTrue(log.record(numbered(7)));
    assertEquals(AuditJson.toJson(numbered(7)) + "\n", bytes.toString(StandardCharsets.UTF_8));
  }

  @Test
  void standardOutputRecoversFromAFailedWrite() {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    boolean[] broken = {true};
    java.io.OutputStream out = new java.io.OutputStream() {
      @Override
      public void write(int b) throws IOException {
        write(new byte[] {(byte) b}, 0, 1);
      }

      @Override
      public void write(byte[] b, int off, int len) throws IOException {
        if (broken[0]) {
          throw new IOException("Broken pipe");
        }
        bytes.write(b, off, len);
      }
    };
    AuditLog log = AuditLog.toStream(out, AuditLog.OnFailure.REFUSE);
    assertFalse(log.record(numbered(1)));
    assertTrue(log.refusal().contains("Broken pipe"), log.refusal());
    broken[0] = false;
    log.maintain();
    assertNull(log.refusal());
    assertTrue(log.record(numbered(2)));
    String text = bytes.toString(StandardCharsets.UTF_8);
    assertTrue(text.contains("audit_gap") && text.endsWith(AuditJson.toJson(numbered(2))
        + "\n"), text);
  }

  @Test
  void lostRecordsAreLoggedAtABoundedRate() throws Exception {
    SmallDisk disk = new SmallDisk(0);
    AuditLog log = onDisk(dir.resolve("audit.jsonl"), AuditLog.OnFailure.CONTINUE, disk);
    PrintStream old = System.err;
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
    try {
      for (int i = 0; i < 100; i++) {
        assertFalse(log.record(numbered(i)));
      }
      nanos.addAndGet(AuditLog.WINDOW_NANOS);
      assertFalse(log.record(numbered(100)));
    } finally {
      System.setErr(old);
    }
    String text = err.toString(StandardCharsets.UTF_8);
    int shown = text.split("audit record not written", -1).length - 1;
    assertEquals(AuditLog.SHOWN_PER_WINDOW + 1, shown, text);
    assertTrue(text.contains((100 - AuditLog.SHOWN_PER_WINDOW)
        + " more audit record(s) not written in the last 10 s"), text);
    assertEquals(1, text.split("cannot be written", -1).length - 1, "the outage: once");
  }
}
