package io.beamgate.gateway.scale;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.beamgate.client.BeamgateClient;
import io.beamgate.client.ClientConfig;
import io.beamgate.client.GatewayException;
import io.beamgate.gateway.server.GatewayServer;
import io.beamgate.gateway.server.TestBed;
import io.beamgate.node.term.ErlList;
import io.beamgate.node.term.Int;
import io.beamgate.node.term.Term;
import io.beamgate.node.testing.ErlNode;
import io.beamgate.node.testing.RealEpmd;
import io.beamgate.gateway.config.GatewayConfigFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Three gateways in one JVM in front of the same real erl backends, sharing limits through
 * them (scale: poll every 200 ms): shares at and past each bound, rebalanced when a gateway
 * leaves and when it comes back (a restart), and an atom budget that holds across gateways and
 * across a restart with the gateway's own atom state gone.
 */
class ScaleErlTest {
  static final String POLICY = """
      version: 1
      atom_budget: 12
      atom_budget_per_principal: 12
      rules:
        - id: slow
          principals: ["uri:spiffe://test/alice"]
          calls: ["timer:sleep/1"]
          limits: {rate_per_second: 100000, concurrency: 4, timeout_ms: 20000}
        - id: rated
          principals: ["uri:spiffe://test/alice"]
          calls: ["lists:reverse/1"]
          limits: {rate_per_second: 10, concurrency: 100}
        - id: atoms
          principals: ["uri:spiffe://test/alice"]
          calls: ["lists:sort/1"]
          limits: {rate_per_second: 100000, concurrency: 100}
      """;

  @TempDir Path dir;
  RealEpmd epmd;
  ErlNode e1;
  ErlNode e2;
  final TestBed[] beds = new TestBed[3];
  final GatewayServer[] gws = new GatewayServer[3];
  final List<BeamgateClient> clients = new ArrayList<>();

  @BeforeEach
  void setUp() throws Exception {
    beds[0] = new TestBed(dir.resolve("a"));
    for (int i = 1; i < 3; i++) {
      beds[i] = new TestBed(dir.resolve("abc".substring(i, i + 1)), beds[0], null);
      Files.writeString(beds[i].dir.resolve("cookie"), beds[0].cookie);
    }
    epmd = RealEpmd.start();
    e1 = ErlNode.startLong(ErlNode.uniqueName("sc1") + "@127.0.0.1", beds[0].cookie,
        epmd.port());
    e2 = ErlNode.startLong(ErlNode.uniqueName("sc2") + "@127.0.0.1", beds[0].cookie,
        epmd.port());
    for (TestBed b : beds) {
      b.writePolicy(POLICY);
      b.writeConfig(List.of(e1.name(), e2.name()), epmd.port(), "round_robin",
          "scale: {poll_ms: 200}\n");
    }
  }

  @AfterEach
  void tearDown() throws Exception {
    clients.forEach(BeamgateClient::close);
    for (GatewayServer g : gws) {
      if (g != null) {
        g.close();
      }
    }
    e1.close();
    e2.close();
    epmd.close();
  }

  GatewayServer start(int i) throws Exception {
    gws[i] = GatewayServer.start(GatewayConfigFile.load(beds[i].config),
        GatewayServer.Options.DEFAULTS.withBackendWait(Duration.ofSeconds(10)));
    return gws[i];
  }

  void stop(int i) {
    gws[i].close();
    gws[i] = null;
  }

  BeamgateClient client(int i) throws Exception {
    TestBed.Client c = beds[0].client("alice");
    BeamgateClient b = BeamgateClient.connect(ClientConfig.builder().host("localhost")
        .port(gws[i].listenAddress().getPort()).tls(c.cert(), c.key(), c.ca()).build());
    clients.add(b);
    return b;
  }

  @SuppressWarnings("unchecked")
  static Map<String, Object> scale(GatewayServer g) {
    return (Map<String, Object>) g.status().get("scale");
  }

  static void awaitGateways(int n, GatewayServer... gs) throws Exception {
    long end = System.nanoTime() + 10_000_000_000L;
    for (GatewayServer g : gs) {
      while (((Number) scale(g).get("gateways_up")).intValue() != n) {
        if (System.nanoTime() > end) {
          throw new AssertionError("expected " + n + " gateways up: " + scale(g));
        }
        Thread.sleep(50);
      }
    }
  }

  static GatewayException refusal(CompletableFuture<Term> f) {
    try {
      f.get(10, java.util.concurrent.TimeUnit.SECONDS);
    } catch (java.util.concurrent.ExecutionException e) {
      return (GatewayException) e.getCause();
    } catch (Exception e) {
      throw new AssertionError(e);
    }
    throw new AssertionError("not refused");
  }

  /** Starts {@code n} calls of 5 s; asserts the next one is refused for concurrency. */
  static void holdsExactly(BeamgateClient c, int n) throws Exception {
    List<CompletableFuture<Term>> held = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      held.add(c.call("timer", "sleep", List.of(Int.of(5_000))));
    }
    Thread.sleep(300);
    for (CompletableFuture<Term> f : held) {
      assertTrue(!f.isDone(), "call " + held.indexOf(f) + " of the share is running: " + f);
    }
    GatewayException e = refusal(c.call("timer", "sleep", List.of(Int.of(5_000))));
    assertEquals(GatewayException.Code.RESOURCE_EXHAUSTED, e.code(), e.toString());
    assertTrue(e.getMessage().contains("concurrency limit of rule slow"), e.getMessage());
    held.forEach(f -> f.cancel(true));
    Thread.sleep(300); // cancelled calls give their slots back
  }

  @Test
  void concurrencySharesFollowTheGatewaysUpThroughALeaveAndARestart() throws Exception {
    start(0);
    start(1);
    start(2);
    awaitGateways(3, gws);
    BeamgateClient c = client(0);
    holdsExactly(c, 1); // max(1, 4 / 3)
    stop(2);
    awaitGateways(2, gws[0], gws[1]);
    holdsExactly(c, 2); // 4 / 2
    start(2); // the same configuration, node name and group: a restart
    awaitGateways(3, gws);
    holdsExactly(c, 1);
    stop(1);
    stop(2);
    awaitGateways(1, gws[0]);
    holdsExactly(c, 4); // alone: the whole limit
  }

  @Test
  void theMetricsShowTheGatewaysOfTheGroupThisOneSeesAndItsShare() throws Exception {
    int[] admin = new int[2];
    for (int i = 0; i < 2; i++) {
      admin[i] = RealEpmd.freePort();
      beds[i].writeConfig(List.of(e1.name(), e2.name()), epmd.port(), "round_robin",
          "scale: {poll_ms: 200}\nadmin: {listen: '127.0.0.1:" + admin[i] + "'}\n");
    }
    start(0);
    start(1);
    awaitGateways(2, gws[0], gws[1]);
    for (int i = 0; i < 2; i++) {
      String m = AdminScrape.metrics(admin[i]);
      assertEquals(2, AdminScrape.sample(m, "beamgate_scale_gateways"), m);
      assertEquals(0.5, AdminScrape.sample(m, "beamgate_scale_share"), m);
      assertEquals(0, AdminScrape.sample(m, "beamgate_scale_cut_off"), m);
      assertTrue(AdminScrape.sample(m, "beamgate_scale_atoms_used") >= 0, m);
    }
    stop(1);
    awaitGateways(1, gws[0]);
    String m = AdminScrape.metrics(admin[0]);
    assertEquals(1, AdminScrape.sample(m, "beamgate_scale_gateways"), m);
    assertEquals(1.0, AdminScrape.sample(m, "beamgate_scale_share"), m);
    e1.kill();
    e2.kill(); // cut off: the gauge says so, the count stays the last seen
    long end = System.nanoTime() + 15_000_000_000L;
    while (AdminScrape.sample(m = AdminScrape.metrics(admin[0]), "beamgate_scale_cut_off") != 1
        && System.nanoTime() < end) {
      Thread.sleep(100);
    }
    assertEquals(1, AdminScrape.sample(m, "beamgate_scale_cut_off"), m);
    assertEquals(1, AdminScrape.sample(m, "beamgate_scale_gateways"), m);
  }

  @Test
  void aGatewayWithoutScaleHasNoScaleMetrics() throws Exception {
    int admin = RealEpmd.freePort();
    beds[0].writeConfig(List.of(e1.name()), epmd.port(), "round_robin",
        "admin: {listen: '127.0.0.1:" + admin + "'}\n");
    start(0);
    String m = AdminScrape.metrics(admin);
    assertTrue(m.contains("beamgate_backends_up"), m);
    assertEquals(-1, AdminScrape.sample(m, "beamgate_scale_gateways"), m);
  }

  @Test
  void rateSharesHoldOnEachGatewayAndTogetherWithinTheRuleLimit() throws Exception {
    start(0);
    start(1);
    awaitGateways(2, gws[0], gws[1]);
    int admitted = 0;
    for (int g = 0; g < 2; g++) {
      BeamgateClient c = client(g);
      for (int i = 0; i < 5; i++) {
        c.blocking().call("lists", "reverse", List.of(ErlList.of(Int.of(i))));
        admitted++;
      }
      GatewayException e = assertThrows(GatewayException.class, () -> c.blocking().call(
          "lists", "reverse", List.of(ErlList.of(Int.of(9)))));
      assertEquals(GatewayException.Code.RESOURCE_EXHAUSTED, e.code());
      assertTrue(e.getMessage().contains("2 gateways sharing it"), e.getMessage());
    }
    assertEquals(10, admitted, "the rule's 10 per second, over both gateways");
  }

  /** Sends fresh atoms through {@code c} until one is refused; returns how many passed. */
  static int atomsUntilRefused(BeamgateClient c, String base, int[] seq) throws Exception {
    int passed = 0;
    while (true) {
      String name = base + (seq[0]++);
      try {
        c.blocking().call("lists", "sort", List.of(ErlList.of(Term.atom(name))));
        passed++;
      } catch (GatewayException e) {
        assertEquals(GatewayException.Code.INVALID_ARGUMENT, e.code(), e.toString());
        assertTrue(e.getMessage().contains("atom budget"), e.getMessage());
        return passed;
      }
      if (passed > 100) {
        throw new AssertionError("no atom budget at all");
      }
    }
  }

  @Test
  void theAtomBudgetHoldsAcrossGatewaysAndARestartWithItsStateGone() throws Exception {
    start(0);
    start(1);
    awaitGateways(2, gws[0], gws[1]);
    BeamgateClient[] cs = {client(0), client(1)};
    String base = "scale_" + Long.toHexString(System.nanoTime()) + "_";
    int[] seq = {0};
    int total = 0;
    int[] each = new int[2];
    for (int round = 0; round < 10; round++) {
      int thisRound = 0;
      for (int g = 0; g < 2; g++) {
        int n = atomsUntilRefused(cs[g], base, seq);
        each[g] += n;
        thisRound += n;
      }
      total += thisRound;
      if (thisRound == 0 && round > 0) {
        break;
      }
      Thread.sleep(700); // the next polls count what reached the backends
    }
    assertTrue(each[0] > 0 && each[1] > 0, "both gateways had a share: " + each[0] + ", "
        + each[1]);
    assertTrue(total <= 12, "at most atom_budget new atoms over both gateways: " + total);
    String refused = base + (seq[0] - 1); // the last one tried
    for (ErlNode n : List.of(e1, e2)) {
      assertTrue(n.eval("catch binary_to_existing_atom(<<\"" + refused + "\">>, utf8).")
          .contains("badarg"), "a refused atom never reached " + n.name());
    }
    // a restart with its own atom state gone sees the same exhausted pool
    stop(0);
    Files.deleteIfExists(beds[0].dir.resolve("beamgate-atoms.state"));
    start(0);
    awaitGateways(2, gws[0], gws[1]);
    GatewayException e = assertThrows(GatewayException.class, () -> client(0).blocking()
        .call("lists", "sort", List.of(ErlList.of(Term.atom(base + "after_restart")))));
    assertEquals(GatewayException.Code.INVALID_ARGUMENT, e.code());
    assertTrue(e.getMessage().contains("across the cluster"), e.getMessage());
  }
}
