package io.beamgate.security.audit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Records batched per event-loop turn: one append per batch, written when the turn's drain
 * runs (before the answers of that turn are flushed), in order, whole lines; on a disk that
 * fills up, the same records written or counted lost as one by one.
 */
class AuditBatchTest {
  @TempDir Path dir;
  final AtomicLong nanos = new AtomicLong();
  /** The "event loop": tasks run when the test says so, on the test's thread. */
  final ArrayDeque<Runnable> loop = new ArrayDeque<>();

  /** Counts the appends (one write system call each) of the file sink under it. */
  static final class CountingSink implements AuditSink {
    final AuditSink inner;
    int appends;

    CountingSink(AuditSink inner) {
      this.inner = inner;
    }

    @Override
    public void append(byte[] line) throws IOException {
      appends++;
      inner.append(line);
    }

    @Override
    public boolean atomic() {
      return inner.atomic();
    }

    @Override
    public String displaced() {
      return inner.displaced();
    }

    @Override
    public void reopen() throws IOException {
      inner.reopen();
    }

    @Override
    public String describe() {
      return inner.describe();
    }

    @Override
    public void close() throws IOException {
      inner.close();
    }
  }

  void runLoop() {
    while (!loop.isEmpty()) {
      loop.poll().run();
    }
  }

  @Test
  void aTurnsRecordsGoOutInOneAppendWhenItsDrainRuns() throws Exception {
    Path f = dir.resolve("audit.jsonl");
    CountingSink sink = new CountingSink(AuditFile.open(f, AuditFile.APPEND));
    AuditLog log = new AuditLog(sink, AuditLog.OnFailure.REFUSE, nanos::get, Clock.systemUTC());
    for (int i = 0; i < 10; i++) {
      log.record(AuditLogTest.numbered(i), loop::add);
    }
    assertEquals(1, loop.size(), "one drain per turn");
    assertEquals(List.of(), AuditLogTest.probes(f), "nothing before the drain");
    runLoop();
    assertEquals(1, sink.appends);
    assertEquals(List.of(0, 1, 2, 3, 4, 5, 6, 7, 8, 9), AuditLogTest.probes(f));
    log.record(AuditLogTest.numbered(10), loop::add); // the next turn: a new batch
    runLoop();
    assertEquals(2, sink.appends);
    assertEquals(11, AuditLogTest.probes(f).size());
    log.close();
  }

  /**
   * A record made after its turn's drain task already ran (a completion queued by another
   * thread between the drain and the flush) is written by the flush's drainThisThread, before
   * the answer goes; another thread's drain does not take this thread's records.
   */
  @Test
  void aFlushWritesTheRecordsThisThreadStillHoldsBack() throws Exception {
    Path f = dir.resolve("audit.jsonl");
    CountingSink sink = new CountingSink(AuditFile.open(f, AuditFile.APPEND));
    AuditLog log = new AuditLog(sink, AuditLog.OnFailure.REFUSE, nanos::get, Clock.systemUTC());
    log.record(AuditLogTest.numbered(0), loop::add);
    runLoop(); // the turn's drain ran
    log.record(AuditLogTest.numbered(1), loop::add); // its drain is queued after the flush
    log.record(AuditLogTest.numbered(2), loop::add);
    Thread other = new Thread(AuditLog::drainThisThread);
    other.start();
    other.join();
    assertEquals(List.of(0), AuditLogTest.probes(f), "another thread's flush takes nothing");
    AuditLog.drainThisThread(); // the flush task
    assertEquals(List.of(0, 1, 2), AuditLogTest.probes(f), "written before the answers");
    assertEquals(2, sink.appends);
    runLoop(); // the late drain task finds nothing left
    AuditLog.drainThisThread();
    assertEquals(2, sink.appends);
    assertEquals(List.of(0, 1, 2), AuditLogTest.probes(f));
    log.close();
  }

  @Test
  void aBatchAtItsBoundIsWrittenAtOnce() throws Exception {
    Path f = dir.resolve("audit.jsonl");
    CountingSink sink = new CountingSink(AuditFile.open(f, AuditFile.APPEND));
    AuditLog log = new AuditLog(sink, AuditLog.OnFailure.REFUSE, nanos::get, Clock.systemUTC());
    int n = AuditLog.MAX_BATCH * 2 + 3;
    for (int i = 0; i < n; i++) {
      log.record(AuditLogTest.numbered(i), loop::add);
    }
    assertEquals(2, sink.appends, "two full batches went out during the turn");
    assertEquals(AuditLog.MAX_BATCH * 2, AuditLogTest.probes(f).size());
    runLoop();
    assertEquals(3, sink.appends);
    List<Integer> expected = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      expected.add(i);
    }
    assertEquals(expected, AuditLogTest.probes(f), "in order, once each");
    log.close();
  }

  @Test
  void aBatchOnAFillingDiskWritesOrCountsEachRecordAsOneByOne() throws Exception {
    Path f = dir.resolve("audit.jsonl");
    SmallDisk disk = new SmallDisk(5_000);
    AuditLog log = new AuditLog(AuditFile.open(f, disk), AuditLog.OnFailure.CONTINUE,
        nanos::get, Clock.systemUTC());
    List<AuditRecord> batch = new ArrayList<>();
    for (int i = 0; i < 60; i++) {
      batch.add(AuditLogTest.numbered(i));
    }
    int written = log.recordAll(batch); // 60 records do not fit in 5 000 bytes
    assertTrue(written > 0 && written < 60, "written: " + written);
    List<Integer> inFile = AuditLogTest.probes(f); // every line parses: whole lines only
    List<Integer> first = new ArrayList<>();
    for (int i = 0; i < written; i++) {
      first.add(i);
    }
    assertEquals(first, inFile, "the records that fitted, in order; the partial batch is gone");
    assertEquals(60 - written, log.lost());
    disk.free += 10_000;
    assertEquals(2, log.recordAll(List.of(AuditLogTest.numbered(100),
        AuditLogTest.numbered(101))));
    List<Map<String, Object>> gaps = AuditLogTest.gaps(f);
    assertEquals(1, gaps.size());
    assertTrue(((String) gaps.get(0).get("reason")).endsWith(": " + (60 - written)
        + " record(s) lost"), gaps.get(0).toString());
    log.close();
  }

  @Test
  void standardOutputIsWrittenAtOnce() {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    AuditLog log = AuditLog.toStream(out, AuditLog.OnFailure.REFUSE);
    log.record(AuditLogTest.numbered(1), loop::add);
    assertTrue(loop.isEmpty(), "a sink that cannot take a batch back is not batched");
    assertTrue(out.toString().contains("probe:1/0"));
  }

  @Test
  void noLoopMeansAtOnce() throws Exception {
    Path f = dir.resolve("audit.jsonl");
    AuditLog log = AuditLog.toFile(f, AuditLog.OnFailure.REFUSE);
    log.record(AuditLogTest.numbered(1), null);
    assertEquals(List.of(1), AuditLogTest.probes(f));
    log.close();
  }
}
