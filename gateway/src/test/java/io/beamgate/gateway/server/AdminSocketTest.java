package io.beamgate.gateway.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.beamgate.gateway.ops.Json;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The admin socket: status as JSON, several clients at once, idle ones closed. */
class AdminSocketTest {
  @TempDir Path dir;
  final GatewayServerTest t = new GatewayServerTest();
  final List<SocketChannel> idle = new ArrayList<>();

  @BeforeEach
  void setUp() throws Exception {
    t.dir = dir;
    t.setUp();
    t.backend("kv1");
    t.start("round_robin", "");
    t.awaitUp(1);
  }

  @AfterEach
  void tearDown() throws Exception {
    for (SocketChannel c : idle) {
      c.close();
    }
    t.tearDown();
  }

  Path socket() {
    return dir.resolve("admin.sock");
  }

  SocketChannel connectIdle(Path p) throws Exception {
    SocketChannel c = SocketChannel.open(UnixDomainSocketAddress.of(p));
    idle.add(c);
    return c;
  }

  @Test
  void statusIsOneJsonDocument() throws Exception {
    String answer = AdminSocket.ask(socket(), "status", Duration.ofSeconds(5));
    assertTrue(answer.startsWith("ok {"), answer);
    Map<?, ?> st = (Map<?, ?>) Json.parse(answer.substring(3));
    assertEquals(1L, st.get("backends_up"), answer);
    assertEquals(Boolean.FALSE, st.get("files_changed"), answer);
    assertEquals(null, st.get("last_reload_error"), answer);
    assertTrue(st.containsKey("audit") && st.get("backend_list") instanceof List<?>, answer);
    // a refused reload is kept, and so is the fact that the files differ from those in force
    t.bed.writePolicy("version: 1\nrules: []\n");
    assertTrue(!t.gw.reload().ok());
    st = (Map<?, ?>) Json.parse(AdminSocket.ask(socket(), "status", Duration.ofSeconds(5))
        .substring(3));
    assertEquals(Boolean.TRUE, st.get("files_changed"));
    assertTrue(String.valueOf(st.get("last_reload_error")).contains("reload refused"),
        String.valueOf(st));
  }

  @Test
  void anIdleClientDoesNotBlockOthers() throws Exception {
    connectIdle(socket());
    connectIdle(socket());
    assertTimeoutPreemptively(Duration.ofSeconds(3), () -> {
      for (int i = 0; i < 3; i++) {
        assertTrue(AdminSocket.ask(socket(), "status", Duration.ofSeconds(2))
            .startsWith("ok "));
      }
    });
  }

  @Test
  void clientsAtAndPastTheLimitAndTheReadTimeout() throws Exception {
    Path p = dir.resolve("second.sock");
    try (AdminSocket s = AdminSocket.open(p, t.gw.operator(), 2, Duration.ofMillis(500))) {
      SocketChannel a = connectIdle(p);
      connectIdle(p);
      Thread.sleep(100);
      // at the limit: both threads wait on silent clients; past it: told at once
      String busy = assertTimeoutPreemptively(Duration.ofSeconds(2),
          () -> AdminSocket.ask(p, "status", Duration.ofSeconds(1)));
      assertTrue(busy.startsWith("error busy"), busy);
      // the silent clients are closed after the read timeout...
      ByteBuffer b = ByteBuffer.allocate(16);
      long t0 = System.nanoTime();
      assertEquals(-1, a.read(b), "closed without an answer");
      long ms = (System.nanoTime() - t0) / 1_000_000;
      assertTrue(ms < 3000, ms + " ms");
      // ...and the socket serves again
      Thread.sleep(100);
      assertTrue(AdminSocket.ask(p, "status", Duration.ofSeconds(1)).startsWith("ok "));
    }
  }

  @Test
  void theStatusCommandPrintsJsonOrText() throws Exception {
    String json = runCli("gateway", "status", "--config", t.bed.config.toString(), "--json");
    Map<?, ?> st = (Map<?, ?>) Json.parse(json.trim());
    assertEquals(1L, st.get("backends_up"), json);
    String text = runCli("gateway", "status", "--config", t.bed.config.toString());
    assertTrue(text.contains("backends_up: 1") && text.contains("ready: true"), text);
  }

  static synchronized String runCli(String... args) {
    PrintStream old = System.out;
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try {
      System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
      int code = io.beamgate.gateway.cli.Main.commandLine().execute(args);
      assertEquals(0, code, out.toString(StandardCharsets.UTF_8));
    } finally {
      System.setOut(old);
    }
    return out.toString(StandardCharsets.UTF_8);
  }
}
