package io.beamgate.security.audit;

import java.util.Locale;

/**
 * One audit record as one line of JSON (JSON Lines), its fields always in this order:
 * {@code v, time, gateway, request_id, principal, fingerprint, serial, peer, link, target, mfa,
 * decision, rule, reason, latency_us, outcome}; fields with no value are left out. Its
 * string escaping serves the gateway's other JSON documents too.
 */
public final class AuditJson {
  private AuditJson() {}

  static String toJson(AuditRecord r) {
    // The order is part of the format (docs/admin-guide.md, "Audit log"): new fields are
    // added, never moved.
    StringBuilder sb = new StringBuilder(320).append('{');
    sb.append("\"v\":").append(r.v());
    field(sb, "time", r.time().toString());
    field(sb, "gateway", r.gateway());
    field(sb, "request_id", r.requestId());
    field(sb, "principal", r.principal());
    field(sb, "fingerprint", r.fingerprint());
    field(sb, "serial", r.serial());
    field(sb, "peer", r.peer());
    field(sb, "link", r.link());
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
  public static void quote(StringBuilder sb, String s) {
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
}
