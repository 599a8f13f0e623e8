package io.beamgate.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.beamgate.client.GatewayException.Code;
import io.beamgate.gateway.cli.CallCommand;
import io.beamgate.gateway.server.GatewayServer;
import io.beamgate.gateway.server.TestBed;
import io.beamgate.node.LocalNode;
import io.beamgate.node.NodeConfig;
import io.beamgate.node.epmd.EpmdServer;
import io.beamgate.node.rpc.RpcServer;
import io.beamgate.node.term.Atom;
import io.beamgate.node.term.Binary;
import io.beamgate.node.term.Int;
import io.beamgate.node.term.Term;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The client and {@code beamgate call} against the real gateway ({@link GatewayServer}) in
 * front of a Java backend node: what the scripted gateway stands in for, checked once for
 * real.
 */
class GatewayEndToEndTest {
  static final String POLICY = """
      version: 1
      rules:
        - id: kv-users
          principals: ["uri:spiffe://test/alice"]
          calls: ["kv:get/1", "kv:put/2", "kv:sleep/1", "kv:crash/0"]
          limits: {rate_per_second: 100000, concurrency: 1000, timeout_ms: 5000}
        - id: readers
          principals: ["uri:spiffe://test/bob"]
          calls: ["kv:get/1"]
      """;

  @TempDir static Path dir;
  static TestBed bed;
  static EpmdServer epmd;
  static LocalNode backend;
  static ExecutorService handlers;
  static GatewayServer gw;
  static TestBed.Client alice;
  static TestBed.Client bob;
  static final Map<Term, Term> store = new ConcurrentHashMap<>();
  static final AtomicInteger sleepsFinished = new AtomicInteger();

  @BeforeAll
  static void start() throws Exception {
    bed = new TestBed(dir);
    bed.writePolicy(POLICY);
    epmd = EpmdServer.start(EpmdServer.Config.loopback(0));
    backend = LocalNode.start(NodeConfig.builder("kv_e2e@127.0.0.1").cookie(bed.cookie)
        .epmdPort(epmd.port()).build());
    handlers = Executors.newCachedThreadPool();
    RpcServer.start(backend, handlers)
        .register("kv", "get", 1, a -> store.getOrDefault(a.get(0), Atom.UNDEFINED))
        .register("kv", "put", 2, a -> {
          store.put(a.get(0), a.get(1));
          return Atom.OK;
        })
        .register("kv", "sleep", 1, a -> {
          Thread.sleep(((Int) a.get(0)).value());
          sleepsFinished.incrementAndGet();
          return Atom.OK;
        })
        .register("kv", "crash", 0, a -> {
          throw new IllegalStateException("boom");
        });
    gw = GatewayServer.start(bed.writeConfig(List.of(backend.name()), epmd.port(),
        "round_robin", ""), GatewayServer.Options.DEFAULTS
        .withBackendWait(Duration.ofSeconds(5)));
    alice = bed.client("alice");
    bob = bed.client("bob");
  }

  @AfterAll
  static void stop() {
    if (gw != null) {
      gw.close();
    }
    if (backend != null) {
      backend.close();
    }
    if (handlers != null) {
      handlers.shutdownNow();
    }
    if (epmd != null) {
      epmd.close();
    }
  }

  static ClientConfig.Builder config(TestBed.Client who) {
    return ClientConfig.builder().host("127.0.0.1").port(gw.listenAddress().getPort())
        .tls(who.cert(), who.key(), who.ca()).callTimeout(Duration.ofSeconds(5));
  }

  @Test
  void callsPingAndTypedErrors() throws Exception {
    try (BeamgateClient c = BeamgateClient.connect(config(alice).build())) {
      Pong p = c.blocking().ping();
      assertEquals(1, p.protocol());
      assertEquals("spiffe://test/alice", p.principal());
      Term key = Binary.of("e2e".getBytes());
      assertEquals(Atom.OK, c.blocking().call("kv", "put", List.of(key,
          Term.tuple(Term.atom("v"), Term.integer(1)))));
      assertEquals(Term.tuple(Term.atom("v"), Term.integer(1)),
          c.blocking().call("kv", "get", List.of(key)));

      GatewayException denied = assertThrows(GatewayException.class,
          () -> c.blocking().call("os", "cmd", List.of(Term.atom("ls"))));
      assertEquals(Code.PERMISSION_DENIED, denied.code());
      assertTrue(denied.fromGateway());

      GatewayException badrpc = assertThrows(GatewayException.class,
          () -> c.blocking().call("kv", "crash", List.of()));
      assertEquals(Code.BAD_RPC, badrpc.code());
      assertTrue(badrpc.erlang().orElseThrow().startsWith("{badrpc,"), badrpc.getMessage());
    }
  }

  @Test
  void manyCallsInFlightOnOneConnection() throws Exception {
    try (BeamgateClient c = BeamgateClient.connect(config(alice).build())) {
      List<CompletableFuture<Term>> fs = new ArrayList<>();
      for (int i = 0; i < 200; i++) {
        // Sleeps of decreasing length: answers arrive out of order.
        fs.add(c.call("kv", "sleep", List.of(Term.integer((200 - i) / 10))));
      }
      for (CompletableFuture<Term> f : fs) {
        assertEquals(Atom.OK, f.get(10, TimeUnit.SECONDS));
      }
    }
  }

  @Test
  void clientTimeoutCancelsAtTheGateway() throws Exception {
    try (BeamgateClient c = BeamgateClient.connect(config(alice).maxInFlight(1).build())) {
      GatewayException e = assertThrows(GatewayException.class,
          () -> c.blocking().call("kv", "sleep", List.of(Term.integer(1500)),
              Duration.ofMillis(200)));
      assertEquals(Code.TIMEOUT, e.code());
      // With one slot, this call goes out only once the gateway has dealt with the Cancel:
      // well before the sleep of 1.5 s ends.
      long start = System.nanoTime();
      assertEquals(Atom.UNDEFINED, c.blocking().call("kv", "get", List.of(Term.atom("none")),
          Duration.ofSeconds(5)));
      assertTrue(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start) < 1000);
    }
  }

  @Test
  void cliAgainstTheRealGateway() {
    String port = Integer.toString(gw.listenAddress().getPort());
    CallCommandTest.Run ok = CallCommandTest.run("call", "--gateway", "127.0.0.1:" + port,
        "--cert", alice.cert().toString(), "--key", alice.key().toString(),
        "--ca", alice.ca().toString(), "kv", "put", "[cli_key, [1, <<\"two\">>, {three}]]");
    assertEquals(0, ok.exit(), ok.toString());
    assertEquals("ok\n", ok.out());
    CallCommandTest.Run get = CallCommandTest.run("call", "--gateway", "127.0.0.1:" + port,
        "--cert", bob.cert().toString(), "--key", bob.key().toString(),
        "--ca", bob.ca().toString(), "kv", "get", "[cli_key]");
    assertEquals(0, get.exit(), get.toString());
    assertEquals("[1, <<\"two\">>, {three}]\n", get.out());
    CallCommandTest.Run denied = CallCommandTest.run("call", "--gateway", "127.0.0.1:" + port,
        "--cert", bob.cert().toString(), "--key", bob.key().toString(),
        "--ca", bob.ca().toString(), "kv", "put", "[cli_key, x]");
    assertEquals(CallCommand.EXIT_DENIED, denied.exit(), denied.toString());
    CallCommandTest.Run ping = CallCommandTest.run("call", "--gateway", "127.0.0.1:" + port,
        "--cert", bob.cert().toString(), "--key", bob.key().toString(),
        "--ca", bob.ca().toString(), "--ping");
    assertEquals(0, ping.exit(), ping.toString());
    assertTrue(ping.out().contains("principal=spiffe://test/bob"), ping.out());
  }
}
