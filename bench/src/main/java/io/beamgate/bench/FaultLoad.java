package io.beamgate.bench;

import io.beamgate.client.BeamgateClient;
import io.beamgate.client.ClientConfig;
import io.beamgate.client.GatewayException;
import io.beamgate.node.term.Int;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicLong;

/**
 * One Java client of the fault run: calls {@code fr_backend:run(Id, 5)} at a steady rate, each
 * with a unique id, a bounded number in flight, and records how each call ended (ok, or the
 * client's error code) and in which phase it started. Calls still pending at the end hung.
 */
final class FaultLoad implements AutoCloseable {
  /** How one call ended, and in which phase it started. */
  record Outcome(String phase, String result, long micros, long doneNanos) {}

  static final Duration CALL_TIMEOUT = Duration.ofSeconds(5);

  private final BeamgateClient client;
  private final AtomicLong ids;
  private final int perSecond;
  private final Semaphore slots = new Semaphore(32);
  final Map<Long, Outcome> outcomes = new ConcurrentHashMap<>();
  final Map<Long, Long> pending = new ConcurrentHashMap<>();
  /** The first error message seen per phase and code, as examples for the report. */
  final Map<String, String> firstMessage = new ConcurrentHashMap<>();
  private final Map<Long, String> phaseOf = new ConcurrentHashMap<>();
  private volatile String phase = "warm-up";
  private volatile boolean running = true;
  private final Thread driver;
  final String name;

  FaultLoad(String name, int port, Path cert, Path key, Path ca, AtomicLong ids, int perSecond)
      throws GatewayException {
    this.name = name;
    this.ids = ids;
    this.perSecond = perSecond;
    ClientConfig cfg = ClientConfig.builder().host("localhost").port(port).tls(cert, key, ca)
        .callTimeout(CALL_TIMEOUT).maxInFlight(64)
        .keepalive(Duration.ofSeconds(1), Duration.ofSeconds(3))
        .reconnectBackoff(Duration.ofMillis(100), Duration.ofSeconds(1)).build();
    this.client = BeamgateClient.connect(cfg);
    driver = new Thread(this::drive, "load-" + name);
    driver.setDaemon(true);
    driver.start();
  }

  void phase(String p) {
    phase = p;
  }

  private void drive() {
    long intervalNanos = 1_000_000_000L / perSecond;
    long next = System.nanoTime();
    while (running) {
      try {
        long wait = next - System.nanoTime();
        if (wait > 0) {
          Thread.sleep(wait / 1_000_000, (int) (wait % 1_000_000));
        }
        next += intervalNanos;
        if (next < System.nanoTime() - 1_000_000_000L) {
          next = System.nanoTime(); // do not burst after a stall
        }
        slots.acquire();
      } catch (InterruptedException e) {
        return;
      }
      long id = ids.incrementAndGet();
      String p = phase;
      long start = System.nanoTime();
      pending.put(id, start);
      phaseOf.put(id, p);
      client.call("fr_backend", "run", List.of(Int.of(id), Int.of(5)), CALL_TIMEOUT)
          .whenComplete((v, e) -> {
            String result;
            if (e == null) {
              result = "ok";
            } else {
              Throwable c = e instanceof CompletionException && e.getCause() != null
                  ? e.getCause() : e;
              result = c instanceof GatewayException g ? g.code().name()
                  : c.getClass().getSimpleName();
              firstMessage.putIfAbsent(p + " " + result, String.valueOf(c.getMessage()));
            }
            long done = System.nanoTime();
            outcomes.put(id, new Outcome(p, result, (done - start) / 1000, done));
            pending.remove(id);
            slots.release();
          });
    }
  }

  /** The longest any call still pending has waited, in ms. */
  long oldestPendingMs() {
    long now = System.nanoTime();
    return pending.values().stream().mapToLong(s -> (now - s) / 1_000_000).max().orElse(0);
  }

  /** Stops starting calls and waits up to {@code d} for those in flight. */
  void stop(Duration d) throws InterruptedException {
    running = false;
    driver.interrupt();
    driver.join(2000);
    long end = System.nanoTime() + d.toNanos();
    while (!pending.isEmpty() && System.nanoTime() < end) {
      Thread.sleep(100);
    }
  }

  String phaseOf(long id) {
    return phaseOf.getOrDefault(id, "?");
  }

  @Override
  public void close() {
    client.close();
  }
}
