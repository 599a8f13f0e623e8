package io.beamgate.gateway.ops;

import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Readiness: whether a load balancer should send this gateway clients now, and if not, why.
 * Liveness needs no facts: a process that answers HTTP is live.
 */
public final class Health {
  private Health() {}

  /**
   * What readiness is decided from.
   *
   * @param listening the client listener is bound and not shutting down
   * @param backendsUp backends connected and in rotation (not ejected)
   * @param backendsTotal backends configured
   * @param policyLoaded a policy is in force
   * @param certificateNotAfter when the listener's certificate expires (null: unknown)
   * @param crlNextUpdate the CRL's next update (null: no CRL configured)
   * @param auditRefusal why the audit log makes the gateway refuse requests (null: it does not)
   */
  public record Facts(boolean listening, int backendsUp, int backendsTotal,
      boolean policyLoaded, Instant certificateNotAfter, Instant crlNextUpdate,
      String auditRefusal) {}

  /** The answer: ready or not, and a JSON-ready body that says why. */
  public record Report(boolean ready, Map<String, Object> body) {}

  public static Report ready(Facts f, Instant now) {
    List<String> problems = new ArrayList<>();
    Map<String, Object> checks = new LinkedHashMap<>();
    checks.put("listening", f.listening());
    if (!f.listening()) {
      problems.add("the client listener is not open (starting or shutting down)");
    }
    checks.put("backends_up", f.backendsUp());
    checks.put("backends_total", f.backendsTotal());
    if (f.backendsUp() < 1) {
      problems.add("no backend is up and in rotation (0 of " + f.backendsTotal() + ")");
    }
    checks.put("policy_loaded", f.policyLoaded());
    if (!f.policyLoaded()) {
      problems.add("no policy is loaded");
    }
    if (f.certificateNotAfter() != null) {
      checks.put("certificate_not_after", f.certificateNotAfter().toString());
      if (!now.isBefore(f.certificateNotAfter())) {
        problems.add("the listener's certificate expired at " + f.certificateNotAfter()
            + " (install a new one; it is picked up by reload)");
      }
    }
    if (f.crlNextUpdate() != null) {
      checks.put("crl_next_update", f.crlNextUpdate().toString());
      if (!now.isBefore(f.crlNextUpdate())) {
        problems.add("the CRL is past its next update " + f.crlNextUpdate()
            + " (publish a fresh CRL)");
      }
    }
    checks.put("audit_writable", f.auditRefusal() == null);
    if (f.auditRefusal() != null) {
      problems.add(f.auditRefusal());
    }
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("status", problems.isEmpty() ? "ready" : "unready");
    body.put("problems", problems);
    body.put("checks", checks);
    return new Report(problems.isEmpty(), body);
  }
}
