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
        Socket silent = new Socket("127.0.0.1", gw.listenAddress().getPort())) {
      // The silent one is refused and waits in its handshake: it holds the one slot for
      // telling (at most max_connections, here 1, are told at once).
      GatewayServerTest.waitUntil(() -> {
        try {
          return refusalsAudited() == 1;
        } catch (Exception x) {
          throw new AssertionError(x);
        }
      });
      GatewayException e = assertThrows(GatewayException.class,
          () -> BeamgateClient.connect(config()).close());
      assertEquals(GatewayException.Code.CONNECTION, e.code(), e::getMessage);
      assertTrue(e.getMessage().contains("closed the connection during the TLS handshake"),
          e.getMessage());
      silent.close();
      GatewayServerTest.waitUntil(() -> {
        try {
          BeamgateClient.connect(config()).close();
          return false;
        } catch (GatewayException x) {
          return x.code() == GatewayException.Code.RESOURCE_EXHAUSTED; // told again
        }
      });
    }
  }
}
