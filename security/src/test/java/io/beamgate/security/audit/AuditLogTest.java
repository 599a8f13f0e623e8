package io.beamgate.security.audit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.StringWriter;
import java.time.Instant;
import org.junit.jupiter.api.Test;

class AuditLogTest {
  @Test
  void oneJsonLinePerDecisionWithoutEmptyFields() {
    StringWriter w = new StringWriter();
    AuditLog log = new AuditLog(w);
    log.record(new AuditRecord(Instant.parse("2026-11-22T12:00:00Z"), "spiffe://t/app", "ab12",
        "7f", "127.0.0.1:5000", "backend@host", "kv:get/1", AuditRecord.Decision.ALLOWED,
        "rule-1", null, 1234, "ok"));
    log.record(new AuditRecord(Instant.parse("2026-11-22T12:00:01Z"), "spiffe://t/app", "ab12",
        "7f", "127.0.0.1:5000", null, "os:cmd/1", AuditRecord.Decision.DENIED, null,
        "built-in deny-list: os", 12, null));
    String[] lines = w.toString().split("\n");
    assertEquals(2, lines.length);
    assertEquals("{\"time\":\"2026-11-22T12:00:00Z\",\"principal\":\"spiffe://t/app\","
        + "\"fingerprint\":\"ab12\",\"serial\":\"7f\",\"peer\":\"127.0.0.1:5000\","
        + "\"target\":\"backend@host\",\"mfa\":\"kv:get/1\",\"decision\":\"allowed\","
        + "\"rule\":\"rule-1\",\"latency_us\":1234,\"outcome\":\"ok\"}", lines[0]);
    assertTrue(lines[1].contains("\"decision\":\"denied\"") && !lines[1].contains("\"rule\""),
        lines[1]);
  }

  @Test
  void hostileValuesCannotBreakTheLine() {
    StringWriter w = new StringWriter();
    new AuditLog(w).record(new AuditRecord(Instant.EPOCH, "a\"b\\c\nd\u0000e\u2028", null,
        null, null, null, "m:f/0", AuditRecord.Decision.FAILED, null, "x\ry", 0, null));
    String line = w.toString();
    assertEquals(1, line.split("\n").length, "still one line");
    assertTrue(line.contains("\"principal\":\"a\\\"b\\\\c\\nd\\u0000e\\u2028\""), line);
    assertTrue(line.contains("\"reason\":\"x\\ry\""), line);
    assertFalse(line.contains("\u0000"));
  }
}
