package io.beamgate.gateway.server;

import io.beamgate.gateway.admission.Admission;
import io.beamgate.gateway.admission.BackendPool;
import io.beamgate.gateway.bridge.BridgeHub;
import io.beamgate.gateway.bridge.BridgeLink;
import io.beamgate.gateway.bridge.BridgeSession;
import io.beamgate.gateway.ops.CertificateDates;
import io.beamgate.gateway.ops.GatewayMetrics;
import io.beamgate.gateway.ops.Health;
import io.beamgate.security.audit.AuditLog;
import io.beamgate.gateway.config.GatewayConfig;
import io.beamgate.security.guard.TermGuard;
import java.net.InetSocketAddress;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/**
 * The gateway's state as operators read it: the status document (admin socket and
 * {@code /status}), the facts {@code /ready} decides from, and the gauges read at each scrape.
 * It reads the parts; it changes nothing.
 */
final class GatewayStatus {
  /** The parts the status is read from. */
  record Parts(GatewayConfig config, Supplier<GatewayState> state, BackendPool backends,
      Admission admission, TermGuard guard, AuditLog audit, ClientConnections connections,
      Reloader reloader, List<BridgeLink> links, BridgeHub hub, GatewayMetrics metrics,
      Supplier<InetSocketAddress> listen, BooleanSupplier serving) {}

  private final Parts p;
  private volatile CertificateDates certificates = new CertificateDates(null, null, null);

  GatewayStatus(Parts parts) {
    this.p = parts;
  }

  /** Reads the certificates' and CRL's dates again (at start and after each reload). */
  void certificateDates(GatewayState st) {
    GatewayConfig.Tls tls = p.config().tls();
    certificates = CertificateDates.read(tls.certificate(), tls.clientCas(), tls.crl());
    p.metrics().certificates(certificates.certificateNotAfter(),
        certificates.clientCasNotAfter(), certificates.crlNextUpdate());
  }

  /**
   * The gateway's status as data: counters, each backend, bridges, the audit log, whether the
   * files on disk differ from those in force and the last reload error.
   */
  Map<String, Object> status() {
    List<Object> bridges = new ArrayList<>();
    for (BridgeLink l : p.links()) {
      bridges.add(l.status());
    }
    for (BridgeSession s : p.hub().sessions()) {
      bridges.add(s.status());
    }
    List<Object> each = new ArrayList<>();
    for (BackendPool.Backend b : p.backends().backends()) {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("node", b.node);
      m.put("up", b.up);
      m.put("ejected", b.ejected);
      m.put("in_flight", b.inFlight.get());
      m.put("state", b.describe());
      each.add(m);
    }
    GatewayState st = p.state().get();
    InetSocketAddress listen = p.listen().get();
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("version", GatewayVersion.text());
    m.put("node", p.config().cluster().nodeName());
    m.put("listen", listen == null ? null : listen.getAddress().getHostAddress() + ":"
        + listen.getPort());
    m.put("ready", Health.ready(readiness(), Instant.now()).ready());
    m.put("connections", p.connections().size());
    m.put("in_flight", p.admission().inFlight());
    m.put("backends_up", p.backends().upCount());
    m.put("backends", p.backends().summary());
    m.put("backend_list", each);
    m.put("generation", st.generation());
    m.put("policy_rules", st.policy().rules().size());
    m.put("files_changed", !GatewayState.stamps(p.config()).equals(st.stamps()));
    m.put("last_reload_error", p.reloader().lastError());
    m.put("atoms_used", p.guard().budget().used());
    m.put("atom_budget", p.guard().budget().limit());
    m.put("bridges", bridges);
    m.put("audit", p.audit().status());
    return m;
  }

  /** What {@code /ready} decides from. */
  Health.Facts readiness() {
    GatewayState st = p.state().get();
    int inRotation = 0;
    for (BackendPool.Backend b : p.backends().backends()) {
      if (b.up && !b.ejected) {
        inRotation++;
      }
    }
    return new Health.Facts(p.serving().getAsBoolean(), inRotation,
        p.backends().backends().size(), st != null && st.policy() != null,
        certificates.certificateNotAfter(), certificates.crlNextUpdate(), p.audit().refusal());
  }

  /** Gauges read at each scrape. */
  void registerGauges() {
    GatewayMetrics metrics = p.metrics();
    AuditLog audit = p.audit();
    TermGuard guard = p.guard();
    metrics.gauge("beamgate.requests.in.flight", "Requests admitted and not finished",
        p.admission()::inFlight);
    metrics.gauge("beamgate.connections.open", "Client connections open",
        p.connections()::size);
    metrics.gauge("beamgate.backends.up", "Backends connected and in rotation",
        () -> readiness().backendsUp());
    for (BackendPool.Backend b : p.backends().backends()) {
      metrics.flag("beamgate.backend.up", "1 when the backend is connected and in rotation",
          () -> b.up && !b.ejected, "backend", b.node);
      metrics.gauge("beamgate.backend.in.flight", "Calls in flight to the backend",
          b.inFlight::get, "backend", b.node);
    }
    metrics.gauge("beamgate.bridge.links.up", "Bridge links up, opened or accepted",
        () -> (int) p.links().stream().filter(BridgeLink::up).count()
            + p.hub().sessions().size());
    metrics.gauge("beamgate.bridge.queued.bytes", "Bytes queued for other gateways, over"
        + " every bridge link up", () -> {
          long sum = 0;
          for (BridgeLink l : p.links()) {
            sum += l.queuedBytes();
          }
          for (io.beamgate.gateway.bridge.BridgeSession s : p.hub().sessions()) {
            sum += s.queuedBytes();
          }
          return (int) Math.min(Integer.MAX_VALUE, sum);
        });
    metrics.flag("beamgate.audit.writable", "1 while audit records can be written",
        () -> Boolean.TRUE.equals(audit.status().get("writable")));
    metrics.gauge("beamgate.audit.lost", "Audit records not written since the start",
        () -> (int) Math.min(Integer.MAX_VALUE,
            ((Number) audit.status().getOrDefault("lost", 0)).longValue()));
    metrics.gauge("beamgate.atom.budget.used", "Atoms forwarded to the cluster so far",
        () -> (int) Math.min(Integer.MAX_VALUE, guard.budget().used()));
    metrics.gauge("beamgate.atom.budget.limit", "The policy's atom budget",
        () -> (int) Math.min(Integer.MAX_VALUE, guard.budget().limit()));
  }
}
