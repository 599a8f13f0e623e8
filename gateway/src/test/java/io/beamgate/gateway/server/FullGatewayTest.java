package io.beamgate.gateway.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.beamgate.client.BeamgateClient;
import io.beamgate.client.ClientConfig;
import io.beamgate.client.GatewayException;
import io.beamgate.gateway.cli.Main;
import io.beamgate.node.LocalNode;
import io.beamgate.node.NodeConfig;
import io.beamgate.node.epmd.EpmdServer;
import io.beamgate.node.rpc.RpcServer;
import io.beamgate.node.term.Atom;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.Socket;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A client refused by {@code limits.max_connections} is told so (RESOURCE_EXHAUSTED, "the
 * gateway is full"), through the Java client and the CLI; past the number of refusals told
 * at once, connections are closed without a word.
 */
class FullGatewayTest {
  static final String POLICY = """
      version: 1
      rules:
        - id: kv-users
          principals: ["uri:spiffe://test/alice"]
          calls: ["kv:get/1"]
      """;
  static final String FULL = "the gateway is full: 1 connections are open"
      + " (limits.max_connections); try again later";

  @TempDir java.nio.file.Path dir;
  TestBed bed;
  EpmdServer epmd;
  LocalNode backend;
  GatewayServer gw;
  TestBed.Client alice;

  @BeforeEach
  void setUp() throws Exception {
    bed = new TestBed(dir);
    bed.writePolicy(POLICY);
    epmd = EpmdServer.start(EpmdServer.Config.loopback(0));
    backend = LocalNode.start(NodeConfig.builder("kv1@127.0.0.1").cookie(bed.cookie)
        .epmdPort(epmd.port()).build());
    RpcServer.start(backend, Executors.newCachedThreadPool())
        .register("kv", "get", 1, a -> Atom.of("v"));
    gw = GatewayServer.start(bed.writeConfig(List.of(backend.name()), epmd.port(),
        "round_robin", "limits: {max_connections: 1}\n"), GatewayServer.Options.DEFAULTS
        .withBackendWait(Duration.ofSeconds(5)));
    alice = bed.client("alice");
  }

  @AfterEach
  void tearDown() {
    gw.close();
    backend.close();
    epmd.close();
  }

  ClientConfig config() {
    return ClientConfig.builder().host("localhost").port(gw.listenAddress().getPort())
        .tls(alice.cert(), alice.key(), alice.ca()).callTimeout(Duration.ofSeconds(5))
        .connectTimeout(Duration.ofSeconds(3)).build();
  }

  int refusalsAudited() throws Exception {
    return bed.auditText().split("limits.max_connections reached", -1).length - 1;
  }

  @Test
  void aClientPastMaxConnectionsIsToldTheGatewayIsFull() throws Exception {
    try (BeamgateClient first = BeamgateClient.connect(config())) {
      GatewayException e = assertThrows(GatewayException.class,
          () -> BeamgateClient.connect(config()).close());
      assertEquals(GatewayException.Code.RESOURCE_EXHAUSTED, e.code());
      assertTrue(e.getMessage().contains(FULL), e.getMessage());

      StringWriter err = new StringWriter();
      picocli.CommandLine cl = Main.commandLine();
      cl.setErr(new PrintWriter(err, true));
      cl.setOut(new PrintWriter(new StringWriter(), true));
      int exit = cl.execute("call", "--gateway", "localhost:" + gw.listenAddress().getPort(),
          "--cert", alice.cert().toString(), "--key", alice.key().toString(), "--ca",
          alice.ca().toString(), "--ping");
      assertEquals(71, exit, err::toString);
      assertTrue(err.toString().startsWith("beamgate call: resource exhausted: ")
          && err.toString().contains(FULL), err::toString);

      assertEquals(Atom.of("v"), first.blocking().call("kv", "get", List.of(Atom.OK)),
          "the first client is served all along");
    }
    // Room again: served.
    try (BeamgateClient again = BeamgateClient.connect(config())) {
      assertEquals(Atom.of("v"), again.blocking().call("kv", "get", List.of(Atom.OK)));
    }
  }

  @Test
  void pastTheRefusalsToldAtOnceAConnectionIsClosedWithoutAWord() throws Exception {
    try (BeamgateClient first = BeamgateClient.connect(config());
        Socket stalled = new Socket("127.0.0.1", gw.listenAddress().getPort())) {
      // This one starts a handshake (a TLS record header, then nothing): it holds the one
      // place for telling (at most max_connections, here 1, are told at once).
      stalled.getOutputStream().write(new byte[] {0x16, 0x03, 0x01, 0x00, 0x40});
      stalled.getOutputStream().flush();
      GatewayServerTest.waitUntil(() -> {
        try {
          return refusalsAudited() == 1;
        } catch (Exception x) {
          throw new AssertionError(x);
        }
      });
      Thread.sleep(200); // its first bytes are read
      GatewayException e = assertThrows(GatewayException.class,
          () -> BeamgateClient.connect(config()).close());
      assertEquals(GatewayException.Code.CONNECTION, e.code(), e::getMessage);
      assertTrue(e.getMessage().contains("closed the connection during the TLS handshake"),
          e.getMessage());
      // The stalled handshake is cut after FullRefusal.HANDSHAKE_MILLIS: told again then.
      long t0 = System.nanoTime();
      GatewayServerTest.waitUntil(() -> {
        try {
          BeamgateClient.connect(config()).close();
          return false;
        } catch (GatewayException x) {
          return x.code() == GatewayException.Code.RESOURCE_EXHAUSTED; // told again
        }
      });
      assertTrue(System.nanoTime() - t0 < 8_000_000_000L, "the stalled handshake was cut");
      assertEquals(-1, stalled.getInputStream().read(), "the stalled one was closed");
    }
  }

  @Test
  void connectionsThatSendNothingDoNotKeepOthersFromBeingTold() throws Exception {
    // A flood of connections that open and send nothing: each is refused, none takes the
    // place for telling, and each is closed after FullRefusal.HELLO_WAIT_MILLIS.
    List<Socket> flood = new java.util.ArrayList<>();
    try (BeamgateClient first = BeamgateClient.connect(config())) {
      for (int i = 0; i < 20; i++) {
        flood.add(new Socket("127.0.0.1", gw.listenAddress().getPort()));
      }
      GatewayServerTest.waitUntil(() -> {
        try {
          return refusalsAudited() == 20;
        } catch (Exception x) {
          throw new AssertionError(x);
        }
      });
      GatewayException e = assertThrows(GatewayException.class,
          () -> BeamgateClient.connect(config()).close());
      assertEquals(GatewayException.Code.RESOURCE_EXHAUSTED, e.code(), e::getMessage);
      assertTrue(e.getMessage().contains(FULL), e.getMessage());
      long t0 = System.nanoTime();
      for (Socket s : flood) {
        s.setSoTimeout(10_000);
        assertEquals(-1, s.getInputStream().read(), "a silent refused connection is closed");
      }
      long waited = (System.nanoTime() - t0) / 1_000_000;
      assertTrue(waited < FullRefusal.HELLO_WAIT_MILLIS + 3_000, "closed after " + waited
          + " ms");
      assertEquals(Atom.of("v"), first.blocking().call("kv", "get", List.of(Atom.OK)));
    } finally {
      for (Socket s : flood) {
        s.close();
      }
    }
  }

  @Test
  void refusalsAreLoggedAtABoundedRate() throws Exception {
    java.util.List<String> lines = new java.util.concurrent.CopyOnWriteArrayList<>();
    org.slf4j.Logger logger = (org.slf4j.Logger) java.lang.reflect.Proxy.newProxyInstance(
        getClass().getClassLoader(), new Class<?>[] {org.slf4j.Logger.class}, (p, m, a) -> {
          if (m.getName().equals("warn")) {
            lines.add(String.valueOf(a[0]));
          }
          return m.getReturnType() == boolean.class ? Boolean.TRUE : null;
        });
    RefusedLog rl = new RefusedLog(logger);
    java.util.concurrent.ScheduledExecutorService timer =
        Executors.newSingleThreadScheduledExecutor();
    try {
      for (int i = 0; i < 500; i++) {
        rl.refused(new java.net.InetSocketAddress("127.0.0.1", 1000 + i), 1, timer);
      }
      assertEquals(1, lines.size(), lines::toString);
      assertEquals(499, rl.pending());
    } finally {
      timer.shutdownNow();
    }
  }
}
