package io.beamgate.security.audit;

import java.io.IOException;
import java.io.Writer;
import java.util.Locale;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes one JSON object a line per decision (JSON Lines), flushed at once, so an operator's
 * tools can follow the file. Fields with no value are left out. Thread-safe. A failing write
 * is logged, never thrown at the request path.
 */
public final class AuditLog implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(AuditLog.class);
  private final Writer out;

  public AuditLog(Writer out) {
    this.out = out;
  }

  public void record(AuditRecord r) {
    String line = toJson(r);
    synchronized (this) {
      try {
        out.write(line);
        out.write('\n');
        out.flush();
      } catch (IOException e) {
        log.error("audit record not written ({}): {}", e.getMessage(), line);
      }
    }
  }

  static String toJson(AuditRecord r) {
    StringBuilder sb = new StringBuilder(256).append('{');
    field(sb, "time", r.time().toString());
    field(sb, "principal", r.principal());
    field(sb, "fingerprint", r.fingerprint());
    field(sb, "serial", r.serial());
    field(sb, "peer", r.peer());
    field(sb, "target", r.target());
    field(sb, "mfa", r.mfa());
    field(sb, "decision", r.decision().name().toLowerCase(Locale.ROOT));
    field(sb, "rule", r.rule());
    field(sb, "reason", r.reason());
    sb.append(",\"latency_us\":").append(r.latencyMicros());
    field(sb, "outcome", r.outcome());
    return sb.append('}').toString();
  }

  private static void field(StringBuilder sb, String name, String value) {
    if (value == null) {
      return;
    }
    if (sb.length() > 1) {
      sb.append(',');
    }
    sb.append('"').append(name).append("\":");
    quote(sb, value);
  }

  /** JSON string escaping (RFC 8259): quotes, backslashes and every control character. */
  static void quote(StringBuilder sb, String s) {
    sb.append('"');
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '"' -> sb.append("\\\"");
        case '\\' -> sb.append("\\\\");
        case '\n' -> sb.append("\\n");
        case '\r' -> sb.append("\\r");
        case '\t' -> sb.append("\\t");
        default -> {
          if (c < 0x20 || c == 0x7F || c == 0x2028 || c == 0x2029) {
            sb.append(String.format("\\u%04x", (int) c));
          } else {
            sb.append(c);
          }
        }
      }
    }
    sb.append('"');
  }

  @Override
  public void close() throws IOException {
    synchronized (this) {
      out.close();
    }
  }
}
