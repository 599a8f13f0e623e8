package io.beamgate.security.audit;

import java.time.Instant;
import java.util.Objects;

/**
 * One decision about one request. Never holds argument contents or secrets.
 *
 * @param time when the decision was made
 * @param principal the client's identity (primary name), or null before it is known
 * @param fingerprint SHA-256 of the client certificate
 * @param serial the client certificate's serial number (hex)
 * @param peer the client's address
 * @param target where the request was bound (a node, a backend pool)
 * @param mfa {@code module:function/arity} or {@code send:Name}
 * @param decision what was decided
 * @param rule the policy rule that decided, or null
 * @param reason why, for refusals and failures
 * @param latencyMicros time from request to answer
 * @param outcome the result's kind ({@code ok}, {@code badrpc}, {@code timeout}...)
 */
public record AuditRecord(Instant time, String principal, String fingerprint, String serial,
    String peer, String target, String mfa, Decision decision, String rule, String reason,
    long latencyMicros, String outcome) {

  public enum Decision {
    ALLOWED, DENIED, SHADOW_DENIED, FAILED
  }

  public AuditRecord {
    Objects.requireNonNull(time, "time");
    Objects.requireNonNull(decision, "decision");
  }
}
