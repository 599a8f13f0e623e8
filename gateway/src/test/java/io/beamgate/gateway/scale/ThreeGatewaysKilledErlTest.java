package io.beamgate.gateway.scale;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.beamgate.client.BeamgateClient;
import io.beamgate.client.ClientConfig;
import io.beamgate.client.GatewayException;
import io.beamgate.gateway.server.TestBed;
import io.beamgate.node.term.ErlList;
import io.beamgate.node.term.Int;
import io.beamgate.node.term.Term;
import io.beamgate.node.testing.ErlNode;
import io.beamgate.node.testing.RealEpmd;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The scale test of issue 15, short enough for CI: three gateways as separate OS processes
 * (one group, sharing limits through the backends), two real erl backends, Java clients
 * spreading calls over the three; one gateway killed with SIGKILL under load. The backends
 * count each call's runs (scaletest.erl); the gateways are read over their admin HTTP
 * listeners (/ready, /metrics).
 */
class ThreeGatewaysKilledErlTest {
  static final int ATOM_BUDGET = 30;
  static final int SLOW_CONCURRENCY = 4;
  static final String POLICY = """
      version: 1
      atom_budget: %d
      atom_budget_per_principal: %d
      rules:
        - id: alice-idempotent
          principals: ["uri:spiffe://test/alice"]
          calls: ["scaletest:work/2"]
          idempotent: true
          limits: {rate_per_second: 100000, concurrency: 3000, timeout_ms: 20000}
        - id: bob-plain
          principals: ["uri:spiffe://test/bob"]
          calls: ["scaletest:work/2"]
          limits: {rate_per_second: 100000, concurrency: 3000, timeout_ms: 20000}
        - id: slow
          principals: ["uri:spiffe://test/carol"]
          calls: ["timer:sleep/1"]
          limits: {rate_per_second: 100000, concurrency: %d, timeout_ms: 20000}
        - id: atoms
          principals: ["uri:spiffe://test/carol"]
          calls: ["lists:sort/1"]
          limits: {rate_per_second: 100000, concurrency: 100}
      """.formatted(ATOM_BUDGET, ATOM_BUDGET, SLOW_CONCURRENCY);
  /** Calls of each of alice and bob in the load; each takes WORK_MS on a backend. */
  static final int EACH = 45;
  static final int WORK_MS = 3000;

  @TempDir Path dir;
  RealEpmd epmd;
  ErlNode e1;
  ErlNode e2;
  final GatewayProcess[] gws = new GatewayProcess[3];
  final List<BeamgateClient> clients = new ArrayList<>();

  @BeforeEach
  void setUp() throws Exception {
    long t0 = System.nanoTime();
    TestBed[] beds = new TestBed[3];
    beds[0] = new TestBed(dir.resolve("a"));
    for (int i = 1; i < 3; i++) {
      beds[i] = new TestBed(dir.resolve("abc".substring(i, i + 1)), beds[0], null);
      Files.writeString(beds[i].dir.resolve("cookie"), beds[0].cookie);
    }
    epmd = RealEpmd.start();
    // both backends start at once (each erl takes seconds on a busy machine)
    CompletableFuture<ErlNode> second = CompletableFuture.supplyAsync(() -> {
      try {
        return ErlNode.startLong(ErlNode.uniqueName("k3b") + "@127.0.0.1", beds[0].cookie,
            epmd.port());
      } catch (java.io.IOException e) {
        throw new java.io.UncheckedIOException(e);
      }
    });
    try {
      e1 = ErlNode.startLong(ErlNode.uniqueName("k3a") + "@127.0.0.1", beds[0].cookie,
          epmd.port());
    } finally {
      e2 = second.get(60, TimeUnit.SECONDS); // closed by tearDown even when e1 failed
    }
    for (ErlNode e : List.of(e1, e2)) {
      TestBed.loadScaletest(e);
    }
    long erlUp = System.nanoTime();
    String group = "k3_" + ProcessHandle.current().pid();
    for (int i = 0; i < 3; i++) {
      int admin = RealEpmd.freePort();
      beds[i].writePolicy(POLICY);
      int port = beds[i].writeConfig(List.of(e1.name(), e2.name()), epmd.port(),
          "round_robin", "scale: {group: " + group + ", poll_ms: 200}\n"
              + "admin: {listen: '127.0.0.1:" + admin + "'}\n").listen().port();
      gws[i] = GatewayProcess.start(beds[i], port, admin);
    }
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
    for (GatewayProcess g : gws) {
      g.awaitGroup(3, deadline);
    }
    System.out.printf("ThreeGatewaysKilledErlTest: erl backends up in %d ms, then three"
        + " gateway processes in a group in %d ms%n", (erlUp - t0) / 1_000_000,
        (System.nanoTime() - erlUp) / 1_000_000);
  }

  @AfterEach
  void tearDown() throws Exception {
    clients.forEach(BeamgateClient::close);
    for (GatewayProcess g : gws) {
      if (g != null) {
        g.close(); // SIGKILL by its PID if still alive
      }
    }
    for (ErlNode e : new ErlNode[] {e1, e2}) {
      if (e != null) {
        e.close();
      }
    }
    if (epmd != null) {
      epmd.close();
    }
  }

  BeamgateClient client(String who, GatewayProcess... to) throws Exception {
    TestBed.Client c = gws[0].bed.client(who);
    List<String> addresses = new ArrayList<>();
    for (GatewayProcess g : to) {
      addresses.add("localhost:" + g.port);
    }
    BeamgateClient b = BeamgateClient.connect(ClientConfig.builder().gateways(addresses)
        .tls(c.cert(), c.key(), c.ca())
        .reconnectBackoff(Duration.ofMillis(50), Duration.ofMillis(500)).build());
    clients.add(b);
    long end = System.nanoTime() + 20_000_000_000L;
    while (b.connectedGateways() < to.length && System.nanoTime() < end) {
      Thread.sleep(20);
    }
    assertEquals(to.length, b.connectedGateways(), who + " connected to every gateway");
    return b;
  }

  @Test
  void oneOfThreeGatewayProcessesKilledUnderLoadLosesNothingSilentlyAndLimitsHold()
      throws Exception {
    BeamgateClient[] carol = {client("carol", gws[0]), client("carol", gws[1]),
        client("carol", gws[2])};
    // 1. The atom budget holds across the three: each mints until refused, the polls count.
    String base = "k3_" + Long.toHexString(System.nanoTime()) + "_";
    int[] seq = {0};
    int[] each = new int[3];
    int total = 0;
    for (int round = 0; round < 10; round++) {
      int thisRound = 0;
      for (int g = 0; g < 3; g++) {
        int n = ScaleErlTest.atomsUntilRefused(carol[g], base, seq);
        each[g] += n;
        thisRound += n;
      }
      total += thisRound;
      if (thisRound == 0 && round > 0) {
        break;
      }
      Thread.sleep(500); // the next polls (every 200 ms) measure what reached the backends
    }
    assertTrue(each[0] > 0 && each[1] > 0 && each[2] > 0, "each gateway had a share: "
        + each[0] + ", " + each[1] + ", " + each[2]);
    assertTrue(total <= ATOM_BUDGET, "at most atom_budget new atoms over the three gateways: "
        + total);
    // 2. With three up, each gateway runs its share of the rule's concurrency: 4 / 3 = 1.
    holdExactly(carol, gws, 1);

    // 3. The load: alice's calls are idempotent (retried elsewhere when lost), bob's are not.
    BeamgateClient alice = client("alice", gws);
    BeamgateClient bob = client("bob", gws);
    Map<Integer, CompletableFuture<Term>> calls = new HashMap<>();
    Map<Integer, AtomicInteger> completions = new HashMap<>();
    for (int i = 1; i <= EACH; i++) {
      calls.put(i, alice.callIdempotent("scaletest", "work", List.of(Int.of(i),
          Int.of(WORK_MS)), Duration.ofSeconds(20)));
      calls.put(1000 + i, bob.call("scaletest", "work", List.of(Int.of(1000 + i),
          Int.of(WORK_MS)), Duration.ofSeconds(20)));
    }
    calls.forEach((k, f) -> {
      AtomicInteger n = new AtomicInteger();
      completions.put(k, n);
      f.whenComplete((v, e) -> n.incrementAndGet());
    });
    // Kill gateway A once it has calls running (admitted, on a backend, not answered).
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
    double inFlight;
    while ((inFlight = gws[0].sample("beamgate_requests_in_flight")) < 10
        && System.nanoTime() < end) {
      Thread.sleep(20);
    }
    assertTrue(inFlight >= 10, "gateway A has calls in flight before the kill: " + inFlight);
    long killedAt = System.nanoTime();
    gws[0].kill();
    assertTrue(!gws[0].isAlive(), "gateway A (pid " + gws[0].pid() + ") is gone");

    // 4. Every future completes, once; no call ran twice unless it was idempotent; every
    // call of bob's not answered is reported OUTCOME_UNKNOWN.
    Map<Integer, Term> answers = new HashMap<>();
    Map<Integer, GatewayException> failures = new HashMap<>();
    for (Map.Entry<Integer, CompletableFuture<Term>> e : calls.entrySet()) {
      try {
        answers.put(e.getKey(), e.getValue().get(30, TimeUnit.SECONDS));
      } catch (ExecutionException x) {
        failures.put(e.getKey(), (GatewayException) x.getCause());
      }
    }
    long failoverMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - killedAt);
    Map<Integer, Integer> runs = runs();
    int aliceTwice = 0;
    int bobLost = 0;
    for (int key : calls.keySet()) {
      int ran = runs.getOrDefault(key, 0);
      if (answers.containsKey(key)) {
        // an answer meant for another call would carry that call's key
        assertEquals(Int.of(key), answers.get(key), "the answer of call " + key);
      }
      if (key < 1000) {
        assertTrue(answers.containsKey(key), "alice's call " + key + " (idempotent) was"
            + " answered, retried if need be: " + failures.get(key));
        assertTrue(ran == 1 || ran == 2, "alice's call " + key + " ran " + ran + " times");
        aliceTwice += ran - 1;
      } else if (answers.containsKey(key)) {
        assertEquals(1, ran, "bob's answered call " + key + " ran once");
      } else {
        GatewayException g = failures.get(key);
        assertEquals(GatewayException.Code.OUTCOME_UNKNOWN, g.code(), g.toString());
        assertTrue(ran <= 1, "bob's lost call " + key + " ran " + ran + " times");
        bobLost++;
      }
    }
    Thread.sleep(200);
    completions.forEach((k, n) -> assertEquals(1, n.get(), "call " + k + " completed once"));
    assertTrue(aliceTwice > 0, "some of alice's calls were on the killed gateway and ran"
        + " again elsewhere");
    assertTrue(bobLost > 0 && bobLost < EACH, "bob lost only the calls on the killed"
        + " gateway: " + bobLost);

    // 5. The survivors take the load, both of them.
    assertEquals(2, bob.connectedGateways(), "bob's client sees the two survivors");
    double[] before = {okCalls(gws[1]), okCalls(gws[2])};
    for (int i = 0; i < 20; i++) {
      assertEquals(Int.of(5000 + i), bob.blocking().call("scaletest", "work",
          List.of(Int.of(5000 + i), Int.of(0))));
    }
    // (a gateway counts a call as it ends, which may be just after the client has its answer)
    long counted = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
    while (okCalls(gws[1]) - before[0] + okCalls(gws[2]) - before[1] < 20
        && System.nanoTime() < counted) {
      Thread.sleep(50);
    }
    double[] after = {okCalls(gws[1]), okCalls(gws[2])};
    assertTrue(after[0] > before[0] && after[1] > before[1], "both survivors answered calls: "
        + before[0] + " -> " + after[0] + ", " + before[1] + " -> " + after[1]);
    assertEquals(20, after[0] - before[0] + after[1] - before[1], 0.0, "all 20, once each");

    // 6. Rebalanced: each survivor runs 4 / 2 = 2 at once, together the rule's 4, no more.
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    gws[1].awaitGroup(2, deadline);
    gws[2].awaitGroup(2, deadline);
    assertEquals(0.5, gws[1].sample("beamgate_scale_share"), 1e-9);
    holdExactly(new BeamgateClient[] {carol[1], carol[2]},
        new GatewayProcess[] {gws[1], gws[2]}, 2);

    // 7. The atom budget still holds: the survivors mint until refused, and over the whole
    // test no more than the budget got through; the last refused never reached a backend.
    int afterKill = 0;
    for (int round = 0; round < 10; round++) {
      int thisRound = ScaleErlTest.atomsUntilRefused(carol[1], base, seq)
          + ScaleErlTest.atomsUntilRefused(carol[2], base, seq);
      afterKill += thisRound;
      if (thisRound == 0) {
        break;
      }
      Thread.sleep(500);
    }
    assertTrue(total + afterKill <= ATOM_BUDGET, "at most atom_budget new atoms before and"
        + " after the kill: " + total + " + " + afterKill);
    String refused = base + (seq[0] - 1); // the last one tried
    for (ErlNode n : List.of(e1, e2)) {
      assertTrue(n.eval("catch binary_to_existing_atom(<<\"" + refused + "\">>, utf8).")
          .contains("badarg"), "a refused atom never reached " + n.name());
    }
    System.out.printf("ThreeGatewaysKilledErlTest: atoms %d (+%d after) of %d (%d/%d/%d),"
        + " bob lost %d of %d, alice ran again %d, every call settled %d ms after the kill%n", total,
        afterKill, ATOM_BUDGET, each[0], each[1], each[2], bobLost, EACH, aliceTwice,
        failoverMs);
  }

  /** bob's calls a gateway answered ok, from its /metrics. */
  static double okCalls(GatewayProcess g) {
    return Math.max(0, g.sample("beamgate_requests_total", "rule=\"bob-plain\"",
        "outcome=\"ok\""));
  }

  /**
   * Starts {@code n} calls of 10 s through each client (each to its own gateway, the same
   * index in {@code at}), all at once; asserts they all run and that one more through each
   * is refused for concurrency.
   */
  static void holdExactly(BeamgateClient[] through, GatewayProcess[] at, int n)
      throws Exception {
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
    for (GatewayProcess g : at) {
      // calls cancelled before give their slots back as the cancel arrives
      while (g.sample("beamgate_requests_in_flight") != 0 && System.nanoTime() < end) {
        Thread.sleep(50);
      }
    }
    List<CompletableFuture<Term>> held = new ArrayList<>();
    for (BeamgateClient c : through) {
      for (int i = 0; i < n; i++) {
        held.add(c.call("timer", "sleep", List.of(Int.of(10_000))));
      }
    }
    Thread.sleep(500);
    for (CompletableFuture<Term> f : held) {
      assertTrue(!f.isDone(), "call " + held.indexOf(f) + " of the shares is running: " + f);
    }
    for (BeamgateClient c : through) {
      GatewayException e = ScaleErlTest.refusal(c.call("timer", "sleep",
          List.of(Int.of(10_000))));
      assertEquals(GatewayException.Code.RESOURCE_EXHAUSTED, e.code(), e.toString());
      assertTrue(e.getMessage().contains("concurrency limit of rule slow"), e.getMessage());
    }
    assertTrue(held.size() <= SLOW_CONCURRENCY, "at most the rule's concurrency in all");
    held.forEach(f -> f.cancel(true));
  }

  private static final Pattern RUN = Pattern.compile("\\{(\\d+),(\\d+)\\}");

  /** Every key's runs, summed over both backends (a retried call may run on each). */
  Map<Integer, Integer> runs() throws Exception {
    Map<Integer, Integer> runs = new HashMap<>();
    for (ErlNode e : List.of(e1, e2)) {
      Matcher m = RUN.matcher(e.evalOk("scaletest:all_runs()."));
      while (m.find()) {
        runs.merge(Integer.parseInt(m.group(1)), Integer.parseInt(m.group(2)), Integer::sum);
      }
    }
    return runs;
  }
}
