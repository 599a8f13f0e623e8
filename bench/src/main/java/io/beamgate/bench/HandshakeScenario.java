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
   * The warm-up under load, per target: long enough for the gateway's JIT to compile the
   * handshake path (a production gateway is long-running), the same for every target.
   */
  static final int WARM_UP_SECONDS = 5;

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
        Handshakes.measure(t.target(), t.pid(), null, 0, WARM_UP_SECONDS,
            Handshakes.CLIENTS);
      }
      for (int round = 1; round <= rounds; round++) {
        for (Loaded t : targets) {
          Handshakes.Result h = Handshakes.measure(t.target(), t.pid(),
              probes.get(t.target().name()), round, seconds, Handshakes.CLIENTS);
          out.add(h);
          System.out.printf(Locale.ROOT, "handshakes %-18s %8.0f /s (%d in %.2f s, %d clients;"
              + " server %.0f CPU-us each, %.2f cores; load %s)%n", h.target(), h.rate(),
              h.connections(), h.wallSeconds(), h.clients(), h.serverCpuUs(), h.serverCores(),
              Harness.loadAverage());
        }
      }
    }
    return out;
  }
}
