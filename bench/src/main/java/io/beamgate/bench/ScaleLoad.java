package io.beamgate.bench;

import io.beamgate.client.BeamgateClient;
import io.beamgate.client.GatewayException;
import io.beamgate.node.term.Binary;
import io.beamgate.node.term.Int;
import io.beamgate.node.term.Term;
import io.beamgate.node.term.Tuple;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Calls kept in flight through {@link BeamgateClient}s, a fixed number of chains per stream
 * (each completion starts its chain's next call), until a deadline; every call is recorded
 * (key, start, end, outcome), and successes are counted in 10 ms bins so that the scale
 * scenario can see the throughput fall and recover around a gateway's loss. A failure does not
 * stop the load: it is recorded, and its chain goes on 1 ms later.
 */
final class ScaleLoad {
  /** What a stream calls: the benchmark's call, or scale_bench's counted ones. */
  enum Kind {
    /** {@code erlang:element(1, {Payload})}, as the harness's other gateway figures. */
    ELEMENT,
    /** {@code scale_bench:once(Key, Payload)}, a plain call (never retried after it is sent). */
    ONCE,
    /** {@code scale_bench:idem(Key, Payload)} with {@code callIdempotent}. */
    IDEM
  }

  /** {@code chains} calls of {@code kind} kept in flight through {@code client}. */
  record Stream(BeamgateClient client, Kind kind, int chains) {}

  /** One call: its key, when it started and ended (nanoTime), its failure code or null. */
  record Call(Kind kind, long key, long startNs, long endNs, GatewayException.Code failure) {
    long latencyUs() {
      return (endNs - startNs) / 1000;
    }
  }

  static final long BIN_NS = 10_000_000L;
  private static final AtomicLong KEYS = new AtomicLong();

  final long t0 = System.nanoTime();
  private final long endNs;
  private final AtomicIntegerArray bins;
  private final List<List<Call>> perChain = new ArrayList<>();
  private final CountDownLatch done;
  private final byte[] payload;
  private volatile Throwable unexpected;

  private ScaleLoad(List<Stream> streams, int size, long seconds) {
    this.endNs = t0 + TimeUnit.SECONDS.toNanos(seconds);
    this.bins = new AtomicIntegerArray((int) (TimeUnit.SECONDS.toNanos(seconds + 120) / BIN_NS));
    this.payload = new byte[size];
    Arrays.fill(payload, (byte) 'x');
    int total = streams.stream().mapToInt(Stream::chains).sum();
    this.done = new CountDownLatch(total);
    for (Stream s : streams) {
      for (int i = 0; i < s.chains(); i++) {
        List<Call> calls = new ArrayList<>();
        perChain.add(calls);
        next(s, calls);
      }
    }
  }

  /** Starts {@code streams} at once, for {@code seconds}, with payloads of {@code size} B. */
  static ScaleLoad start(List<Stream> streams, int size, long seconds) {
    return new ScaleLoad(streams, size, seconds);
  }

  private void next(Stream s, List<Call> calls) {
    long start = System.nanoTime();
    if (start >= endNs) {
      done.countDown();
      return;
    }
    long key = KEYS.incrementAndGet();
    Binary p = Binary.wrap(payload);
    CompletableFuture<Term> f = switch (s.kind()) {
      case ELEMENT -> s.client().call("erlang", "element", List.of(Int.of(1), Tuple.of(p)));
      case ONCE -> s.client().call("scale_bench", "once", List.of(Int.of(key), p));
      case IDEM -> s.client().callIdempotent("scale_bench", "idem", List.of(Int.of(key), p));
    };
    f.whenComplete((v, e) -> {
      long end = System.nanoTime();
      GatewayException.Code failure = null;
      if (e != null) {
        Throwable c = e instanceof CompletionException && e.getCause() != null
            ? e.getCause() : e;
        if (c instanceof GatewayException g) {
          failure = g.code();
        } else {
          unexpected = c;
          failure = GatewayException.Code.INTERNAL;
        }
      } else if (!(v instanceof Binary b) || b.size() != payload.length) {
        unexpected = new IllegalStateException("unexpected result " + v);
      } else {
        int bin = (int) ((end - t0) / BIN_NS);
        if (bin < bins.length()) {
          bins.incrementAndGet(bin);
        }
      }
      calls.add(new Call(s.kind(), key, start, end, failure));
      if (failure == null) {
        next(s, calls);
      } else {
        CompletableFuture.delayedExecutor(1, TimeUnit.MILLISECONDS).execute(() -> next(s, calls));
      }
    });
  }

  /** Waits for every chain's last call (at most {@code timeoutSeconds} past the deadline). */
  ScaleLoad await(long timeoutSeconds) throws InterruptedException {
    long left = endNs - System.nanoTime() + TimeUnit.SECONDS.toNanos(timeoutSeconds);
    if (!done.await(Math.max(0, left), TimeUnit.NANOSECONDS)) {
      throw new IllegalStateException("calls still in flight " + timeoutSeconds
          + " s after the load's end (expected: every call answered or failed)");
    }
    return this;
  }

  /** A result that was not the payload, or a failure that was not a GatewayException. */
  Throwable unexpected() {
    return unexpected;
  }

  /** Every call made, in no particular order (after {@link #await}). */
  List<Call> calls() {
    List<Call> all = new ArrayList<>();
    perChain.forEach(all::addAll);
    return all;
  }

  /** Successes that ended in {@code [fromNs, toNs)} (nanoTime, 10 ms resolution). */
  long successes(long fromNs, long toNs) {
    int a = (int) Math.max(0, (fromNs - t0) / BIN_NS);
    int b = (int) Math.min(bins.length(), (toNs - t0) / BIN_NS);
    long n = 0;
    for (int i = a; i < b; i++) {
      n += bins.get(i);
    }
    return n;
  }

  /**
   * The first instant at or after {@code fromNs} from which the next {@code windowNs} saw
   * successes at {@code rate} per second or more; -1 when none did before the load ended.
   */
  long recoveredAt(long fromNs, long windowNs, double rate) {
    double need = rate * windowNs / 1e9;
    for (long t = fromNs; t + windowNs <= endNs; t += BIN_NS) {
      if (successes(t, t + windowNs) >= need) {
        return t;
      }
    }
    return -1;
  }
}
