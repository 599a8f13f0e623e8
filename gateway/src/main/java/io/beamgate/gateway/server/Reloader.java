package io.beamgate.gateway.server;

import io.beamgate.gateway.bridge.BridgeSession;
import io.beamgate.gateway.ops.GatewayMetrics;
import io.beamgate.gateway.proto.Error;
import io.beamgate.security.audit.AuditLog;
import io.beamgate.security.audit.AuditRecord;
import io.beamgate.security.yaml.ConfigException;
import io.beamgate.gateway.config.GatewayConfig;
import io.beamgate.security.guard.TermGuard;
import io.beamgate.security.identity.PeerIdentity;
import io.beamgate.security.tls.TlsSettings;
import java.io.IOException;
import java.nio.file.Path;
import java.security.cert.CertificateException;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reloads and the state they swap: the policy, certificates and CRL are loaded again when
 * their files change (checked every {@code reload.watch_interval_ms}) or on request; a new
 * {@link GatewayState} is validated whole before it replaces the old, and open connections
 * (client or bridge) whose peer lost access are closed and audited. A refused reload keeps the
 * old state and is not retried until the files change again (the error is repeated meanwhile,
 * at most every {@link #REPEAT_REFUSAL}).
 */
final class Reloader {
  private static final Logger log = LoggerFactory.getLogger(Reloader.class);
  static final Duration REPEAT_REFUSAL = Duration.ofSeconds(2);

  /** The outcome of a reload, for the operator. */
  record Result(boolean ok, String message) {}

  private final GatewayConfig config;
  private final TlsSettings.Provider provider;
  private final AtomicReference<GatewayState> state;
  private final Supplier<AuditLog> audit;
  private final Consumer<AuditRecord> record;
  private final GatewayMetrics metrics;
  private final TermGuard guard;
  private final Iterable<ClientConnection> clients;
  private final Supplier<Iterable<BridgeSession>> bridges;
  private final Consumer<GatewayState> applied;
  private volatile String lastError;
  // The files as they were when a reload was last refused, and why.
  private volatile Map<Path, String> refusedStamps;
  private volatile String refusedWhy;
  private volatile long refusalLoggedAt;
  final AtomicInteger refusalRepeats = new AtomicInteger(); // for tests

  /**
   * @param applied told of each state that was put in force (certificate dates, metrics)
   */
  Reloader(GatewayConfig config, TlsSettings.Provider provider,
      AtomicReference<GatewayState> state, Supplier<AuditLog> audit,
      Consumer<AuditRecord> record, GatewayMetrics metrics, TermGuard guard,
      Iterable<ClientConnection> clients, Supplier<Iterable<BridgeSession>> bridges,
      Consumer<GatewayState> applied) {
    this.config = config;
    this.provider = provider;
    this.state = state;
    this.audit = audit;
    this.record = record;
    this.metrics = metrics;
    this.guard = guard;
    this.clients = clients;
    this.bridges = bridges;
    this.applied = applied;
  }

  /** The last reload's error, or null when it succeeded (or none was refused yet). */
  String lastError() {
    return lastError;
  }

  /** Checks the files every {@code reload.watch_interval_ms} (0: never) on {@code timer}. */
  void watch(ScheduledExecutorService timer) {
    int every = config.reload().watchIntervalMillis();
    if (every <= 0) {
      return;
    }
    timer.scheduleWithFixedDelay(() -> {
      try {
        Map<Path, String> now = GatewayState.stamps(config);
        if (!now.equals(state.get().stamps())) {
          if (!now.equals(refusedStamps)) {
            log.info("a policy, certificate or CRL file changed: reloading");
            reload();
          } else if (System.nanoTime() - refusalLoggedAt >= REPEAT_REFUSAL.toNanos()) {
            refusalLoggedAt = System.nanoTime();
            refusalRepeats.incrementAndGet();
            log.error("{} (the files are still as they were)", refusedWhy);
          }
        }
      } catch (RuntimeException e) {
        log.error("reload check failed", e);
      }
    }, every, every, TimeUnit.MILLISECONDS);
  }

  /**
   * Loads the policy, certificates and CRL again; when all are valid, they replace the ones in
   * force atomically and connections whose principal lost access are closed. When any is
   * invalid, nothing changes and the reason is returned (and logged).
   */
  synchronized Result reload() {
    systemd.reloading();
    try {
      return reloadNow();
    } finally {
      systemd.ready("reloaded; " + (lastError == null ? "files in force" : lastError));
    }
  }

  /** Other connections to close on a reload (the gRPC door's): how many it closed. */
  void alsoClose(java.util.function.ToIntFunction<GatewayState> others) {
    this.others = others;
  }

  private volatile java.util.function.ToIntFunction<GatewayState> others = st -> 0;

  /** Where reloads are announced (sd_notify RELOADING=1, then READY=1); none by default. */
  void notify(io.beamgate.gateway.ops.SdNotify n) {
    systemd = n;
  }

  private volatile io.beamgate.gateway.ops.SdNotify systemd =
      io.beamgate.gateway.ops.SdNotify.to(null);

  private Result reloadNow() {
    String auditNote = reopenAudit();
    GatewayState old = state.get();
    GatewayState fresh;
    try {
      fresh = GatewayState.load(config, provider, old.generation() + 1);
    } catch (ConfigException | IOException | RuntimeException e) {
      String why = "reload refused, the previous policy and certificates stay in force: "
          + e.getMessage() + auditNote;
      log.error(why);
      refusedWhy = why;
      refusalLoggedAt = System.nanoTime();
      refusedStamps = GatewayState.stamps(config);
      lastError = why;
      metrics.reload(false);
      return new Result(false, why);
    }
    for (String w : fresh.warnings()) {
      log.warn("policy {}: {}", config.policy(), w);
    }
    if (fresh.policy().atomBudget() != guard.budget().limit()) {
      log.warn("policy atom_budget changed to {}; it takes effect at the next restart (in force:"
          + " {})", fresh.policy().atomBudget(), guard.budget().limit());
    }
    state.set(fresh);
    lastError = null;
    metrics.reload(true);
    applied.accept(fresh);
    int closedCount = 0;
    for (ClientConnection c : clients) {
      String why = lostAccess(c.identity(), fresh);
      if (why != null) {
        closedCount++;
        log.info("closing {} from {}: {}", c.principal().name(), c.peer(), why);
        record.accept(AuditRecord.of(c.identity()).decision(AuditRecord.Decision.DENIED)
            .reason("reload: " + why).outcome("closed").build());
        c.closeWith(Error.Code.CLOSING, "access revoked by a policy or certificate reload: "
            + why);
      }
    }
    for (BridgeSession b : bridges.get()) {
      String why = lostAccess(b.identity(), fresh);
      if (why != null) {
        closedCount++;
        log.info("closing {}: {}", b.label(), why);
        record.accept(AuditRecord.of(b.identity()).link(b.label()).mfa("bridge")
            .decision(AuditRecord.Decision.DENIED).reason("reload: " + why).outcome("closed")
            .build());
        b.channel().close();
      }
    }
    closedCount += others.applyAsInt(fresh);
    String msg = "reloaded (generation " + fresh.generation() + "): policy with "
        + fresh.policy().rules().size() + " rules; " + closedCount
        + " connection(s) closed for lost access" + auditNote;
    log.info(msg);
    return new Result(true, msg);
  }

  /**
   * Reopens the audit file now (SIGUSR1, {@code beamgate gateway reopen-audit}): after
   * logrotate moved it away, the next record goes to a new file at the configured path.
   */
  Result reopenAuditFile(Object where) {
    String note = reopenAudit();
    if (!note.isEmpty()) {
      log.error("audit{}", note);
      return new Result(false, note.substring(2));
    }
    String file = where == null ? "standard output (nothing to reopen)" : where.toString();
    log.info("audit file reopened: {}", file);
    return new Result(true, "audit file reopened: " + file);
  }

  /** Reopens the audit file (for logrotate's postrotate); a note for the result if it fails. */
  private String reopenAudit() {
    try {
      AuditLog a = audit.get();
      if (a != null) {
        a.reopen();
      }
      return "";
    } catch (IOException e) {
      return "; the audit file cannot be reopened: " + e.getMessage();
    }
  }

  /** Why an open connection of {@code who} may no longer stay under {@code st}, or null. */
  static String lostAccess(PeerIdentity who, GatewayState st) {
    if (who == null) {
      return null;
    }
    try {
      st.validator().checkClientTrusted(who.chain(), "UNKNOWN");
    } catch (CertificateException e) {
      return "certificate no longer accepted (" + e.getMessage() + ")";
    }
    boolean named = st.policy().names(who.principal());
    return named ? null : "no rule names " + who.name() + " any more";
  }
}
