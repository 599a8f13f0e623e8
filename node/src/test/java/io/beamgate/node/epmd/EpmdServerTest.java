package io.beamgate.node.epmd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.DataOutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.time.Duration;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class EpmdServerTest {
  private static final Duration T = Duration.ofSeconds(5);

  @Test
  void registerLookUpListAndUnregisterOnClose() throws Exception {
    try (EpmdServer server = EpmdServer.start(EpmdServer.Config.loopback(0))) {
      assertEquals(InetAddress.getLoopbackAddress(), server.address().getAddress());
      EpmdClient client = new EpmdClient("127.0.0.1", server.port(), T);
      EpmdClient.Registration r = client.register("alpha", 5555, true);
      assertTrue(r.creation() != 0);
      Optional<NodeEntry> e = client.portPlease("alpha");
      assertTrue(e.isPresent());
      assertEquals(5555, e.get().port());
      assertTrue(e.get().hidden());
      assertEquals(6, e.get().highestVersion());
      assertEquals(1, client.names().size());
      assertEquals("alpha", client.names().get(0).alive());
      r.close();
      long deadline = System.nanoTime() + T.toNanos();
      while (client.portPlease("alpha").isPresent() && System.nanoTime() < deadline) {
        Thread.sleep(20);
      }
      assertFalse(client.portPlease("alpha").isPresent(), "unregistered when connection closes");
    }
  }

  @Test
  void duplicateNameRefused() throws Exception {
    try (EpmdServer server = EpmdServer.start(EpmdServer.Config.loopback(0))) {
      EpmdClient client = new EpmdClient("127.0.0.1", server.port(), T);
      try (EpmdClient.Registration r = client.register("dup", 1000, false)) {
        EpmdException e = assertThrows(EpmdException.class,
            () -> client.register("dup", 1001, false));
        assertTrue(e.getMessage().contains("in use"), e.getMessage());
      }
    }
  }

  @Test
  void creationsDifferBetweenIncarnations() throws Exception {
    try (EpmdServer server = EpmdServer.start(EpmdServer.Config.loopback(0))) {
      EpmdClient client = new EpmdClient("127.0.0.1", server.port(), T);
      int c1;
      try (EpmdClient.Registration r = client.register("n", 1000, false)) {
        c1 = r.creation();
      }
      Thread.sleep(100);
      try (EpmdClient.Registration r = client.register("n", 1000, false)) {
        assertTrue(c1 != r.creation());
      }
    }
  }

  @Test
  void maxNodesAtAndPastTheLimit() throws Exception {
    EpmdServer.Config cfg = new EpmdServer.Config(InetAddress.getLoopbackAddress(), 0, 2, T);
    try (EpmdServer server = EpmdServer.start(cfg)) {
      EpmdClient client = new EpmdClient("127.0.0.1", server.port(), T);
      try (EpmdClient.Registration a = client.register("a", 1000, false);
          EpmdClient.Registration b = client.register("b", 1001, false)) {
        assertThrows(EpmdException.class, () -> client.register("c", 1002, false));
      }
    }
  }

  @Test
  void unknownNameIsEmpty() throws Exception {
    try (EpmdServer server = EpmdServer.start(EpmdServer.Config.loopback(0))) {
      assertTrue(new EpmdClient("127.0.0.1", server.port(), T).portPlease("ghost").isEmpty());
    }
  }

  @Test
  void silentConnectionClosedAfterRequestTimeout() throws Exception {
    EpmdServer.Config cfg = new EpmdServer.Config(InetAddress.getLoopbackAddress(), 0, 8,
        Duration.ofMillis(200));
    try (EpmdServer server = EpmdServer.start(cfg);
        Socket s = new Socket("127.0.0.1", server.port())) {
      s.setSoTimeout(5000);
      assertEquals(-1, s.getInputStream().read(), "closed by the server");
    }
  }

  @Test
  void garbageRequestClosesConnectionAndServerGoesOn() throws Exception {
    try (EpmdServer server = EpmdServer.start(EpmdServer.Config.loopback(0))) {
      try (Socket s = new Socket("127.0.0.1", server.port())) {
        s.setSoTimeout(5000);
        DataOutputStream out = new DataOutputStream(s.getOutputStream());
        out.writeShort(3);
        out.write(new byte[] {(byte) 250, 1, 2});
        out.flush();
        assertEquals(-1, s.getInputStream().read());
      }
      EpmdClient client = new EpmdClient("127.0.0.1", server.port(), T);
      try (EpmdClient.Registration r = client.register("still", 1, false)) {
        assertTrue(client.portPlease("still").isPresent());
      }
    }
  }

  @Test
  void clientExplainsMissingEpmd() throws Exception {
    int port;
    try (java.net.ServerSocket s = new java.net.ServerSocket(0)) {
      port = s.getLocalPort();
    }
    EpmdClient client = new EpmdClient("127.0.0.1", port, T);
    EpmdException e = assertThrows(EpmdException.class, () -> client.portPlease("x"));
    assertTrue(e.getMessage().contains("cannot reach epmd at 127.0.0.1:" + port), e.getMessage());
  }
}
