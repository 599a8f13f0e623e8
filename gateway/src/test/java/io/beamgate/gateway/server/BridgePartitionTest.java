package io.beamgate.gateway.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.beamgate.node.LocalNode;
import io.beamgate.node.NodeConfig;
import io.beamgate.node.epmd.EpmdServer;
import io.beamgate.node.rpc.RpcException;
import io.beamgate.node.rpc.RpcServer;
import io.beamgate.node.term.Atom;
import io.beamgate.node.term.Int;
import io.beamgate.node.term.Term;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A silent partition between two gateways (packets dropped, nothing reset, through a relay
 * that stops forwarding): the opening gateway declares the link down within three keepalive
 * periods, a call in flight across it ends at once as a node going down (its outcome
 * unknown) instead of waiting for its timeout, and the link comes back when the path heals.
 */
class BridgePartitionTest {
  static final String POLICY = """
      version: 1
      rules:
        - id: cluster-b
          principals: ["dns:gw-b.test"]
          calls: ["kv:echo/1", "kv:sleep/1"]
          limits: {rate_per_second: 100000, concurrency: 1000, timeout_ms: 20000}
      """;

  @TempDir Path dir;
  TestBed bedA;
  TestBed bedB;
  EpmdServer epmdA;
  EpmdServer epmdB;
  LocalNode backend;
  LocalNode caller;
  GatewayServer gwA;
  GatewayServer gwB;
  TcpRelay relay;

  @BeforeEach
  void setUp() throws Exception {
    bedA = new TestBed(dir.resolve("a"), null, "gw-a.test");
    bedB = new TestBed(dir.resolve("b"), bedA, "gw-b.test");
    bedA.writePolicy(POLICY);
    bedB.writePolicy(POLICY);
    epmdA = EpmdServer.start(EpmdServer.Config.loopback(0));
    epmdB = EpmdServer.start(EpmdServer.Config.loopback(0));
    backend = LocalNode.start(NodeConfig.builder("pkv" + System.nanoTime() + "@127.0.0.1")
        .cookie(bedA.cookie).epmdPort(epmdA.port()).build());
    RpcServer.start(backend, Executors.newCachedThreadPool())
        .register("kv", "echo", 1, a -> a.get(0))
        .register("kv", "sleep", 1, a -> {
          Thread.sleep(((Int) a.get(0)).value());
          return Atom.of("slept");
        });
    gwA = GatewayServer.start(bedA.writeConfig(List.of(backend.name()), epmdA.port(),
        "round_robin", ""), GatewayServer.Options.DEFAULTS);
    relay = new TcpRelay(0, gwA.listenAddress().getPort());
  }

  @AfterEach
  void tearDown() {
    for (AutoCloseable c : new AutoCloseable[] {caller, gwB, relay, gwA, backend}) {
      try {
        if (c != null) {
          c.close();
        }
      } catch (Exception ignored) {
        // closing
      }
    }
    epmdA.close();
    epmdB.close();
  }

  boolean awaitBridge(boolean up, Duration d) throws InterruptedException {
    long end = System.nanoTime() + d.toNanos();
    while (System.nanoTime() < end) {
      if (Boolean.valueOf(up).equals(gwB.bridgesUp().get("a"))) {
        return true;
      }
      Thread.sleep(10);
    }
    return false;
  }

  @Test
  void aSilentPartitionIsALinkDownWithinThreeKeepalivesAndHeals() throws Exception {
    String ca = "pca" + System.nanoTime() + "@127.0.0.1";
    gwB = GatewayServer.start(bedB.writeConfig(List.of("nobody@127.0.0.1"), epmdB.port(),
        "round_robin", "bridge: {keepalive_ms: 300}\n"
            + "bridges:\n  - name: a\n"
            + "    connect: {host: localhost, port: " + relay.port() + "}\n"
            + "    expect: dns:gw-a.test\n"
            + "    node_name: " + ca + "\n"
            + "    reconnect_min_ms: 50\n    reconnect_max_ms: 300\n"),
        GatewayServer.Options.DEFAULTS.withBackendWait(Duration.ofMillis(10)));
    caller = LocalNode.start(NodeConfig.builder("pcaller" + System.nanoTime() + "@127.0.0.1")
        .cookie(bedB.cookie).epmdPort(epmdB.port()).build());
    assertTrue(awaitBridge(true, Duration.ofSeconds(10)), "bridge up");
    assertEquals(Atom.of("hi"), caller.rpc().callAsync(ca, "kv", "echo",
        List.of(Atom.of("hi")), Duration.ofSeconds(5)).get(5, TimeUnit.SECONDS));
    // a call in flight when the path goes silent
    CompletableFuture<Term> inFlight = caller.rpc().callAsync(ca, "kv", "sleep",
        List.of(Int.of(15_000)), Duration.ofSeconds(20));
    Thread.sleep(200);
    long t0 = System.nanoTime();
    relay.partition();
    assertTrue(awaitBridge(false, Duration.ofSeconds(5)), "the link stays up in a partition");
    long downMs = (System.nanoTime() - t0) / 1_000_000;
    assertTrue(downMs < 3 * 300 + 1000, "declared down after " + downMs + " ms");
    ExecutionException e = org.junit.jupiter.api.Assertions.assertThrows(
        ExecutionException.class, () -> inFlight.get(5, TimeUnit.SECONDS));
    assertTrue(e.getCause() instanceof RpcException r
        && r.kind() == RpcException.Kind.NODEDOWN, String.valueOf(e.getCause()));
    long endedMs = (System.nanoTime() - t0) / 1_000_000;
    assertTrue(endedMs < 5_000, "the call in flight ended after " + endedMs + " ms");
    // the path heals: the link comes back and calls pass again
    relay.heal();
    assertTrue(awaitBridge(true, Duration.ofSeconds(10)), "the link does not come back");
    long end = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    Term again = null;
    while (again == null && System.nanoTime() < end) {
      try {
        again = caller.rpc().callAsync(ca, "kv", "echo", List.of(Atom.of("back")),
            Duration.ofSeconds(2)).get(3, TimeUnit.SECONDS);
      } catch (ExecutionException notYet) {
        Thread.sleep(100);
      }
    }
    assertEquals(Atom.of("back"), again);
  }
}
