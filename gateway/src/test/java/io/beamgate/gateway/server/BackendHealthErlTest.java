package io.beamgate.gateway.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.beamgate.client.BeamgateClient;
import io.beamgate.client.ClientConfig;
import io.beamgate.client.GatewayException;
import io.beamgate.gateway.admission.BackendPool;
import io.beamgate.node.NodeListener;
import io.beamgate.node.term.Atom;
import io.beamgate.node.term.Term;
import io.beamgate.node.testing.ErlNode;
import io.beamgate.node.testing.RealEpmd;
import io.beamgate.gateway.config.GatewayConfigFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Backends that stop answering without the connection closing, against real erl nodes (fails,
 * never skips, under CI=true when Erlang is missing): a frozen backend (SIGSTOP) leaves the
 * rotation after a few timeouts and comes back by probe; the last backend in rotation stays;
 * a call never sent goes to another backend; the gateway's net_ticktime agrees with erl's
 * short one; a silent partition (a relay that stops forwarding) is ejected at once and
 * declared down after net_ticktime.
 */
class BackendHealthErlTest {
  static final String POLICY = """
      version: 1
      rules:
        - id: app
          principals: ["uri:spiffe://test/alice"]
          calls: ["erlang:node/0"]
          limits: {rate_per_second: 100000, concurrency: 1000, timeout_ms: 400}
      """;

  @TempDir Path dir;
  TestBed bed;
  RealEpmd epmd;
  final List<ErlNode> erls = new ArrayList<>();
  final List<AutoCloseable> toClose = new ArrayList<>();
  GatewayServer gw;

  @BeforeEach
  void setUp() throws Exception {
    bed = new TestBed(dir);
    bed.writePolicy(POLICY);
    epmd = RealEpmd.start();
  }

  @AfterEach
  void tearDown() throws Exception {
    for (AutoCloseable c : toClose) {
      c.close();
    }
    if (gw != null) {
      gw.close();
    }
    for (ErlNode e : erls) {
      e.close(); // SIGKILL ends a stopped process too
    }
    epmd.close();
  }

  ErlNode erl(String prefix, String... extra) throws Exception {
    ErlNode e = ErlNode.startLong(ErlNode.uniqueName(prefix) + "@127.0.0.1", bed.cookie,
        epmd.port(), extra);
    erls.add(e);
    return e;
  }

  /**
   * Starts the gateway in front of {@code backends} (a YAML list item each, e.g. a name or
   * {@code {node: N, port: P}}) with {@code clusterKeys} added to its cluster section.
   */
  void start(List<String> backends, String clusterKeys) throws Exception {
    List<String> names = new ArrayList<>();
    for (int i = 0; i < backends.size(); i++) {
      names.add("placeholder" + i + "@127.0.0.1");
    }
    bed.writeConfig(names, epmd.port(), "round_robin", "");
    String yaml = Files.readString(bed.config, StandardCharsets.UTF_8);
    for (int i = 0; i < backends.size(); i++) {
      yaml = yaml.replace("    - placeholder" + i + "@127.0.0.1\n", "    - " + backends.get(i)
          + "\n");
    }
    yaml = yaml.replace("  routing: round_robin\n", "  routing: round_robin\n" + clusterKeys);
    Files.writeString(bed.config, yaml, StandardCharsets.UTF_8);
    gw = GatewayServer.start(GatewayConfigFile.load(bed.config),
        GatewayServer.Options.DEFAULTS.withBackendWait(Duration.ofSeconds(10)));
    awaitTrue(() -> gw.backends().upCount() == backends.size(), 10_000, "all backends up");
  }

  BeamgateClient client() throws Exception {
    TestBed.Client c = bed.client("alice");
    BeamgateClient b = BeamgateClient.connect(ClientConfig.builder().host("localhost")
        .port(gw.listenAddress().getPort()).tls(c.cert(), c.key(), c.ca()).build());
    toClose.add(0, b);
    return b;
  }

  BackendPool.Backend backend(ErlNode e) {
    for (BackendPool.Backend b : gw.backends().backends()) {
      if (b.node.equals(e.name())) {
        return b;
      }
    }
    throw new AssertionError(e.name() + " is not a backend");
  }

  /** The node that answered erlang:node(), or the error code. */
  static String whoAnswers(BeamgateClient c) {
    try {
      Term t = c.blocking().call("erlang", "node", List.of(), Duration.ofSeconds(5));
      return ((Atom) t).name();
    } catch (GatewayException e) {
      return e.code().name();
    }
  }

  /**
   * Sends {@code sig} to erl; after STOP, waits until every thread of it is stopped (a loaded
   * machine may let a thread run on, and answer a call, after kill returns).
   */
  static void signal(ErlNode e, String sig) throws Exception {
    new ProcessBuilder("kill", "-" + sig, Long.toString(e.pid())).start().waitFor();
    if (sig.equals("STOP")) {
      awaitTrue(() -> allStopped(e.pid()), 5_000, "erl " + e.pid() + " stopped");
    }
  }

  private static boolean allStopped(long pid) {
    try (var tasks = Files.list(Path.of("/proc/" + pid + "/task"))) {
      for (Path t : (Iterable<Path>) tasks::iterator) {
        String stat = Files.readString(t.resolve("stat"), StandardCharsets.US_ASCII);
        char state = stat.charAt(stat.lastIndexOf(')') + 2);
        if (state != 'T' && state != 't') {
          return false;
        }
      }
      return true;
    } catch (java.io.IOException ex) {
      return false;
    }
  }

  static void awaitTrue(BooleanSupplier c, long ms, String what) throws InterruptedException {
    long end = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(ms);
    while (!c.getAsBoolean()) {
      if (System.nanoTime() > end) {
        fail("not within " + ms + " ms: " + what);
      }
      Thread.sleep(10);
    }
  }

  @Test
  void frozenBackendLeavesTheRotationAfterAFewTimeoutsAndIsProbedBackIn() throws Exception {
    ErlNode e1 = erl("frz");
    ErlNode e2 = erl("ok");
    start(List.of(e1.name(), e2.name()), "  outlier: {consecutive_timeouts: 3, eject_ms: 1000,"
        + " probe_timeout_ms: 300}\n");
    BeamgateClient c = client();
    List<String> seen = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      seen.add(whoAnswers(c));
    }
    assertTrue(seen.contains(e1.name()) && seen.contains(e2.name()), seen.toString());

    signal(e1, "STOP");
    int timeouts = 0;
    long start = System.nanoTime();
    for (int i = 0; i < 12 && !backend(e1).ejected; i++) {
      String who = whoAnswers(c);
      if (who.equals("TIMEOUT")) {
        timeouts++;
      } else {
        assertEquals(e2.name(), who);
      }
    }
    long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
    assertTrue(backend(e1).ejected, "ejected after " + timeouts + " timeouts");
    assertEquals(3, timeouts);
    assertTrue(backend(e1).up, "still connected: net_ticktime (60 s) has not run out");
    assertTrue(ms < 5_000, "ejected within " + ms + " ms");
    for (int i = 0; i < 20; i++) {
      assertEquals(e2.name(), whoAnswers(c), "call " + i + " after the ejection");
    }
    Thread.sleep(1_500); // a probe or two fail while it is still frozen
    assertTrue(backend(e1).ejected, "a frozen backend fails its probe");

    signal(e1, "CONT");
    awaitTrue(() -> !backend(e1).ejected, 5_000, "probed back in");
    seen.clear();
    for (int i = 0; i < 6; i++) {
      seen.add(whoAnswers(c));
    }
    assertTrue(seen.contains(e1.name()) && seen.contains(e2.name()), seen.toString());
  }

  @Test
  void frozenBackendUnderLoadIsEjectedBeforeItsCallsTimeOut() throws Exception {
    bed.writePolicy(POLICY.replace("timeout_ms: 400", "timeout_ms: 5000"));
    ErlNode e1 = erl("frz");
    ErlNode e2 = erl("ok");
    start(List.of(e1.name(), e2.name()), "  outlier: {consecutive_timeouts: 0,"
        + " max_silence_ms: 500, eject_ms: 30000}\n");
    BeamgateClient c = client();
    assertEquals(2, java.util.stream.IntStream.range(0, 4).mapToObj(i -> whoAnswers(c))
        .distinct().count());
    signal(e1, "STOP");
    long start = System.nanoTime();
    List<java.util.concurrent.CompletableFuture<Term>> stuck = new ArrayList<>();
    for (int i = 0; i < 6; i++) {
      stuck.add(c.call("erlang", "node", List.of(), Duration.ofSeconds(5)));
    }
    BackendPool.Backend b1 = backend(e1);
    awaitTrue(() -> b1.ejected, 3_000, "ejected by silence (in flight " + b1.inFlight.get()
        + ", up " + b1.up + ", calls " + stuck + ")");
    long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
    assertTrue(ms >= 400 && ms < 2_000, "ejected after " + ms + " ms (calls time out at 5 s)");
    assertTrue(stuck.stream().anyMatch(f -> !f.isDone()), "its calls are still in flight");
    for (int i = 0; i < 10; i++) {
      assertEquals(e2.name(), whoAnswers(c), "call " + i + " after the ejection");
    }
  }

  @Test
  void lastBackendInRotationIsNeverEjected() throws Exception {
    ErlNode e1 = erl("last");
    start(List.of(e1.name()), "  outlier: {consecutive_timeouts: 2, eject_ms: 1000}\n");
    BeamgateClient c = client();
    assertEquals(e1.name(), whoAnswers(c));
    signal(e1, "STOP");
    for (int i = 0; i < 5; i++) {
      assertEquals("TIMEOUT", whoAnswers(c), "slow answers beat none");
    }
    assertFalse(backend(e1).ejected);
    signal(e1, "CONT");
    awaitTrue(() -> whoAnswers(c).equals(e1.name()), 5_000, "answers again");
  }

  @Test
  void callMarkedDownBetweenPickAndSendGoesToAnotherBackend() throws Exception {
    ErlNode e1 = erl("gone");
    ErlNode e2 = erl("there");
    start(List.of(e1.name(), e2.name()), "");
    BeamgateClient c = client();
    AtomicBoolean fired = new AtomicBoolean();
    gw.backends().beforeSend = b -> {
      if (b.node.equals(e1.name()) && fired.compareAndSet(false, true)) {
        e1.kill();
        gw.backends().nodeDown(e1.name(), "killed by the test before the send");
      }
    };
    for (int i = 0; i < 4; i++) {
      boolean before = fired.get();
      String who = whoAnswers(c);
      assertEquals(e2.name(), who, "call " + i + (before ? "" : " (the race)"));
    }
    assertTrue(fired.get(), "round robin picked the killed backend once");
    awaitTrue(() -> {
      try {
        return bed.auditText().split("\"target\":\"" + e2.name() + "\"", -1).length == 5;
      } catch (Exception e) {
        return false;
      }
    }, 3_000, "four audit records name the backend that ran the calls");
    assertFalse(bed.auditText().contains("\"target\":\"" + e1.name()), bed.auditText());
  }

  @Test
  void shortNetTicktimeAgreesWithErlAndDeclaresAFrozenBackendDownInTime() throws Exception {
    ErlNode e1 = erl("tick", "-kernel", "net_ticktime", "2");
    start(List.of(e1.name()), "  net_ticktime_seconds: 2\n  outlier: {consecutive_timeouts: 0}\n");
    AtomicInteger downs = new AtomicInteger();
    gw.node().addNodeListener(new NodeListener() {
      @Override
      public void nodeUp(String node) {}

      @Override
      public void nodeDown(String node, String reason) {
        downs.incrementAndGet();
      }
    });
    BeamgateClient c = client();
    assertEquals(e1.name(), whoAnswers(c));
    Thread.sleep(4_000); // idle: only ticks cross, and erl wants one within ~2 s
    assertEquals(0, downs.get(), "erl kept the idle connection: the gateway ticks often enough");
    assertTrue(backend(e1).up);

    signal(e1, "STOP");
    long start = System.nanoTime();
    awaitTrue(() -> !backend(e1).up, 5_000, "declared down after net_ticktime");
    long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
    assertTrue(ms >= 1_000, "not before net_ticktime's silence: " + ms + " ms");
    signal(e1, "CONT");
    awaitTrue(() -> backend(e1).up, 10_000, "reconnected once it resumed");
    assertEquals(e1.name(), whoAnswers(c));
  }

  @Test
  void silentPartitionIsEjectedAtOnceThenDeclaredDownAfterNetTicktime() throws Exception {
    int distPort = RealEpmd.freePort();
    ErlNode e1 = erl("cut", "-kernel", "net_ticktime", "3", "-kernel", "inet_dist_listen_min",
        Integer.toString(distPort), "-kernel", "inet_dist_listen_max", Integer.toString(distPort));
    ErlNode e2 = erl("fine", "-kernel", "net_ticktime", "3");
    TcpRelay relay = new TcpRelay(0, distPort);
    toClose.add(relay);
    start(List.of("{node: " + e1.name() + ", port: " + relay.port() + "}", e2.name()),
        "  net_ticktime_seconds: 3\n  outlier: {consecutive_timeouts: 2, eject_ms: 30000}\n");
    BeamgateClient c = client();
    List<String> seen = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      seen.add(whoAnswers(c));
    }
    assertTrue(seen.contains(e1.name()) && seen.contains(e2.name()), seen.toString());

    relay.partition();
    long start = System.nanoTime();
    int timeouts = 0;
    for (int i = 0; i < 10 && !backend(e1).ejected; i++) {
      timeouts += whoAnswers(c).equals("TIMEOUT") ? 1 : 0;
    }
    assertTrue(backend(e1).ejected, "ejected");
    assertEquals(2, timeouts);
    for (int i = 0; i < 10; i++) {
      assertEquals(e2.name(), whoAnswers(c));
    }
    awaitTrue(() -> !backend(e1).up, 5_000, "declared down after net_ticktime (3 s)");
    long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
    assertTrue(ms < 6_000, ms + " ms");

    relay.heal();
    awaitTrue(() -> backend(e1).inRotation(), 10_000, "back once the path heals");
    awaitTrue(() -> whoAnswers(c).equals(e1.name()), 5_000, "calls reach it again");
  }
}
