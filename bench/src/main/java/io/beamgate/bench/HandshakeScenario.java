package io.beamgate.bench;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The handshake scenario of issue 17: full mutual-TLS 1.3 handshakes per second under
 * {@link Handshakes#CLIENTS} concurrent {@code openssl s_time -new} processes, against HAProxy
 * (the goal's anchor, {@link HaProxyTarget}), {@code openssl s_server} (a second anchor, one
 * connection at a time by design) and the gateway's listener when it runs. Every target is
 * probed for mutual TLS first, then warmed up under the same load (the gateway is a
 * long-running JVM: its JIT should not count), then the targets alternate, round after round.
 */
final class HandshakeScenario {
  private HandshakeScenario() {}

  /**
   * The warm-up under load, per target: rounds of this many seconds until the target's JIT
   * compilers burn less than {@link #JIT_QUIET} of what the target itself does (at once for a
   * target that is not a JVM), at most {@link #WARM_UP_MAX_SECONDS}: a production gateway is
   * long-running, and on a loaded machine its JIT takes thousands of handshakes to settle.
   */
  static final int WARM_UP_SECONDS = 3;
  static final double JIT_QUIET = 0.1;
  static final int WARM_UP_MAX_SECONDS = 45;

  private record Loaded(Handshakes.TlsTarget target, long pid) {}

  static List<Handshakes.Result> run(BenchPki pki, Path tmp, GatewayPath gateway, int rounds,
      int seconds) throws Exception {
    List<Handshakes.Result> out = new ArrayList<>();
    try (HaProxyTarget haproxy = HaProxyTarget.start(pki, tmp.resolve("haproxy"));
        Handshakes.SServer sServer = Handshakes.SServer.start(pki, tmp)) {
      List<Loaded> targets = new ArrayList<>(List.of(new Loaded(haproxy.target, haproxy.pid()),
          new Loaded(sServer.target, sServer.pid())));
      if (gateway != null) {
        targets.add(new Loaded(gateway.listener(), gateway.pid()));
      }
      Map<String, Handshakes.Probe> probes = new LinkedHashMap<>();
      for (Loaded t : targets) {
        Handshakes.Probe p = Handshakes.checkMutualTls(t.target(), pki.otherClient());
        probes.put(t.target().name(), p);
        System.out.println("handshakes: " + t.target().name() + " probe " + p);
      }
      for (Loaded t : targets) {
        warmUp(t);
      }
      for (int round = 1; round <= rounds; round++) {
        for (Loaded t : targets) {
          Handshakes.Result h = Handshakes.measure(t.target(), t.pid(),
              probes.get(t.target().name()), round, seconds, Handshakes.CLIENTS);
          out.add(h);
          System.out.printf(Locale.ROOT, "handshakes %-18s %8.0f /s (%d in %.2f s, %d clients;"
              + " server %.0f CPU-us each, %.2f cores, JIT %d ms; load %s)%n", h.target(),
              h.rate(), h.connections(), h.wallSeconds(), h.clients(), h.serverCpuUs(),
              h.serverCores(), h.jitNs() / 1_000_000, h.load());
        }
      }
    }
    return out;
  }

  private static void warmUp(Loaded t) throws Exception {
    long end = System.nanoTime() + WARM_UP_MAX_SECONDS * 1_000_000_000L;
    while (true) {
      Handshakes.Result w = Handshakes.measure(t.target(), t.pid(), null, 0, WARM_UP_SECONDS,
          Handshakes.CLIENTS);
      System.out.printf(Locale.ROOT, "handshakes warm-up %-10s %6.0f /s, %.0f CPU-us each,"
          + " JIT %d ms%n", t.target().name(), w.rate(), w.serverCpuUs(),
          w.jitNs() / 1_000_000);
      if (w.jitNs() <= JIT_QUIET * Math.max(0, w.serverCpuNs()) || System.nanoTime() > end) {
        return;
      }
    }
  }
}
