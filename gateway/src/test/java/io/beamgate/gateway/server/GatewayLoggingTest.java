package io.beamgate.gateway.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.beamgate.gateway.ops.Json;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** `beamgate gateway run --log-format json` as a process: every line on stderr is JSON. */
class GatewayLoggingTest {
  @TempDir Path dir;
  final GatewayServerTest t = new GatewayServerTest();
  Process p;

  @BeforeEach
  void setUp() throws Exception {
    t.dir = dir;
    t.setUp();
  }

  @AfterEach
  void tearDown() throws Exception {
    if (p != null) {
      p.destroyForcibly();
      p.waitFor(10, TimeUnit.SECONDS);
    }
    t.tearDown();
  }

  Process run(String... args) throws Exception {
    return TestBed.gatewayRun(args).start();
  }

  @Test
  void jsonLogLinesParse() throws Exception {
    t.backend("kvlog");
    t.bed.writeConfig(List.of(t.backends.get(0).name()), t.epmd.port(), "round_robin", "");
    p = run("--config", t.bed.config.toString(), "--log-format", "json", "--log-level",
        "debug", "--backend-wait", "5000");
    List<String> lines = new ArrayList<>();
    try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getErrorStream(),
        StandardCharsets.UTF_8))) {
      String line;
      while ((line = r.readLine()) != null) {
        lines.add(line);
        if (line.contains("beamgate gateway listening on")) {
          p.toHandle().destroy(); // SIGTERM; the shutdown logs too, then stderr ends
        }
      }
    }
    assertTrue(p.waitFor(20, TimeUnit.SECONDS));
    assertTrue(lines.stream().anyMatch(l -> l.contains("beamgate gateway listening on")),
        String.join("\n", lines));
    boolean debug = false;
    for (String l : lines) {
      Map<?, ?> m = (Map<?, ?>) Json.parse(l);
      assertTrue(m.get("formattedMessage") instanceof String && !m.containsKey("arguments")
          && m.get("level") instanceof String
          && m.get("loggerName") instanceof String && m.get("timestamp") instanceof Long, l);
      debug |= m.get("level").equals("DEBUG");
    }
    assertTrue(debug, "--log-level debug lets debug lines through");
    assertTrue(lines.stream().anyMatch(l -> l.contains("\"formattedMessage\":\"backend "
        + t.backends.get(0).name() + " is up\"")), String.join("\n", lines));
  }

  @Test
  void badLogOptionsExit64() throws Exception {
    t.bed.writeConfig(List.of("nobody@127.0.0.1"), t.epmd.port(), "round_robin", "");
    p = run("--config", t.bed.config.toString(), "--log-format", "xml");
    assertTrue(p.waitFor(30, TimeUnit.SECONDS));
    assertEquals(64, p.exitValue());
    String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(err.contains("--log-format: 'xml' (expected: text or json)"), err);
    p = run("--config", t.bed.config.toString(), "--log-level", "loud");
    assertTrue(p.waitFor(30, TimeUnit.SECONDS));
    assertEquals(64, p.exitValue());
  }
}
