package io.beamgate.gateway.server;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.beamgate.gateway.proto.ServerFrame;
import io.beamgate.node.LocalNode;
import io.beamgate.node.NodeConfig;
import io.beamgate.node.epmd.EpmdServer;
import io.beamgate.node.rpc.RpcServer;
import io.beamgate.node.term.Binary;
import io.beamgate.node.term.Int;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A client that sends many calls for large results and never reads the answers costs the
 * gateway at most {@code limits.max_output_bytes}: its requests stop being started once its
 * answers queue up, the connection is closed past the limit, requests still waiting are never
 * started, and another client is served meanwhile.
 */
class OutputBackpressureTest {
  static final String POLICY = """
      version: 1
      rules:
        - id: big
          principals: ["uri:spiffe://test/mallory", "uri:spiffe://test/alice"]
          calls: ["kv:big/1", "kv:echo/1"]
          limits: {rate_per_second: 1000000, concurrency: 100000, timeout_ms: 5000,
                   max_result_bytes: 1048576}
      """;

  @TempDir Path dir;
  TestBed bed;
  EpmdServer epmd;
  LocalNode backend;
  GatewayServer gw;
  final AtomicInteger bigCalls = new AtomicInteger();
  final List<RawClient> clients = new ArrayList<>();

  @BeforeEach
  void setUp() throws Exception {
    bed = new TestBed(dir);
    bed.writePolicy(POLICY);
    epmd = EpmdServer.start(EpmdServer.Config.loopback(0));
    backend = LocalNode.start(NodeConfig.builder("bpb" + System.nanoTime() + "@127.0.0.1")
        .cookie(bed.cookie).epmdPort(epmd.port()).build());
    RpcServer.start(backend, Executors.newCachedThreadPool())
        .register("kv", "echo", 1, a -> a.get(0))
        .register("kv", "big", 1, a -> {
          bigCalls.incrementAndGet();
          return Binary.of(new byte[(int) ((Int) a.get(0)).value()]);
        });
  }

  @AfterEach
  void tearDown() {
    clients.forEach(RawClient::close);
    if (gw != null) {
      gw.close();
    }
    backend.close();
    epmd.close();
  }

  @Test
  void aClientThatNeverReadsCostsAtMostMaxOutputBytes() throws Exception {
    int maxOutput = 2 << 20;
    gw = GatewayServer.start(bed.writeConfig(List.of(backend.name()), epmd.port(),
        "round_robin", "limits: {max_output_bytes: " + maxOutput
            + ", max_in_flight_per_connection: 64}\n"), GatewayServer.Options.DEFAULTS);
    RawClient mallory = RawClient.connect(gw.listenAddress(), bed.client("mallory"));
    clients.add(mallory);
    RawClient alice = RawClient.connect(gw.listenAddress(), bed.client("alice"));
    clients.add(alice);
    mallory.reading(false);
    int sent = 3000;
    for (int i = 1; i <= sent; i++) {
      mallory.sendAsync(GatewayServerTest.call(i, "kv", "big", Int.of(64 * 1024)));
    }
    // alice is served while mallory's answers pile up
    List<Long> micros = new ArrayList<>();
    for (int i = 1; i <= 200; i++) {
      long t0 = System.nanoTime();
      alice.send(GatewayServerTest.call(i, "kv", "echo", Int.of(i)));
      ServerFrame f = alice.next(Duration.ofSeconds(5));
      assertTrue(f != null && f.hasResult(), "alice's call " + i + ": " + f);
      micros.add((System.nanoTime() - t0) / 1000);
    }
    Thread.sleep(300);
    int started = bigCalls.get();
    // at most what fits under the limit and in the kernel's socket buffers (a few MiB on
    // loopback, which the gateway does not see), plus the calls in flight when it was reached
    int bound = (maxOutput + (8 << 20)) / (64 * 1024) + 64;
    assertTrue(started <= bound, started + " of " + sent + " calls were started (bound "
        + bound + ")");
    Collections.sort(micros);
    long p99 = micros.get(micros.size() * 99 / 100);
    assertTrue(p99 < 1_000_000, "alice's p99 was " + p99 + " µs");
    // mallory goes away: what it sent and was never started stays unstarted
    mallory.close();
    Thread.sleep(500);
    assertTrue(bigCalls.get() == started, (bigCalls.get() - started)
        + " calls were started after the connection closed");
  }

  @Test
  void pastMaxOutputBytesTheConnectionIsClosedAndAudited() throws Exception {
    gw = GatewayServer.start(bed.writeConfig(List.of(backend.name()), epmd.port(),
        "round_robin", "limits: {max_output_bytes: 2097152, max_in_flight_per_connection: 64,"
            + " output_stall_ms: 500}\n"),
        GatewayServer.Options.DEFAULTS);
    RawClient mallory = RawClient.connect(gw.listenAddress(), bed.client("mallory"));
    clients.add(mallory);
    mallory.reading(false);
    for (int i = 1; i <= 200; i++) {
      mallory.sendAsync(GatewayServerTest.call(i, "kv", "big", Int.of(1_000_000)));
    }
    long end = System.nanoTime() + 10_000_000_000L;
    while (!bed.auditText().contains("limits.max_output_bytes") && System.nanoTime() < end) {
      Thread.sleep(20);
    }
    assertTrue(bed.auditText().contains("limits.max_output_bytes"), bed.auditText());
    mallory.reading(true); // a client that reads again finds the connection closed
    assertTrue(mallory.awaitClosed(Duration.ofSeconds(15)),
        "the connection of a client that does not read stays open past max_output_bytes");
    assertTrue(bigCalls.get() <= 64 + 8, bigCalls.get() + " calls started");
  }
}
