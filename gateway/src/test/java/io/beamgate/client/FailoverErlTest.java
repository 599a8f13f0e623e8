package io.beamgate.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.beamgate.gateway.server.GatewayServer;
import io.beamgate.gateway.server.TcpRelay;
import io.beamgate.gateway.server.TestBed;
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
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Java client over two real gateways in front of a real erl backend, one gateway lost
 * mid-load: alice's calls are idempotent under the policy (retried on the other gateway),
 * bob's are not (lost ones fail OUTCOME_UNKNOWN). The backend counts each call's runs: no
 * call of bob's runs twice, and every future completes, once.
 */
class FailoverErlTest {
  static final String POLICY = """
      version: 1
      rules:
        - id: alice-idempotent
          principals: ["uri:spiffe://test/alice"]
          calls: ["scaletest:work/2"]
          idempotent: true
          limits: {rate_per_second: 100000, concurrency: 1000, timeout_ms: 20000}
        - id: bob-plain
          principals: ["uri:spiffe://test/bob"]
          calls: ["scaletest:work/2"]
          limits: {rate_per_second: 100000, concurrency: 1000, timeout_ms: 20000}
      """;
  static final int EACH = 30;
  static final int WORK_MS = 1500;

  @TempDir Path dir;
  RealEpmd epmd;
  ErlNode backend;
  TestBed bedA;
  TestBed bedB;
  GatewayServer gwA;
  GatewayServer gwB;
  TcpRelay relay;
  final List<BeamgateClient> clients = new ArrayList<>();

  @BeforeEach
  void setUp() throws Exception {
    bedA = new TestBed(dir.resolve("a"));
    bedB = new TestBed(dir.resolve("b"), bedA, null);
    Files.writeString(bedB.dir.resolve("cookie"), bedA.cookie);
    bedA.writePolicy(POLICY);
    bedB.writePolicy(POLICY);
    epmd = RealEpmd.start();
    backend = ErlNode.startLong(ErlNode.uniqueName("fo") + "@127.0.0.1", bedA.cookie,
        epmd.port());
    TestBed.loadScaletest(backend);
    gwA = GatewayServer.start(bedA.writeConfig(List.of(backend.name()), epmd.port(),
        "round_robin", ""), GatewayServer.Options.DEFAULTS);
    gwB = GatewayServer.start(bedB.writeConfig(List.of(backend.name()), epmd.port(),
        "round_robin", ""), GatewayServer.Options.DEFAULTS);
  }

  @AfterEach
  void tearDown() throws Exception {
    clients.forEach(BeamgateClient::close);
    if (relay != null) {
      relay.close();
    }
    for (GatewayServer g : new GatewayServer[] {gwA, gwB}) {
      if (g != null) {
        g.close();
      }
    }
    backend.close();
    epmd.close();
  }

  BeamgateClient client(String who, int portA, int portB, boolean fastKeepalive)
      throws Exception {
    TestBed.Client c = bedA.client(who);
    ClientConfig.Builder b = ClientConfig.builder()
        .gateways("localhost:" + portA, "localhost:" + portB)
        .tls(c.cert(), c.key(), c.ca()).reconnectBackoff(Duration.ofMillis(50),
            Duration.ofMillis(500));
    if (fastKeepalive) {
      b.keepalive(Duration.ofMillis(200), Duration.ofMillis(700));
    }
    BeamgateClient client = BeamgateClient.connect(b.build());
    clients.add(client);
    long end = System.nanoTime() + 10_000_000_000L;
    while (client.connectedGateways() < 2 && System.nanoTime() < end) {
      Thread.sleep(20);
    }
    assertEquals(2, client.connectedGateways(), "connected to both gateways");
    return client;
  }

  int runs(int key) throws Exception {
    return Integer.parseInt(backend.evalOk("scaletest:runs(" + key + ")."));
  }

  /** Starts alice's idempotent and bob's plain calls, spread over both gateways. */
  Map<Integer, CompletableFuture<Term>> load(BeamgateClient alice, BeamgateClient bob) {
    Map<Integer, CompletableFuture<Term>> calls = new HashMap<>();
    for (int i = 1; i <= EACH; i++) {
      calls.put(i, alice.callIdempotent("scaletest", "work", List.of(Int.of(i),
          Int.of(WORK_MS)), Duration.ofSeconds(15)));
      calls.put(1000 + i, bob.call("scaletest", "work", List.of(Int.of(1000 + i),
          Int.of(WORK_MS)), Duration.ofSeconds(15)));
    }
    return calls;
  }

  /**
   * Waits for every call: alice's all answered, bob's answered or OUTCOME_UNKNOWN and each of
   * his run exactly once. Returns {alice's calls run twice, bob's calls lost}.
   */
  int[] check(Map<Integer, CompletableFuture<Term>> calls) throws Exception {
    int aliceTwice = 0;
    int bobLost = 0;
    for (Map.Entry<Integer, CompletableFuture<Term>> e : calls.entrySet()) {
      int key = e.getKey();
      CompletableFuture<Term> f = e.getValue();
      if (key < 1000) {
        assertEquals(Int.of(key), f.get(20, TimeUnit.SECONDS), "alice's call " + key);
        int n = runs(key);
        assertTrue(n == 1 || n == 2, "alice's call " + key + " ran " + n + " times");
        aliceTwice += n - 1;
      } else {
        try {
          assertEquals(Int.of(key), f.get(20, TimeUnit.SECONDS));
        } catch (ExecutionException x) {
          GatewayException g = (GatewayException) x.getCause();
          assertEquals(GatewayException.Code.OUTCOME_UNKNOWN, g.code(), g.toString());
          bobLost++;
        }
        assertEquals(1, runs(key), "bob's call " + key + " ran once, never retried");
      }
    }
    return new int[] {aliceTwice, bobLost};
  }

  @Test
  void aGatewayClosedMidLoadLosesOnlyNonIdempotentCallsAndTheOtherTakesOver()
      throws Exception {
    BeamgateClient alice = client("alice", gwA.listenAddress().getPort(),
        gwB.listenAddress().getPort(), false);
    BeamgateClient bob = client("bob", gwA.listenAddress().getPort(),
        gwB.listenAddress().getPort(), false);
    Map<Integer, CompletableFuture<Term>> calls = load(alice, bob);
    Thread.sleep(WORK_MS / 3); // all in flight on the backend
    gwA.close(); // its connections are closed under the clients, as a killed process's are
    gwA = null;
    int[] r = check(calls);
    assertTrue(r[0] > 0, "some of alice's calls were on the lost gateway and ran again");
    assertTrue(r[1] > 0 && r[1] < EACH, "bob lost the calls on the lost gateway only: " + r[1]);
    // the survivor takes everything now
    for (int i = 0; i < 10; i++) {
      assertEquals(Int.of(5000 + i), bob.blocking().call("scaletest", "work",
          List.of(Int.of(5000 + i), Int.of(0))));
    }
    assertEquals(1, bob.connectedGateways());
  }

  @Test
  void aSilentGatewayIsFoundByTheKeepaliveAndIdempotentCallsMoveOn() throws Exception {
    relay = new TcpRelay(0, gwA.listenAddress().getPort());
    BeamgateClient alice = client("alice", relay.port(), gwB.listenAddress().getPort(), true);
    BeamgateClient bob = client("bob", relay.port(), gwB.listenAddress().getPort(), true);
    Map<Integer, CompletableFuture<Term>> calls = load(alice, bob);
    Thread.sleep(WORK_MS / 3);
    relay.partition(); // nothing arrives, nothing is reset: only the keepalive can tell
    int[] r = check(calls);
    assertTrue(r[0] > 0, "alice's calls behind the partition ran again elsewhere");
    assertTrue(r[1] > 0 && r[1] < EACH, "bob's calls behind the partition are reported lost: "
        + r[1]);
  }

  @Test
  void aCallDeclaredIdempotentUnderARuleThatDoesNotSaySoIsRefusedBeforeItRuns()
      throws Exception {
    BeamgateClient bob = client("bob", gwA.listenAddress().getPort(),
        gwB.listenAddress().getPort(), false);
    GatewayException e = assertThrows(GatewayException.class, () -> bob.blocking()
        .callIdempotent("scaletest", "work", List.of(Int.of(7777), Int.of(0))));
    assertEquals(GatewayException.Code.PERMISSION_DENIED, e.code());
    assertTrue(e.getMessage().contains("idempotent: true"), e.getMessage());
    assertEquals(0, runs(7777));
  }

  @Test
  void pingsGoToAGatewayThatIsUp() throws Exception {
    BeamgateClient alice = client("alice", gwA.listenAddress().getPort(),
        gwB.listenAddress().getPort(), false);
    gwA.close();
    gwA = null;
    for (int i = 0; i < 6; i++) {
      assertEquals("spiffe://test/alice", alice.blocking().ping().principal());
    }
  }
}
