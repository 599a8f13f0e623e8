package io.beamgate.bench;

import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** The handshake section of the report and the handshake goal (issue 17). */
final class HandshakeReport {
  private HandshakeReport() {}

  private static String f(String fmt, Object... args) {
    return String.format(Locale.ROOT, fmt, args);
  }

  /** The target's best round (highest handshakes/s), or null. */
  static Handshakes.Result best(List<Handshakes.Result> all, String target) {
    return all.stream().filter(h -> h.target().equals(target))
        .max(Comparator.comparingDouble(Handshakes.Result::rate)).orElse(null);
  }

  /** Goal: the gateway's best round over HAProxy's best round, at least 1.0. */
  static Report.Goal goal(Report.Run run) {
    Handshakes.Result a = best(run.handshakes(), HaProxyTarget.NAME);
    Handshakes.Result g = best(run.handshakes(), "gateway");
    Double r = a == null || g == null ? null : g.rate() / a.rate();
    return new Report.Goal(f("full mTLS 1.3 handshakes/s, %d concurrent openssl s_time clients,"
        + " ≥ 1.0× HAProxy (%d threads, verify required)", Handshakes.CLIENTS,
        HaProxyTarget.THREADS), "handshakes", a == null ? "not measured" : f("%.0f/s", a.rate()),
        g == null ? "not measured" : f("%.0f/s", g.rate()), r, r);
  }

  static String section(Report.Run run) {
    StringBuilder sb = new StringBuilder("## Full mTLS handshakes per second\n\n");
    int clients = run.handshakes().isEmpty() ? Handshakes.CLIENTS
        : run.handshakes().get(0).clients();
    sb.append(f("%d `openssl s_time -new -time %d -tls1_3` processes run at once against each"
        + " target, with the client certificate (`-cert`, `-key`, `-CAfile`, `-verify 2`);"
        + " each makes one connection at a time, each a full handshake (no session reuse). The"
        + " rate is the sum of their counts over the wall time from the first start to the"
        + " last exit (s_time prints whole seconds). The targets, with the same server"
        + " certificate (EC P-256) and CA:%n%n", clients, run.seconds()));
    sb.append(f("- `haproxy` — the goal's anchor: Debian's HAProxy (`haproxy -v`: 2.6), `nbthread"
        + " %d`, a TCP frontend `bind ... ssl crt <server.pem> ca-file <ca.pem> verify required"
        + " ssl-min-ver TLSv1.3`, session tickets off (`no-tls-tickets`: by default it sends two"
        + " after each handshake, which the gateway does not); after the handshake it only holds"
        + " the connection"
        + " (`tcp-request inspect-delay 10s`, `tcp-request content reject if WAIT_END`), so it"
        + " never connects to a backend and does the handshake work and little else;%n",
        HaProxyTarget.THREADS));
    sb.append("- `openssl s_server` — a second anchor: `-tls1_3 -Verify 2 -verify_return_error`;"
        + " it serves one connection at a time (one core at most), so it is bounded well below"
        + " a server that uses both cores;\n");
    sb.append(run.gatewayMissing() == null
        ? "- `gateway` — `beamgate gateway run`'s listener (" + run.gatewayTlsProvider()
            + "), its default I/O threads (the node's, as many as cores, at most 4: 2 here),"
            + " audit log on.\n\n"
        : "- `gateway` — not measured: " + run.gatewayMissing() + ".\n\n");
    sb.append("s_time counts a connection once its side of the handshake is done, which in TLS"
        + " 1.3 is before the server has checked the client's certificate, so a count alone"
        + " would include refused clients: each target is first probed with a JDK TLS 1.3"
        + " client — the bench client certificate must be accepted (the connection stays"
        + " open), none and another CA's must be refused. Each target is then warmed up under"
        + f(" the same load, not counted: rounds of %d s until a JVM's JIT compilers burn less"
        + " than %.0f%% of what it does, at most %d s (a production gateway is long-running;"
        + " on a loaded machine its JIT takes thousands of handshakes to settle).",
        HandshakeScenario.WARM_UP_SECONDS, HandshakeScenario.JIT_QUIET * 100,
        HandshakeScenario.WARM_UP_MAX_SECONDS)
        + " Server CPU is the target process's on-CPU time over the window (per thread,"
        + " `/proc/PID/task/TID/schedstat`; a JVM's JIT compiler threads apart, in their own"
        + " column), per handshake and in cores busy: the s_time clients run on the same two"
        + " cores, so a target can be short of CPU while its clients are not.\n\n");
    sb.append(f("The targets alternate, %d round(s) each; the goal compares each target's best"
        + " round.%n%n", run.rounds()));
    sb.append("| target | round | clients | handshakes/s | handshakes | seconds | server CPU-µs"
        + " per handshake | server cores busy | JIT CPU-ms | load (1, 5, 15 min) |\n"
        + "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|\n");
    Map<String, Handshakes.Probe> probes = new LinkedHashMap<>();
    for (Handshakes.Result h : run.handshakes()) {
      sb.append(f("| %s | %d | %d | %.0f | %d | %.2f | %.0f | %.2f | %s | %s |%n", h.target(),
          h.round(), h.clients(), h.rate(), h.connections(), h.wallSeconds(), h.serverCpuUs(),
          h.serverCores(), h.target().equals("gateway") ? f("%d", h.jitNs() / 1_000_000)
              : "—", h.load()));
      probes.put(h.target(), h.probe());
    }
    Handshakes.Result ha = best(run.handshakes(), HaProxyTarget.NAME);
    Handshakes.Result ss = best(run.handshakes(), "openssl s_server");
    Handshakes.Result gw = best(run.handshakes(), "gateway");
    if (gw != null) {
      sb.append('\n');
      if (ha != null) {
        sb.append(f("Best rounds: gateway/haproxy = %.2f× in handshakes/s, %.2f× in server"
            + " CPU per handshake", gw.rate() / ha.rate(), gw.serverCpuUs() / ha.serverCpuUs()));
      }
      if (ss != null) {
        sb.append(f("; gateway/s_server = %.2f× in handshakes/s", gw.rate() / ss.rate()));
      }
      sb.append(".\n");
    }
    sb.append("\n| target | bench client | no certificate | another CA's certificate |\n"
        + "|---|---|---|---|\n");
    for (Map.Entry<String, Handshakes.Probe> e : probes.entrySet()) {
      sb.append(f("| %s | %s | %s | %s |%n", e.getKey(), e.getValue().accepted(),
          e.getValue().refusedWithoutCert(), e.getValue().refusedOtherCa()));
    }
    sb.append('\n');
    return sb.toString();
  }
}
