package io.beamgate.security.audit;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.Executor;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes one JSON object a line per decision (JSON Lines), each line whole or not at all, so
 * an operator's tools can follow the file. Thread-safe.
 *
 * <p>A write that fails (a full disk, a deleted directory) is never thrown at the request
 * path. The log enters an outage: {@link #refusal()} gives the reason requests must be
 * refused (with {@link OnFailure#REFUSE}), records that cannot be written are counted
 * ({@link #lost()}) and logged at a bounded rate, and every later write, and
 * {@link #maintain()} once a second, tries again. The first line that goes out after an
 * outage is an {@code audit_gap} record saying when the outage began and how many records it
 * cost; then the outage is over.
 *
 * <p>A file deleted or renamed away (log rotation) is noticed within a second and opened
 * again; {@link #reopen()} does it at once (for logrotate's postrotate).
 */
public final class AuditLog implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(AuditLog.class);
  static final long CHECK_EVERY_NANOS = Duration.ofSeconds(1).toNanos();
  /** Lost records shown in the log per window; the rest are counted in one line. */
  static final int SHOWN_PER_WINDOW = 20;
  static final long WINDOW_NANOS = Duration.ofSeconds(10).toNanos();

  /** What a record that cannot be written does to requests ({@code audit.on_failure}). */
  public enum OnFailure {
    /** Fail closed: while the audit cannot be written, requests are refused. */
    REFUSE,
    /** Fail open: requests are served; lost records are counted and logged. */
    CONTINUE;

    /** As written in the configuration file. */
    public String configName() {
      return name().toLowerCase(Locale.ROOT);
    }
  }

  private final AuditSink sink;
  private final OnFailure onFailure;
  private final LongSupplier nanos;
  private final Clock clock;
  // Why the last write failed, while the outage lasts; null when the log is writable.
  private volatile String failure;
  private volatile long lostTotal;
  private Instant outageSince;
  private long lostInOutage;
  private long lastCheck;
  private long windowStart;
  private int shownInWindow;
  private long hiddenInWindow;

  AuditLog(AuditSink sink, OnFailure onFailure, LongSupplier nanos, Clock clock) {
    this.sink = Objects.requireNonNull(sink, "sink");
    this.onFailure = Objects.requireNonNull(onFailure, "onFailure");
    this.nanos = nanos;
    this.clock = clock;
    this.lastCheck = nanos.getAsLong();
    this.windowStart = lastCheck;
  }

  /** Appends to {@code file}, created owner read-write, group read when missing. */
  public static AuditLog toFile(Path file, OnFailure onFailure) throws IOException {
    return toFile(file, onFailure, AuditFile.APPEND);
  }

  static AuditLog toFile(Path file, OnFailure onFailure, AuditFile.Opener opener)
      throws IOException {
    return new AuditLog(AuditFile.open(file, opener), onFailure, System::nanoTime,
        Clock.systemUTC());
  }

  /**
   * Writes to {@code out} (standard output, when no file is configured). Give it the file
   * descriptor's stream, not a PrintStream, whose error flag, once set, never clears.
   */
  public static AuditLog toStream(OutputStream out, OnFailure onFailure) {
    return new AuditLog(new StreamSink(out), onFailure, System::nanoTime, Clock.systemUTC());
  }

  /**
   * Names the gateway in every record from now on ({@code gateway}); records without a
   * request id get one of {@code ID/N} (N counts from 1 in this run).
   */
  public void identify(String gatewayId) {
    this.gatewayId = gatewayId;
  }

  /** The gateway's id, as written in each record's {@code gateway}, or null. */
  public String gatewayId() {
    return gatewayId;
  }

  /**
   * A fresh request id, unique in this run: the gateway's id, a slash and a counter. A door
   * takes one per request and puts it on every record of that request.
   */
  public String nextRequestId() {
    String g = gatewayId;
    return (g == null ? "" : g + "/") + requestIds.incrementAndGet();
  }

  private volatile String gatewayId;
  private final java.util.concurrent.atomic.AtomicLong requestIds =
      new java.util.concurrent.atomic.AtomicLong();

  /** Writes {@code r}; true when it is in the log, false when it is not (and counted). */
  public boolean record(AuditRecord r) {
    byte[] line = line(r);
    synchronized (this) {
      long now = nanos.getAsLong();
      if (now - lastCheck >= CHECK_EVERY_NANOS) {
        checkPlace(now);
      }
      return writeLocked(line, now);
    }
  }

  /**
   * Records of one thread waiting for the end of its turn; a thread's own, so no lock (the
   * drain runs on the same thread).
   */
  private final ThreadLocal<List<AuditRecord>> pending = ThreadLocal.withInitial(ArrayList::new);

  /**
   * Writes {@code r} together with the other records this thread makes before {@code later}
   * runs the drain: {@code later} must run a task on this same thread after the tasks already
   * queued there (an event loop's {@code execute}), so that the answers of the same turn, flushed
   * by a task queued after this one, leave only once their records are in the file. One write
   * system call per batch instead of one per record; the lines are whole, in this thread's
   * order, and each is counted lost if it cannot be written, as with {@link #record}. With no
   * {@code later} (null: not on an event loop), or on a sink that cannot take a batch back
   * whole (standard output), the record is written at once.
   */
  public void record(AuditRecord r, Executor later) {
    if (later == null || !sink.atomic()) {
      record(r);
      return;
    }
    List<AuditRecord> mine = pending.get();
    mine.add(r);
    if (mine.size() >= MAX_BATCH) {
      drain(mine); // a turn that makes this many records writes them as it goes
    } else if (mine.size() == 1) {
      List<AuditLog> here = HELD_HERE.get();
      if (!here.contains(this)) {
        here.add(this);
      }
      try {
        later.execute(() -> drain(mine));
      } catch (RuntimeException e) {
        drain(mine); // the loop is shutting down: now, not never
      }
    }
  }

  /**
   * The logs that hold records of this thread back: drained by
   * {@link #drainThisThread} before a flush, so that an answer never leaves before its record
   * even when its record was made after the turn's drain task had already run (a completion
   * queued by another thread between the drain task and the flush task).
   */
  private static final ThreadLocal<List<AuditLog>> HELD_HERE =
      ThreadLocal.withInitial(ArrayList::new);

  /**
   * Writes now every record this thread holds back for the end of its turn (of any log). A
   * connection calls it right before it flushes answers; cheap when there are none.
   */
  public static void drainThisThread() {
    List<AuditLog> here = HELD_HERE.get();
    while (!here.isEmpty()) {
      AuditLog log = here.remove(here.size() - 1);
      log.drain(log.pending.get());
    }
  }

  /** The most records one batch holds (a batch is one write system call). */
  static final int MAX_BATCH = 256;

  private void drain(List<AuditRecord> mine) {
    HELD_HERE.get().remove(this);
    if (mine.isEmpty()) {
      return;
    }
    List<AuditRecord> batch = new ArrayList<>(mine);
    mine.clear();
    recordAll(batch);
  }

  /**
   * Writes {@code records} in order with one append (one write system call) when the log is
   * writable; when that append fails (the sink takes the partial batch back), each record
   * goes as {@link #record} writes it, so the same ones are written or counted lost as one by
   * one. Returns how many are in the log.
   */
  public int recordAll(List<AuditRecord> records) {
    byte[][] lines = new byte[records.size()][];
    int total = 0;
    for (int i = 0; i < lines.length; i++) {
      lines[i] = line(records.get(i));
      total += lines[i].length;
    }
    synchronized (this) {
      long now = nanos.getAsLong();
      if (now - lastCheck >= CHECK_EVERY_NANOS) {
        checkPlace(now);
      }
      if (failure == null && lines.length > 1 && sink.atomic()) {
        byte[] all = new byte[total];
        int at = 0;
        for (byte[] l : lines) {
          System.arraycopy(l, 0, all, at, l.length);
          at += l.length;
        }
        try {
          sink.append(all);
          return lines.length;
        } catch (IOException e) {
          // nothing of the batch is in the file: line by line below, as without batches
        }
      }
      int written = 0;
      for (byte[] l : lines) {
        written += writeLocked(l, now) ? 1 : 0;
      }
      return written;
    }
  }

  /** {@code r} as its line, with the gateway's id and a request id where it has none. */
  private byte[] line(AuditRecord r) {
    return (AuditJson.toJson(r.stamped(gatewayId, this::nextRequestId)) + "\n")
        .getBytes(StandardCharsets.UTF_8);
  }

  /** Under the lock: one line, or the outage's rules; true when it is in the log. */
  private boolean writeLocked(byte[] line, long now) {
    if (failure != null && !closeOutage()) {
      lose(line, now);
      return false;
    }
    try {
      sink.append(line);
      return true;
    } catch (IOException e) {
      failed(e);
      lose(line, now);
      return false;
    }
  }

  /**
   * Null while the log is writable, or with {@link OnFailure#CONTINUE}; else why requests
   * are refused. Cheap: the request path asks it before each request.
   */
  public String refusal() {
    String f = failure;
    if (f == null || onFailure == OnFailure.CONTINUE) {
      return null;
    }
    return "the audit log cannot be written (" + f + "); requests are refused until it can"
        + " (audit.on_failure: refuse)";
  }

  /** Whether the last write (or retry) succeeded. */
  public boolean writable() {
    return failure == null;
  }

  /** Records not written since the log was opened. */
  public long lost() {
    return lostTotal;
  }

  public OnFailure onFailure() {
    return onFailure;
  }

  /** For status output: where, whether writable, records lost, the failure policy. */
  public synchronized Map<String, Object> status() {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("file", sink.describe());
    m.put("writable", failure == null);
    if (failure != null) {
      m.put("error", failure);
      m.put("since", String.valueOf(outageSince));
    }
    m.put("lost", lostTotal);
    m.put("on_failure", onFailure.configName());
    return m;
  }

  /**
   * Once a second: notices a file deleted or rotated away and opens it again, and during an
   * outage tries to write again (so a log with no traffic recovers too).
   */
  public synchronized void maintain() {
    long now = nanos.getAsLong();
    checkPlace(now);
    if (failure != null) {
      closeOutage();
    }
    flushWindow(now, true);
  }

  /** Closes and opens the file again (after logrotate moved it away). */
  public synchronized void reopen() throws IOException {
    if (!(sink instanceof AuditFile)) {
      return; // standard output: nothing to reopen
    }
    try {
      sink.reopen();
      log.info("audit file {} reopened", sink.describe());
    } catch (IOException e) {
      failed(e);
      throw new IOException(sink.describe() + ": " + message(e), e);
    }
    if (failure != null) {
      closeOutage();
    }
  }

  private void checkPlace(long now) {
    lastCheck = now;
    String why = sink.displaced();
    if (why == null) {
      return;
    }
    try {
      sink.reopen();
      log.warn("audit file {}: {}; opened it again", sink.describe(), why);
    } catch (IOException e) {
      if (failure == null) {
        log.warn("audit file {}: {}; cannot open it again: {}", sink.describe(), why,
            message(e));
      }
      failed(e); // during an outage, the periodic summary says it is still down
    }
  }

  /** Writes the gap record of the outage; true (and the outage is over) when it went out. */
  private boolean closeOutage() {
    Instant now = clock.instant();
    String why = "the audit log could not be written from " + outageSince + " to " + now
        + " (" + failure + "): " + lostInOutage + " record(s) lost";
    byte[] gap = (AuditJson.toJson(AuditRecord.builder().time(now)
        .decision(AuditRecord.Decision.FAILED).reason(why).outcome("audit_gap").build()
        .stamped(gatewayId, this::nextRequestId)) + "\n")
        .getBytes(StandardCharsets.UTF_8);
    try {
      sink.append(gap);
    } catch (IOException e) {
      failure = message(e);
      return false;
    }
    long millis = Duration.between(outageSince, now).toMillis();
    log.warn("audit log {} writable again after {} ms: {} record(s) lost (an audit_gap record"
        + " says so in the file){}", sink.describe(), millis, lostInOutage,
        onFailure == OnFailure.REFUSE ? "; requests are served again" : "");
    failure = null;
    outageSince = null;
    lostInOutage = 0;
    return true;
  }

  private void failed(IOException e) {
    String first = failure;
    failure = message(e);
    if (first != null) {
      return;
    }
    outageSince = clock.instant();
    log.error("audit log {} cannot be written ({}): {}", sink.describe(), failure,
        onFailure == OnFailure.REFUSE
            ? "requests are refused until it can (audit.on_failure: refuse)"
            : "requests are served and their records lost until it can (audit.on_failure:"
                + " continue)");
    if (!sink.atomic()) {
      log.warn("audit on {}: a record may have been cut short", sink.describe());
    }
  }

  /** Counts a record that is not in the file, and shows it in the log within the budget. */
  private void lose(byte[] line, long now) {
    lostTotal++;
    lostInOutage++;
    flushWindow(now, false);
    if (shownInWindow < SHOWN_PER_WINDOW) {
      shownInWindow++;
      log.warn("audit record not written: {}",
          new String(line, 0, line.length - 1, StandardCharsets.UTF_8));
    } else {
      hiddenInWindow++;
    }
  }

  /** Ends the log window when it is over: one line for the records it did not show. */
  private void flushWindow(long now, boolean fromTimer) {
    if (now - windowStart < WINDOW_NANOS) {
      return;
    }
    if (hiddenInWindow > 0) {
      log.warn("{} more audit record(s) not written in the last {} s (not shown; {} lost in"
          + " all)", hiddenInWindow, WINDOW_NANOS / 1_000_000_000L, lostTotal);
    } else if (failure != null && fromTimer) {
      log.error("audit log {} still cannot be written ({}): {} record(s) lost since {}",
          sink.describe(), failure, lostInOutage, outageSince);
    }
    windowStart = now;
    shownInWindow = 0;
    hiddenInWindow = 0;
  }

  /** The reason in words: "No space left on device", "No such file or directory: PATH". */
  static String message(IOException e) {
    if (e instanceof java.nio.file.FileSystemException fs) {
      String reason = fs.getReason();
      if (reason == null) {
        reason = e instanceof java.nio.file.NoSuchFileException ? "No such file or directory"
            : e instanceof java.nio.file.AccessDeniedException ? "Permission denied"
            : e.getClass().getSimpleName();
      }
      return fs.getFile() == null ? reason : reason + ": " + fs.getFile();
    }
    return e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
  }

  @Override
  public synchronized void close() throws IOException {
    if (hiddenInWindow > 0) {
      log.warn("{} more audit record(s) not written (not shown; {} lost in all)",
          hiddenInWindow, lostTotal);
    }
    sink.close();
  }
}
