package io.beamgate.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.beamgate.gateway.server.GatewayServer;
import io.beamgate.gateway.server.TcpRelay;
import io.beamgate.gateway.server.TestBed;
import io.beamgate.node.testing.ErlNode;
import io.beamgate.node.testing.RealEpmd;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The other clients' failover, as {@link FailoverErlTest} holds the Java client's: each client
 * (Erlang, Elixir, Python native, Python gRPC, Go gRPC), run as a real process, has alice's
 * idempotent and bob's plain calls in flight over two real gateways in front of a real erl
 * backend when one gateway is closed. Alice's are all answered (some ran twice: retried on the
 * other gateway); bob's are answered or OUTCOME_UNKNOWN, and each ran exactly once; calls made
 * afterwards go to the survivor. Each client's driver prints the same lines (see
 * {@link ClientDrivers}). Fails, never skips, under CI=true when a tool is missing.
 */
class ClientsFailoverErlTest {
  static final int EACH = 12;
  static final int WORK_MS = 2000;

  @TempDir Path dir;
  RealEpmd epmd;
  ErlNode backend;
  TestBed bedA;
  TestBed bedB;
  GatewayServer gwA;
  GatewayServer gwB;
  TcpRelay relay;
  Process driver;

  @BeforeEach
  void setUp() throws Exception {
    bedA = new TestBed(dir.resolve("a"));
    bedB = new TestBed(dir.resolve("b"), bedA, null);
    Files.writeString(bedB.dir.resolve("cookie"), bedA.cookie);
    bedA.writePolicy(FailoverErlTest.POLICY);
    bedB.writePolicy(FailoverErlTest.POLICY);
    epmd = RealEpmd.start();
    backend = ErlNode.startLong(ErlNode.uniqueName("cfo") + "@127.0.0.1", bedA.cookie,
        epmd.port());
    TestBed.loadScaletest(backend);
    gwA = GatewayServer.start(bedA.writeConfig(List.of(backend.name()), epmd.port(),
        "round_robin", ""), GatewayServer.Options.DEFAULTS);
    gwB = GatewayServer.start(bedB.writeConfig(List.of(backend.name()), epmd.port(),
        "round_robin", ""), GatewayServer.Options.DEFAULTS);
  }

  @AfterEach
  void tearDown() throws Exception {
    if (driver != null) {
      driver.destroyForcibly();
    }
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

  /** What every driver is given: the two gateways, the load, and alice's and bob's files. */
  ClientDrivers.Args args() throws Exception {
    return args(gwA.listenAddress().getPort(), "default");
  }

  ClientDrivers.Args args(int portA, String keepalive) throws Exception {
    TestBed.Client alice = bedA.client("alice");
    TestBed.Client bob = bedA.client("bob");
    return new ClientDrivers.Args(List.of("localhost:" + portA,
        "localhost:" + gwB.listenAddress().getPort()), EACH, WORK_MS, alice.ca(),
        alice.cert(), alice.key(), bob.cert(), bob.key(), keepalive);
  }

  /** Gateway A behind a relay that the test partitions: only the keepalive can tell. */
  ClientDrivers.Args partitionedArgs() throws Exception {
    relay = new TcpRelay(0, gwA.listenAddress().getPort());
    return args(relay.port(), "200,700");
  }

  @Test
  void theErlangClientFailsOverOnlyWhatIsSafe() throws Exception {
    failover(ClientDrivers.erlang(dir, args()));
  }

  @Test
  void theElixirClientFailsOverOnlyWhatIsSafe() throws Exception {
    failover(ClientDrivers.elixir(dir, args()));
  }

  @Test
  void theErlangClientFindsASilentGatewayByTheKeepalive() throws Exception {
    failover(ClientDrivers.erlang(dir, partitionedArgs()));
  }

  /**
   * max_attempts at its bounds: 0 and 17 refused before anything connects; 1, the least,
   * tries each request once, so alice's idempotent calls on the lost gateway are lost too
   * (outcome unknown, never run twice).
   */
  @Test
  void withOneAttemptTheErlangClientRetriesNothing() throws Exception {
    List<String> lines = failover(ClientDrivers.erlang(dir, args(gwA.listenAddress()
        .getPort(), "max_attempts=1")), false);
    Map<Integer, String> options = results(lines, "option");
    assertTrue(options.get(0).startsWith("error INVALID_ARGUMENT option max_attempts: 0 "
        + "(expected: 1..16)"), options.toString());
    assertTrue(options.get(17).startsWith("error INVALID_ARGUMENT option max_attempts: 17"),
        options.toString());
  }

  /** every_address: each gateway's name resolved (localhost: 127.0.0.1), TLS checks it. */
  @Test
  void theErlangClientConnectsToEveryAddressOfAName() throws Exception {
    failover(ClientDrivers.erlang(dir, args(gwA.listenAddress().getPort(), "every_address")));
  }

  @Test
  void thePythonNativeClientConnectsToEveryAddressOfAName() throws Exception {
    failover(ClientDrivers.pythonNative(dir, args(gwA.listenAddress().getPort(),
        "every_address")));
  }

  @Test
  void thePythonNativeClientFindsASilentGatewayByTheKeepalive() throws Exception {
    failover(ClientDrivers.pythonNative(dir, partitionedArgs()));
  }

  @Test
  void thePythonNativeClientFailsOverOnlyWhatIsSafe() throws Exception {
    failover(ClientDrivers.pythonNative(dir, args()));
  }

  @Test
  void thePythonGrpcClientFailsOverOnlyWhatIsSafe() throws Exception {
    failover(ClientDrivers.pythonGrpc(dir, args()));
  }

  @Test
  void theGoClientFailsOverOnlyWhatIsSafe() throws Exception {
    failover(ClientDrivers.go(dir, args()));
  }

  /**
   * Runs the driver: once it is ready (connected to both gateways) and every call runs on the
   * backend, closes gateway A under it (or partitions its relay), then checks what each call
   * got and how often it ran.
   */
  void failover(ClientDrivers.Command cmd) throws Exception {
    failover(cmd, true);
  }

  /** As above; {@code retries}: whether alice's idempotent calls may go to the other. */
  List<String> failover(ClientDrivers.Command cmd, boolean retries) throws Exception {
    ProcessBuilder pb = new ProcessBuilder(cmd.argv()).redirectErrorStream(true)
        .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
    pb.environment().putAll(cmd.env());
    driver = pb.start();
    List<String> lines = new CopyOnWriteArrayList<>();
    Thread reader = new Thread(() -> {
      try (BufferedReader r = new BufferedReader(new InputStreamReader(
          driver.getInputStream(), StandardCharsets.UTF_8))) {
        for (String line; (line = r.readLine()) != null; ) {
          lines.add(line);
        }
      } catch (java.io.IOException ignored) {
        // the process ended
      }
    }, "failover-driver-output");
    reader.setDaemon(true);
    reader.start();
    await(lines, l -> l.equals("ready"), 20_000, "the driver is connected to both gateways");
    long end = System.nanoTime() + 10_000_000_000L;
    while (started() < 2 * EACH && System.nanoTime() < end && driver.isAlive()) {
      Thread.sleep(50);
    }
    assertEquals(2 * EACH, started(), "every call runs on the backend: " + lines);
    if (relay != null) {
      relay.partition(); // nothing arrives, nothing is reset
    } else {
      gwA.close(); // its connections are closed under the clients, as a killed process's are
      gwA = null;
    }
    assertTrue(driver.waitFor(40, TimeUnit.SECONDS), "the driver hangs: " + lines);
    reader.join(5000);
    assertEquals(0, driver.exitValue(), String.join("\n", lines));
    check(lines, retries);
    return lines;
  }

  static void await(List<String> lines, Predicate<String> p, long ms, String what)
      throws InterruptedException {
    long end = System.nanoTime() + ms * 1_000_000;
    while (lines.stream().noneMatch(p) && System.nanoTime() < end) {
      Thread.sleep(20);
    }
    assertTrue(lines.stream().anyMatch(p), what + ": " + String.join("\n", lines));
  }

  /** How many keys have run on the backend. */
  int started() throws Exception {
    return Integer.parseInt(backend.evalOk("length(scaletest:all_runs())."));
  }

  int runs(int key) throws Exception {
    return Integer.parseInt(backend.evalOk("scaletest:runs(" + key + ")."));
  }

  /** "result KEY ok VALUE" or "result KEY error CODE message", by key. */
  static Map<Integer, String> results(List<String> lines, String prefix) {
    Map<Integer, String> m = new java.util.TreeMap<>();
    for (String l : lines) {
      if (l.startsWith(prefix + " ")) {
        String[] p = l.split(" ", 3);
        m.put(Integer.parseInt(p[1]), p[2]);
      }
    }
    return m;
  }

  void check(List<String> lines, boolean retries) throws Exception {
    String all = String.join("\n", lines);
    Map<Integer, String> r = results(lines, "result");
    assertEquals(2 * EACH, r.size(), all);
    int aliceTwice = 0;
    int aliceLost = 0;
    int bobLost = 0;
    for (int i = 1; i <= EACH; i++) {
      int n = runs(i);
      if (retries) {
        assertEquals("ok " + i, r.get(i), "alice's idempotent call " + i + ": " + all);
        assertTrue(n == 1 || n == 2, "alice's call " + i + " ran " + n + " times");
      } else if (!r.get(i).equals("ok " + i)) {
        assertTrue(r.get(i).startsWith("error OUTCOME_UNKNOWN "), "alice's call " + i + ": "
            + all);
        aliceLost++;
      }
      aliceTwice += n - 1;
      int k = 1000 + i;
      String got = r.get(k);
      if (got.startsWith("error ")) {
        assertTrue(got.startsWith("error OUTCOME_UNKNOWN "), "bob's call " + k + ": " + all);
        bobLost++;
      } else {
        assertEquals("ok " + k, got, all);
      }
      assertEquals(1, runs(k), "bob's call " + k + " ran once, never retried: " + all);
    }
    if (retries) {
      assertTrue(aliceTwice > 0, "some of alice's calls were on the lost gateway and ran "
          + "again: " + all);
    } else {
      assertEquals(0, aliceTwice, "one attempt: none of alice's calls ran twice: " + all);
      assertTrue(aliceLost > 0 && aliceLost < EACH, "alice lost the calls on the lost gateway"
          + " only: " + aliceLost + "\n" + all);
    }
    assertTrue(bobLost > 0 && bobLost < EACH, "bob lost the calls on the lost gateway only: "
        + bobLost + "\n" + all);
    Map<Integer, String> after = results(lines, "after");
    assertTrue(after.size() >= 4, all);
    after.forEach((k, v) -> assertEquals("ok " + k, v, "after the failover: " + all));
    assertTrue(lines.contains("done"), all);
  }

  static List<String> list(String... s) {
    return new ArrayList<>(List.of(s));
  }
}
