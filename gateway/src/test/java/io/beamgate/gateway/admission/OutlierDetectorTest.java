package io.beamgate.gateway.admission;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.beamgate.gateway.admission.BackendPool.Backend;
import io.beamgate.gateway.admission.BackendPool.Outcome;
import io.beamgate.gateway.config.GatewayConfig;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Outlier detection without a network: counts, the ejection budget, probes, silence. */
class OutlierDetectorTest {
  final ScheduledExecutorService timer = Executors.newScheduledThreadPool(1);
  final List<Backend> backends = new ArrayList<>();
  final AtomicBoolean answers = new AtomicBoolean();
  final AtomicInteger probes = new AtomicInteger();
  OutlierDetector d;

  @AfterEach
  void stop() {
    if (d != null) {
      d.close();
    }
    timer.shutdownNow();
  }

  void start(int n, GatewayConfig.Outlier config) {
    for (int i = 0; i < n; i++) {
      Backend b = new Backend("b" + i + "@h");
      b.up = true;
      backends.add(b);
    }
    d = new OutlierDetector(backends, config, (node, timeout) -> {
      probes.incrementAndGet();
      return answers.get();
    }, timer);
  }

  void timeouts(Backend b, int n) {
    for (int i = 0; i < n; i++) {
      d.completed(b, Outcome.TIMEOUT);
    }
  }

  static void await(java.util.function.BooleanSupplier c, String what) throws Exception {
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
    while (!c.getAsBoolean()) {
      assertTrue(System.nanoTime() < end, what);
      Thread.sleep(5);
    }
  }

  @Test
  void consecutiveTimeoutsEjectAndAnAnswerResetsTheCount() {
    start(2, new GatewayConfig.Outlier(3, 0, 60_000, 50, 100));
    Backend b = backends.get(0);
    timeouts(b, 2);
    d.completed(b, Outcome.ANSWERED);
    timeouts(b, 2);
    d.completed(b, Outcome.LOST); // a lost connection is not the backend's silence
    assertFalse(b.ejected, "never 3 in a row");
    timeouts(b, 1);
    assertTrue(b.ejected, "3 in a row");
    assertFalse(b.inRotation());
  }

  @Test
  void auditWordsMapToOutcomes() {
    for (String w : List.of("ok", "badrpc", "exit", "throw", "error", "spawn_refused")) {
      assertEquals(Outcome.ANSWERED, Outcome.ofAudit(w), w);
    }
    assertEquals(Outcome.TIMEOUT, Outcome.ofAudit("timeout"));
    for (String w : List.of("nodedown", "abandoned", "cancelled", "unavailable", "x")) {
      assertEquals(Outcome.LOST, Outcome.ofAudit(w), w);
    }
  }

  @Test
  void atMostMaxEjectionPercentAndNeverTheLastInRotation() {
    start(4, new GatewayConfig.Outlier(1, 0, 60_000, 50, 100));
    for (Backend b : backends) {
      timeouts(b, 1);
    }
    assertEquals(2, backends.stream().filter(b -> b.ejected).count(), "50% of 4");

    backends.clear();
    start(2, new GatewayConfig.Outlier(1, 0, 60_000, 100, 100));
    timeouts(backends.get(0), 1);
    timeouts(backends.get(1), 1);
    assertTrue(backends.get(0).ejected);
    assertFalse(backends.get(1).ejected, "the last in rotation stays, even at 100%");

    backends.clear();
    start(2, new GatewayConfig.Outlier(1, 0, 60_000, 0, 100));
    timeouts(backends.get(0), 5);
    assertFalse(backends.get(0).ejected, "0% ejects none");
  }

  @Test
  void ejectedBackendIsProbedUntilItAnswers() throws Exception {
    start(2, new GatewayConfig.Outlier(1, 0, 50, 50, 100));
    Backend b = backends.get(0);
    timeouts(b, 1);
    assertTrue(b.ejected);
    await(() -> probes.get() >= 2, "probed again after a failed probe");
    assertTrue(b.ejected);
    answers.set(true);
    await(() -> !b.ejected, "back after a probe that answers");
    assertTrue(b.inRotation());
  }

  @Test
  void callsInFlightWithNoAnswerForMaxSilenceEject() throws Exception {
    start(2, new GatewayConfig.Outlier(0, 200, 60_000, 50, 100));
    Backend frozen = backends.get(0);
    Backend busy = backends.get(1);
    frozen.inFlight.set(3);
    busy.inFlight.set(3);
    long start = System.nanoTime();
    long end = start + TimeUnit.MILLISECONDS.toNanos(600);
    while (System.nanoTime() < end) {
      d.completed(busy, Outcome.ANSWERED); // answers keep coming from this one
      Thread.sleep(10);
    }
    assertTrue(frozen.ejected, "silent with calls in flight");
    assertFalse(busy.ejected, "answering");
    d.reset(frozen);
    frozen.inFlight.set(0);
    Thread.sleep(400);
    assertFalse(frozen.ejected, "nothing in flight: silence is fine");
  }
}
