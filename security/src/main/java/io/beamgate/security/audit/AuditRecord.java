package io.beamgate.security.audit;

import io.beamgate.security.identity.PeerIdentity;
import io.beamgate.security.identity.Principal;
import java.time.Instant;
import java.util.Objects;

/**
 * One decision about one request. Never holds argument contents or secrets. Built with
 * {@link #of(PeerIdentity)} (or {@link #of(Principal, String)}, {@link #from(String)},
 * {@link #builder()}) rather than positionally; the JSON field order is {@link AuditJson}'s
 * and is documented in docs/admin-guide.md ("Audit log").
 *
 * @param v the record schema's version ({@link #VERSION})
 * @param time when the decision was made
 * @param gateway the gateway that wrote it (stamped by {@link AuditLog} when left null)
 * @param requestId one id per request, the same on every record of that request, unique in
 *     the gateway's run (stamped by {@link AuditLog} with a fresh one when left null)
 * @param principal the client's identity (primary name), or null before it is known
 * @param fingerprint SHA-256 of the client certificate
 * @param serial the client certificate's serial number (hex)
 * @param peer the remote socket address of the connection the request came in on (a client's
 *     or another gateway's), {@code host:port}; null when the request came from inside the
 *     cluster
 * @param link the bridge link's name when the request crossed (or concerned) a bridge link
 * @param target where the request was bound (a node, a backend pool)
 * @param mfa {@code module:function/arity} or {@code send:Name}
 * @param decision what was decided
 * @param rule the policy rule that decided, or null
 * @param reason why, for refusals and failures
 * @param latencyMicros time from request to answer
 * @param outcome the result's kind ({@code ok}, {@code badrpc}, {@code timeout}...)
 */
public record AuditRecord(int v, Instant time, String gateway, String requestId,
    String principal, String fingerprint, String serial, String peer, String link,
    String target, String mfa, Decision decision, String rule, String reason,
    long latencyMicros, String outcome) {

  /** The schema version written in each record's {@code v}; bumped when a field changes. */
  public static final int VERSION = 1;

  public enum Decision {
    ALLOWED, DENIED, SHADOW_DENIED, FAILED
  }

  public AuditRecord {
    Objects.requireNonNull(time, "time");
    Objects.requireNonNull(decision, "decision");
  }

  /** A record about a request from {@code who} (its principal, certificate and address). */
  public static Builder of(PeerIdentity who) {
    return who == null ? new Builder() : of(who.principal(), who.address());
  }

  /** A record about a request from {@code p} (may be null) on a connection from {@code peer}. */
  public static Builder of(Principal p, String peer) {
    Builder b = new Builder().peer(peer);
    if (p != null) {
      b.principal = p.name();
      b.fingerprint = p.fingerprintSha256();
      b.serial = p.serialHex();
    }
    return b;
  }

  /** A record about a connection from {@code peer} before anyone is known on it. */
  public static Builder from(String peer) {
    return new Builder().peer(peer);
  }

  /** A record about no connection (the log's own records, requests from inside the cluster). */
  public static Builder builder() {
    return new Builder();
  }

  /** This record with the gateway's id and a request id where they were left null. */
  public AuditRecord stamped(String gatewayId, java.util.function.Supplier<String> ids) {
    if (gateway != null && requestId != null) {
      return this;
    }
    return new AuditRecord(v, time, gateway == null ? gatewayId : gateway,
        requestId == null ? ids.get() : requestId, principal, fingerprint, serial, peer, link,
        target, mfa, decision, rule, reason, latencyMicros, outcome);
  }

  /** Builds one record; {@link #decision} must be set, everything else may stay null. */
  public static final class Builder {
    private Instant time;
    private String gateway;
    private String requestId;
    private String principal;
    private String fingerprint;
    private String serial;
    private String peer;
    private String link;
    private String target;
    private String mfa;
    private Decision decision;
    private String rule;
    private String reason;
    private long latencyMicros;
    private String outcome;

    private Builder() {}

    /** When the decision was made (default: when the record is built). */
    public Builder time(Instant t) {
      time = t;
      return this;
    }

    public Builder gateway(String id) {
      gateway = id;
      return this;
    }

    public Builder requestId(String id) {
      requestId = id;
      return this;
    }

    /** A principal that is not a certificate's (e.g. {@code node:Name} inside the cluster). */
    public Builder principal(String name) {
      principal = name;
      return this;
    }

    /** The certificate of a client that has no principal (a refused handshake). */
    public Builder certificate(String fingerprintSha256, String serialHex) {
      fingerprint = fingerprintSha256;
      serial = serialHex;
      return this;
    }

    public Builder peer(String address) {
      peer = address;
      return this;
    }

    public Builder link(String name) {
      link = name;
      return this;
    }

    public Builder target(String t) {
      target = t;
      return this;
    }

    public Builder mfa(String what) {
      mfa = what;
      return this;
    }

    public Builder decision(Decision d) {
      decision = d;
      return this;
    }

    public Builder rule(String id) {
      rule = id;
      return this;
    }

    public Builder reason(String why) {
      reason = why;
      return this;
    }

    public Builder latencyMicros(long micros) {
      latencyMicros = micros;
      return this;
    }

    public Builder outcome(String o) {
      outcome = o;
      return this;
    }

    public AuditRecord build() {
      return new AuditRecord(VERSION, time == null ? Instant.now() : time, gateway, requestId,
          principal, fingerprint, serial, peer, link, target, mfa, decision, rule, reason,
          latencyMicros, outcome);
    }
  }
}
