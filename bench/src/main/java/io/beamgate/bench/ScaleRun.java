package io.beamgate.bench;

import io.beamgate.bench.ScaleLoad.Call;
import io.beamgate.bench.ScaleLoad.Kind;
import io.beamgate.client.BeamgateClient;
import io.beamgate.client.ClientConfig;
import io.beamgate.client.GatewayException;
import io.beamgate.node.epmd.EpmdServer;
import io.beamgate.node.term.Atom;
import io.beamgate.node.term.ErlList;
import io.beamgate.node.term.Int;
import io.beamgate.node.term.Term;
import io.beamgate.node.term.Tuple;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The harness's scale scenario ({@code bench/run.sh --only scale}): 1, 2 and 3 gateway
 * processes in front of the same two erl backends, 64 calls of 100 B in flight spread by the
 * Java client over the address list (calls/s, latency and CPU-µs per call summed over every
 * process); then, with three gateways under a load of idempotent and non-idempotent calls, one
 * gateway lost (kill -9: the connections reset; SIGSTOP: silent, found by the client's
 * keepalive), and the time until the throughput is back, what was retried, what was reported
 * OUTCOME_UNKNOWN, and the backends' count of how many times each call ran.
 */
final class ScaleRun {
  static final int CONCURRENCY = 64;
  static final int SIZE = 100;
  static final Duration KEEPALIVE_INTERVAL = Duration.ofMillis(500);
  static final Duration KEEPALIVE_TIMEOUT = Duration.ofSeconds(2);
  /** Seconds of load before the loss, and after it. */
  static final int BEFORE_LOSS = 3;
  static final int AFTER_LOSS = 7;
  /** Seconds of calls before each gateway count is measured (its new gateway is cold). */
  static final int WARM_UP = 5;
  /** The window over which the recovered throughput is judged. */
  static final long RECOVERY_WINDOW_NS = 250_000_000L;

  /** One gateway count's figures; {@code cpuUs}: CPU-µs per call by process. */
  record Throughput(int gateways, long calls, double seconds, long p50Us, long p99Us,
      Map<String, Double> cpuUs, double idleUs) {
    double rate() {
      return calls / seconds;
    }

    double cpuTotal() {
      return cpuUs.values().stream().mapToDouble(Double::doubleValue).sum();
    }
  }

  /** How one gateway was lost. */
  enum Loss {
    KILL("kill -9 (connections reset)"),
    STOP("SIGSTOP (silent; found by the client's keepalive)");

    final String text;

    Loss(String text) {
      this.text = text;
    }
  }

  /**
   * One loss under load. Times in ms after the loss; -1: not within the run. {@code
   * idemTwice}: idempotent calls the backends ran twice (retried after running through the lost
   * gateway); {@code idemViaLost}: idempotent calls answered after the loss that had run
   * through the lost gateway (their answer was lost with it: each was retried);
   * {@code onceTwice}: non-idempotent calls run more than once (must be 0).
   */
  record Failover(Loss loss, double rateBefore, double reference, long seenMs, long recoveredMs,
      long settledMs, long slowestAfterMs, int idemInFlight, long idemOk,
      Map<GatewayException.Code, Long> idemFailed, long idemTwice, long idemViaLost,
      int onceInFlight, long onceOk, long onceUnknown, long onceUnknownRan,
      long onceUnknownViaSurvivor,
      Map<GatewayException.Code, Long> onceFailed, long onceTwice, long onceOkNotRun) {}

  /** Everything the scenario measured. */
  record Result(List<Throughput> throughput, double reference, List<Failover> failovers,
      int seconds, int rounds, String loadAtStart, String loadAtEnd) {}

  private final ScaleCluster cluster;
  private final int seconds;
  private final int rounds;

  private ScaleRun(ScaleCluster cluster, int seconds, int rounds) {
    this.cluster = cluster;
    this.seconds = seconds;
    this.rounds = Math.max(1, rounds);
  }

  /** Runs the whole scenario with its own EPMD, backends and gateways; kills them all after. */
  static Result run(Path jar, int seconds, int rounds) throws Exception {
    String loadAtStart = Harness.loadAverage();
    Path tmp = Files.createTempDirectory("beamgate-scale");
    try (EpmdServer epmd = EpmdServer.start(EpmdServer.Config.loopback(0));
        ScaleCluster c = new ScaleCluster(tmp, jar, epmd.port())) {
      c.startBackends();
      ScaleRun r = new ScaleRun(c, seconds, rounds);
      List<Throughput> t = new ArrayList<>();
      for (int n = 1; n <= ScaleCluster.GATEWAYS; n++) {
        c.startGateway(n - 1);
        t.add(r.throughput(n));
      }
      double reference = r.mixRate(2);
      System.out.printf(Locale.ROOT, "scale: reference, 2 gateways, mixed load: %.0f calls/s%n",
          reference);
      List<Failover> f = new ArrayList<>();
      for (Loss loss : Loss.values()) {
        f.add(r.failover(loss, reference));
      }
      return new Result(t, reference, f, seconds, rounds, loadAtStart, Harness.loadAverage());
    } finally {
      Harness.deleteTree(tmp);
    }
  }

  private BeamgateClient client(ScaleCluster.Cert cert, int gateways) throws Exception {
    BeamgateClient c = BeamgateClient.connect(ClientConfig.builder()
        .gateways(cluster.addresses(gateways)).tls(cert.cert(), cert.key(), cert.ca())
        .maxInFlight(CONCURRENCY).callTimeout(Duration.ofSeconds(30))
        .keepalive(KEEPALIVE_INTERVAL, KEEPALIVE_TIMEOUT).build());
    long end = System.nanoTime() + 20_000_000_000L;
    while (c.connectedGateways() < gateways) {
      if (System.nanoTime() > end) {
        c.close();
        throw new IllegalStateException("client connected to " + c.connectedGateways()
            + " of " + gateways + " gateways in 20 s (expected: all)");
      }
      Thread.sleep(20);
    }
    return c;
  }

  /** The processes whose CPU is counted, by name: the client JVM, the gateways, the backends. */
  private Map<String, Long> pids(int gateways) {
    Map<String, Long> m = new LinkedHashMap<>();
    m.put(Cpu.CLIENT_JVM, ProcessHandle.current().pid());
    for (int i = 0; i < gateways; i++) {
      m.put("gateway " + (i + 1), cluster.gateways[i].pid());
    }
    for (int i = 0; i < 2; i++) {
      m.put("erl backend " + (i + 1), cluster.backendProcesses[i].pid());
    }
    return m;
  }

  /** {@code n} gateways' best round (noise from elsewhere only ever slows a round down). */
  private Throughput throughput(int n) throws Exception {
    try (BeamgateClient c = client(cluster.onceClient, n)) {
      List<ScaleLoad.Stream> s = List.of(new ScaleLoad.Stream(c, Kind.ELEMENT, CONCURRENCY));
      // The new gateway's JIT warms up before anything counts (the others' too, after a
      // start), as in the harness's gateway client.
      check(ScaleLoad.start(s, SIZE, WARM_UP).await(30));
      Throughput best = null;
      for (int round = 0; round < rounds; round++) {
        Throughput t = measure(n, s);
        if (best == null || t.rate() > best.rate()) {
          best = t;
        }
      }
      return best;
    }
  }

  private Throughput measure(int n, List<ScaleLoad.Stream> s) throws Exception {
    {
      Map<String, Long> pids = pids(n);
      Map<String, Cpu.Sample> idle0 = Cpu.snapshot(pids);
      long i0 = System.nanoTime();
      Thread.sleep(Cpu.IDLE_MILLIS);
      Map<String, Cpu.Sample> start = Cpu.snapshot(pids);
      long idleNs = System.nanoTime() - i0;
      ScaleLoad load = ScaleLoad.start(s, SIZE, seconds).await(30);
      long elapsed = System.nanoTime() - load.t0;
      Map<String, Cpu.Sample> end = Cpu.snapshot(pids);
      check(load);
      List<Call> calls = load.calls();
      long[] lat = calls.stream().mapToLong(Call::latencyUs).sorted().toArray();
      Map<String, Double> cpu = new LinkedHashMap<>();
      double idle = 0;
      for (String p : pids.keySet()) {
        cpu.put(p, Cpu.deltaNs(start.get(p), end.get(p)) / 1000.0 / lat.length);
        idle += Math.max(0, Cpu.deltaNs(idle0.get(p), start.get(p)));
      }
      Throughput t = new Throughput(n, lat.length, elapsed / 1e9, Harness.pct(lat, 50),
          Harness.pct(lat, 99), cpu, idle * elapsed / idleNs / 1000.0 / lat.length);
      System.out.printf(Locale.ROOT, "scale: %d gateway(s): %.0f calls/s, p50 %d us, p99 %d us,"
          + " %.1f CPU-us/call (idle part %.1f) %s%n", n, t.rate(), t.p50Us(), t.p99Us(),
          t.cpuTotal(), t.idleUs(), cpu);
      return t;
    }
  }

  private static void check(ScaleLoad load) {
    if (load.unexpected() != null) {
      throw new IllegalStateException("scale: a call failed", load.unexpected());
    }
    for (Call c : load.calls()) {
      if (c.failure() != null) {
        throw new IllegalStateException("scale: a call failed with " + c.failure()
            + " with every gateway up (expected: none)");
      }
    }
  }

  /** The mixed load (idempotent and not) through the first {@code n} gateways: calls/s. */
  private double mixRate(int n) throws Exception {
    try (BeamgateClient idem = client(cluster.idempotentClient, n);
        BeamgateClient once = client(cluster.onceClient, n)) {
      List<ScaleLoad.Stream> s = mix(idem, once);
      check(ScaleLoad.start(s, SIZE, 2).await(30));
      ScaleLoad load = ScaleLoad.start(s, SIZE, seconds).await(30);
      check(load);
      return load.calls().size() / (seconds * 1.0);
    }
  }

  private static List<ScaleLoad.Stream> mix(BeamgateClient idem, BeamgateClient once) {
    return List.of(new ScaleLoad.Stream(idem, Kind.IDEM, CONCURRENCY / 2),
        new ScaleLoad.Stream(once, Kind.ONCE, CONCURRENCY / 2));
  }

  private Failover failover(Loss loss, double reference) throws Exception {
    int lost = ScaleCluster.GATEWAYS - 1;
    if (cluster.gateways[lost] == null || !cluster.gateways[lost].isAlive()) {
      cluster.startGateway(lost); // a restart after the previous loss: warm it up again
      try (BeamgateClient idem = client(cluster.idempotentClient, ScaleCluster.GATEWAYS);
          BeamgateClient once = client(cluster.onceClient, ScaleCluster.GATEWAYS)) {
        check(ScaleLoad.start(mix(idem, once), SIZE, WARM_UP).await(30));
      }
    }
    cluster.resetCounts();
    ScaleLoad load;
    long lossNs;
    try (BeamgateClient idem = client(cluster.idempotentClient, ScaleCluster.GATEWAYS);
        BeamgateClient once = client(cluster.onceClient, ScaleCluster.GATEWAYS)) {
      load = ScaleLoad.start(mix(idem, once), SIZE, BEFORE_LOSS + AFTER_LOSS);
      Thread.sleep(BEFORE_LOSS * 1000L);
      cluster.signal(lost, loss == Loss.KILL ? "KILL" : "STOP");
      lossNs = System.nanoTime(); // kill(1) has returned: the signal is delivered
      try {
        load.await(60);
      } finally {
        cluster.killGateway(lost); // a stopped gateway is continued and killed
      }
    }
    if (load.unexpected() != null) {
      throw new IllegalStateException("scale: unexpected answer", load.unexpected());
    }
    Failover f = analyse(loss, load, lossNs, reference, runs());
    System.out.println("scale: " + f);
    return f;
  }

  /** The backends' counts: per kind and key, how many runs and through which gateways. */
  private Map<String, Map<Long, List<String>>> runs() throws Exception {
    Map<String, Map<Long, List<String>>> m = new HashMap<>();
    for (String b : cluster.backends) {
      Term t = cluster.rpc(b, "summary");
      for (Term e : ((ErlList) t).elements()) {
        Tuple r = (Tuple) e;
        String kind = ((Atom) r.get(0)).name();
        long key = ((Int) r.get(1)).value();
        long n = ((Int) r.get(2)).value();
        List<String> via = m.computeIfAbsent(kind, k -> new HashMap<>())
            .computeIfAbsent(key, k -> new ArrayList<>());
        for (Term g : ((ErlList) r.get(3)).elements()) {
          via.add(((Atom) g).name());
        }
        // the count and the list are written apart: trust the count if a list entry is short
        while (via.size() < n) {
          via.add("?");
        }
      }
    }
    return m;
  }

  private Failover analyse(Loss loss, ScaleLoad load, long lossNs, double reference,
      Map<String, Map<Long, List<String>>> runs) {
    List<Call> calls = load.calls();
    String lostNode = cluster.gatewayNode(ScaleCluster.GATEWAYS - 1);
    double before = load.successes(lossNs - 2_000_000_000L, lossNs) / 2.0;
    // the end of the first window at the rate: never earlier than the window's length
    long rec = load.recoveredAt(lossNs, RECOVERY_WINDOW_NS, 0.9 * reference);
    rec = rec < 0 ? -1 : rec + RECOVERY_WINDOW_NS;
    // The client sees the loss when its first call on the lost gateway fails (a reset, or the
    // keepalive): until then it keeps sending a third of the calls there.
    long seen = calls.stream().filter(c -> c.failure() == GatewayException.Code.OUTCOME_UNKNOWN)
        .mapToLong(c -> c.endNs() - lossNs).min().orElse(-1_000_000);
    // Every call sent before the client saw the loss may have gone to the lost gateway: when
    // the last of them is answered (or failed), every retried call has been answered.
    long settled = 0;
    long slowestAfter = 0;
    int idemInFlight = 0;
    int onceInFlight = 0;
    long idemOk = 0;
    long onceOk = 0;
    long onceUnknown = 0;
    long onceUnknownRan = 0;
    long onceUnknownViaSurvivor = 0;
    long onceOkNotRun = 0;
    long idemViaLost = 0;
    Map<GatewayException.Code, Long> idemFailed = new LinkedHashMap<>();
    Map<GatewayException.Code, Long> onceFailed = new LinkedHashMap<>();
    Map<Long, List<String>> once = runs.getOrDefault("once", Map.of());
    Map<Long, List<String>> idem = runs.getOrDefault("idem", Map.of());
    for (Call c : calls) {
      boolean inFlight = c.startNs() < lossNs && c.endNs() > lossNs;
      if (c.startNs() < lossNs + seen && c.endNs() > lossNs) {
        settled = Math.max(settled, c.endNs() - lossNs);
      }
      if (c.endNs() > lossNs) {
        slowestAfter = Math.max(slowestAfter, c.endNs() - c.startNs());
      }
      List<String> ran = (c.kind() == Kind.ONCE ? once : idem).getOrDefault(c.key(), List.of());
      if (c.kind() == Kind.IDEM) {
        idemInFlight += inFlight ? 1 : 0;
        if (c.failure() == null) {
          idemOk++;
          idemViaLost += ran.contains(lostNode) && c.endNs() > lossNs ? 1 : 0;
        } else {
          idemFailed.merge(c.failure(), 1L, Long::sum);
        }
      } else {
        onceInFlight += inFlight ? 1 : 0;
        if (c.failure() == null) {
          onceOk++;
          onceOkNotRun += ran.isEmpty() ? 1 : 0;
        } else if (c.failure() == GatewayException.Code.OUTCOME_UNKNOWN) {
          onceUnknown++;
          onceUnknownRan += ran.isEmpty() ? 0 : 1;
          // only a call on the lost gateway may end unknown
          onceUnknownViaSurvivor += ran.stream().anyMatch(g -> !g.equals(lostNode)) ? 1 : 0;
        } else {
          onceFailed.merge(c.failure(), 1L, Long::sum);
        }
      }
    }
    long idemTwice = idem.values().stream().filter(v -> v.size() > 1).count();
    long onceTwice = once.values().stream().filter(v -> v.size() > 1).count();
    return new Failover(loss, before, reference, seen / 1_000_000,
        rec < 0 ? -1 : (rec - lossNs) / 1_000_000,
        settled / 1_000_000, slowestAfter / 1_000_000, idemInFlight, idemOk, idemFailed,
        idemTwice, idemViaLost, onceInFlight, onceOk, onceUnknown, onceUnknownRan,
        onceUnknownViaSurvivor, onceFailed,
        onceTwice, onceOkNotRun);
  }

  /** For the report: the process names of the widest run, in order. */
  static List<String> processes(Result r) {
    return new ArrayList<>(r.throughput().get(r.throughput().size() - 1).cpuUs().keySet());
  }
}
