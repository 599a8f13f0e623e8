package io.beamgate.gateway.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** sd_notify datagrams, received on a socket the test binds itself. */
class SdNotifyTest {
  static final Duration WAIT = Duration.ofSeconds(5);

  @Test
  void readyReloadingAndStoppingArriveInOrder(@TempDir Path dir) throws Exception {
    try (NotifySocket s = new NotifySocket(dir.resolve("notify"), null);
        SdNotify n = SdNotify.to(s.address)) {
      assertTrue(n.enabled());
      n.ready("listening on 127.0.0.1:9443");
      assertEquals("READY=1\nSTATUS=listening on 127.0.0.1:9443", s.next(WAIT));
      n.reloading();
      String r = s.next(WAIT);
      assertTrue(r.startsWith("RELOADING=1\nMONOTONIC_USEC="), r);
      long usec = Long.parseLong(r.split("\n")[1].substring("MONOTONIC_USEC=".length()));
      assertTrue(Math.abs(usec - System.nanoTime() / 1000) < 10_000_000, "CLOCK_MONOTONIC");
      n.stopping();
      assertTrue(s.next(WAIT).startsWith("STOPPING=1\n"));
    }
  }

  @Test
  void anAbstractSocketNameWorksToo() throws Exception {
    String name = "beamgate-test-" + ProcessHandle.current().pid() + "-" + System.nanoTime();
    try (NotifySocket s = new NotifySocket(null, name); SdNotify n = SdNotify.to(s.address)) {
      n.ready("up");
      assertEquals("READY=1\nSTATUS=up", s.next(WAIT));
    }
  }

  @Test
  void withoutNotifySocketNothingIsSentAndNothingFails(@TempDir Path dir) throws Exception {
    assertFalse(SdNotify.to(null).enabled());
    assertFalse(SdNotify.to("").enabled());
    assertFalse(SdNotify.to("relative/path").enabled());
    assertFalse(SdNotify.to("/" + "x".repeat(SdNotify.MAX_PATH_BYTES)).enabled(),
        "past the sockaddr_un limit");
    assertTrue(SdNotify.to("/" + "x".repeat(SdNotify.MAX_PATH_BYTES - 1)).enabled(),
        "at the limit");
    // a socket nobody listens on: logged, not thrown
    try (SdNotify n = SdNotify.to(dir.resolve("nobody").toString())) {
      n.ready("x");
    }
    try (NotifySocket s = new NotifySocket(dir.resolve("quiet"), null)) {
      SdNotify.to(null).ready("x");
      assertNull(s.next(Duration.ofMillis(200)));
    }
  }
}
