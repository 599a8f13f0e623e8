package io.beamgate.gateway.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.beamgate.gateway.ops.NotifySocket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * `beamgate gateway run` under a fake systemd: $NOTIFY_SOCKET bound by the test hears READY=1
 * once the gateway listens, RELOADING=1 then READY=1 on SIGHUP, STOPPING=1 on SIGTERM.
 */
class GatewayNotifyTest {
  static final Duration WAIT = Duration.ofSeconds(30);
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

  @Test
  void systemdHearsReadyReloadingAndStopping() throws Exception {
    t.backend("kvnotify");
    t.bed.writeConfig(List.of(t.backends.get(0).name()), t.epmd.port(), "round_robin", "");
    try (NotifySocket systemd = new NotifySocket(dir.resolve("notify"), null)) {
      ProcessBuilder pb = TestBed.gatewayRun("--config", t.bed.config.toString(),
          "--backend-wait", "5000").redirectError(dir.resolve("stderr.txt").toFile());
      pb.environment().put("NOTIFY_SOCKET", systemd.address);
      p = pb.start();
      String ready = systemd.await("READY=1", WAIT);
      assertTrue(ready.contains("STATUS=listening on"), ready);
      String log = java.nio.file.Files.readString(dir.resolve("stderr.txt"));
      assertTrue(log.contains("backend " + t.backends.get(0).name() + " is up"),
          "READY=1 comes after the node is up: " + log);

      Process hup = new ProcessBuilder("kill", "-HUP", String.valueOf(p.pid())).start();
      assertTrue(hup.waitFor(10, TimeUnit.SECONDS));
      assertEquals(0, hup.exitValue());
      assertTrue(systemd.await("RELOADING=1", WAIT).contains("MONOTONIC_USEC="));
      assertTrue(systemd.await("READY=1", WAIT).contains("STATUS=reloaded"));

      p.toHandle().destroy(); // SIGTERM
      systemd.await("STOPPING=1", WAIT);
      assertTrue(p.waitFor(30, TimeUnit.SECONDS), "the gateway exits after its drain");
    }
  }
}
