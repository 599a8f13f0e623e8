package io.beamgate.bench;

import com.ericsson.otp.erlang.OtpEpmd;
import com.ericsson.otp.erlang.OtpErlangAtom;
import com.ericsson.otp.erlang.OtpErlangBinary;
import com.ericsson.otp.erlang.OtpErlangInt;
import com.ericsson.otp.erlang.OtpErlangList;
import com.ericsson.otp.erlang.OtpErlangObject;
import com.ericsson.otp.erlang.OtpErlangRef;
import com.ericsson.otp.erlang.OtpErlangTuple;
import com.ericsson.otp.erlang.OtpMbox;
import com.ericsson.otp.erlang.OtpNode;
import io.beamgate.node.LocalNode;
import io.beamgate.node.NodeConfig;
import io.beamgate.node.epmd.EpmdClient;
import io.beamgate.node.epmd.EpmdServer;
import io.beamgate.node.rpc.Rpc;
import io.beamgate.node.term.Binary;
import io.beamgate.node.term.Int;
import io.beamgate.node.term.Term;
import io.beamgate.node.term.Tuple;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Measures, in one run on one machine, calls from three clients to the same real erl node:
 * erl (rpc:call, the anchor), JInterface (OTP's Java library, through rex) and beamgate's node
 * (Rpc.call, through erpc). Sequential and 64 concurrent callers; payloads of 100 B, 64 KiB and
 * 1 MiB sent and returned (erlang:element(1, {Payload})). Writes a Markdown report with a table,
 * an SVG chart and, last, the ratios.
 */
public final class Harness {
  static final String COOKIE = "beamgate_bench";
  static final int[] SIZES = {100, 64 * 1024, 1024 * 1024};
  static final int[] CONCURRENCY = {1, 64};

  record Result(String client, int conc, int size, long calls, long elapsedUs, long p50Us,
      long p99Us, long memBytes) {
    double rate() {
      return calls * 1e6 / elapsedUs;
    }

    double mbPerSec() {
      return rate() * size * 2 / 1e6;
    }
  }

  interface Client {
    /** Runs calls for {@code seconds} from {@code conc} callers; returns the latencies in us. */
    Result run(int conc, int size, int seconds) throws Exception;
  }

  public static void main(String[] args) throws Exception {
    int seconds = 3;
    Path out = Path.of("docs/benchmarks.md");
    for (int i = 0; i < args.length; i++) {
      if (args[i].equals("--seconds")) {
        seconds = Integer.parseInt(args[++i]);
      } else if (args[i].equals("--out")) {
        out = Path.of(args[++i]);
      }
    }
    long pid = ProcessHandle.current().pid();
    Path tmp = Files.createTempDirectory("beamgate-bench");
    try (EpmdServer epmd = EpmdServer.start(EpmdServer.Config.loopback(0))) {
      compileErlClient(tmp);
      String srvName = "bgb_srv_" + pid;
      Process srv = erl(epmd.port(), tmp, "-sname", srvName, "-noshell", "-eval",
          "register(bg_sink, spawn(fun Loop() -> receive _ -> Loop() end end)).");
      try {
        String server = srvName + "@" + io.beamgate.node.NodeName.shortHostName();
        awaitRegistered(epmd.port(), srvName);
        OtpEpmd.useEpmdPort(epmd.port());
        List<Result> results = new ArrayList<>();
        int n = 0;
        for (int size : SIZES) {
          for (int conc : CONCURRENCY) {
            int sec = seconds;
            results.add(runErl(epmd.port(), tmp, server, conc, size, sec, "bgb_erl_" + pid + "_"
                + n++));
            results.add(new JInterfaceClient(server, "bgb_ji_" + pid + "_" + n++)
                .run(conc, size, sec));
            results.add(new BeamgateClient(server, epmd.port(), "bgb_node_" + pid + "_" + n++)
                .run(conc, size, sec));
            int rows = 3;
            if (conc > 1) {
              results.add(new BeamgateAsyncClient(server, epmd.port(), "bgb_async_" + pid + "_"
                  + n++).run(conc, size, sec));
              rows = 4;
            }
            Result[] last = results.subList(results.size() - rows, results.size())
                .toArray(Result[]::new);
            for (Result r : last) {
              System.out.printf(Locale.ROOT, "%-10s conc=%-3d size=%-8d %10.0f calls/s  p50=%6d us"
                  + "  p99=%7d us%n", r.client(), r.conc(), r.size(), r.rate(), r.p50Us(),
                  r.p99Us());
            }
          }
        }
        Fairness fairness = fairness(server, epmd.port(), "bgb_fair_" + pid, seconds);
        System.out.println(fairness);
        String report = Report.markdown(results, seconds, fairness);
        Files.createDirectories(out.toAbsolutePath().getParent());
        Files.writeString(out, report);
        Files.writeString(out.resolveSibling("benchmarks.svg"), Report.svg(results));
        String[] lines = report.strip().split("\n");
        System.out.println(lines[lines.length - 1]);
      } finally {
        srv.destroyForcibly();
        srv.waitFor(10, TimeUnit.SECONDS);
      }
    }
  }

  /** Small calls timed alone, then while another mailbox sends 100 MB messages alongside. */
  record Fairness(Result alone, Result withBulk, double bulkMbPerSec) {}

  static Fairness fairness(String server, int epmdPort, String name, int seconds)
      throws Exception {
    try (LocalNode node = LocalNode.startClient(NodeConfig.builder(name).cookie(COOKIE)
        .epmdPort(epmdPort).build())) {
      List<Term> args = List.of(Int.of(1), Tuple.of(Binary.wrap(new byte[100])));
      Duration t = Duration.ofSeconds(30);
      Result alone = measure("beamgate", 1, 100, seconds,
          () -> () -> Rpc.call(node, server, "erlang", "element", args, t));
      io.beamgate.node.Mailbox bulk = node.createMailbox();
      Binary hundredMb = Binary.wrap(new byte[100 << 20]);
      java.util.concurrent.atomic.AtomicBoolean stop = new java.util.concurrent.atomic.AtomicBoolean();
      java.util.concurrent.atomic.AtomicLong sent = new java.util.concurrent.atomic.AtomicLong();
      Thread bg = new Thread(() -> {
        while (!stop.get()) {
          bulk.send("bg_sink", server, hundredMb);
          sent.addAndGet(hundredMb.size());
        }
      });
      long t0 = System.nanoTime();
      bg.start();
      Thread.sleep(200);
      Result withBulk = measure("beamgate", 1, 100, seconds,
          () -> () -> Rpc.call(node, server, "erlang", "element", args, t));
      stop.set(true);
      bg.join();
      double mbps = sent.get() / 1e6 / ((System.nanoTime() - t0) / 1e9);
      return new Fairness(alone, withBulk, mbps);
    }
  }

  static void compileErlClient(Path dir) throws IOException, InterruptedException {
    Path src = Path.of("bench/erl/bench_client.erl");
    Process p = new ProcessBuilder("erlc", "-o", dir.toString(), src.toString()).inheritIO()
        .start();
    if (p.waitFor() != 0) {
      throw new IOException("erlc failed on " + src);
    }
  }

  static Process erl(int epmdPort, Path codeDir, String... args) throws IOException {
    List<String> cmd = new ArrayList<>(List.of("erl", "-setcookie", COOKIE, "-start_epmd",
        "false", "-pa", codeDir.toString()));
    cmd.addAll(Arrays.asList(args));
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
    pb.environment().put("ERL_EPMD_PORT", Integer.toString(epmdPort));
    return pb.start();
  }

  static void awaitRegistered(int epmdPort, String alive) throws Exception {
    EpmdClient c = new EpmdClient("127.0.0.1", epmdPort, Duration.ofSeconds(2));
    for (int i = 0; i < 200; i++) {
      if (c.portPlease(alive).isPresent()) {
        return;
      }
      Thread.sleep(50);
    }
    throw new IOException(alive + " never registered with epmd");
  }

  static Result runErl(int epmdPort, Path dir, String server, int conc, int size, int seconds,
      String name) throws Exception {
    Process p = erl(epmdPort, dir, "-sname", name, "-noshell", "-s", "bench_client", "run",
        server, Integer.toString(conc), Integer.toString(size),
        Integer.toString(seconds * 1000));
    String outText;
    try (InputStream in = p.getInputStream()) {
      outText = new String(in.readAllBytes());
    }
    p.waitFor(seconds + 60L, TimeUnit.SECONDS);
    Matcher m = Pattern.compile("RESULT calls=(\\d+) elapsed_us=(\\d+) p50_us=(\\d+)"
        + " p99_us=(\\d+) mem_bytes=(\\d+)").matcher(outText);
    if (!m.find()) {
      throw new IOException("erl client printed no result: " + outText);
    }
    return new Result("erl", conc, size, Long.parseLong(m.group(1)), Long.parseLong(m.group(2)),
        Long.parseLong(m.group(3)), Long.parseLong(m.group(4)), Long.parseLong(m.group(5)));
  }

  /** Runs {@code call} from {@code conc} threads for {@code seconds}, after a warm-up. */
  static Result measure(String client, int conc, int size, int seconds,
      Supplier<ThrowingRunnable> perThread) throws Exception {
    ThrowingRunnable warm = perThread.get();
    long warmEnd = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(500);
    while (System.nanoTime() < warmEnd) {
      warm.run();
    }
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
    long[][] lat = new long[conc][];
    int[] counts = new int[conc];
    Thread[] threads = new Thread[conc];
    Exception[] failure = new Exception[1];
    long t0 = System.nanoTime();
    for (int i = 0; i < conc; i++) {
      int k = i;
      ThrowingRunnable call = perThread.get();
      threads[i] = new Thread(() -> {
        long[] l = new long[1024];
        int c = 0;
        try {
          while (System.nanoTime() < end) {
            long s = System.nanoTime();
            call.run();
            if (c == l.length) {
              l = Arrays.copyOf(l, c * 2);
            }
            l[c++] = (System.nanoTime() - s) / 1000;
          }
        } catch (Exception e) {
          failure[0] = e;
        }
        lat[k] = l;
        counts[k] = c;
      });
      threads[i].start();
    }
    for (Thread t : threads) {
      t.join();
    }
    long elapsedUs = (System.nanoTime() - t0) / 1000;
    if (failure[0] != null) {
      throw failure[0];
    }
    return result(client, conc, size, lat, counts, elapsedUs);
  }

  /** Merges per-caller latencies into a Result with percentiles and the heap in use. */
  static Result result(String client, int conc, int size, long[][] lat, int[] counts,
      long elapsedUs) {
    int total = Arrays.stream(counts).sum();
    long[] all = new long[total];
    int at = 0;
    for (int i = 0; i < conc; i++) {
      System.arraycopy(lat[i], 0, all, at, counts[i]);
      at += counts[i];
    }
    Arrays.sort(all);
    System.gc();
    Runtime rt = Runtime.getRuntime();
    return new Result(client, conc, size, total, elapsedUs, pct(all, 50), pct(all, 99),
        rt.totalMemory() - rt.freeMemory());
  }

  static long pct(long[] sorted, int p) {
    if (sorted.length == 0) {
      return 0;
    }
    int i = (int) Math.min(sorted.length - 1, Math.max(0, (sorted.length * (long) p + 99) / 100
        - 1));
    return sorted[i];
  }

  interface ThrowingRunnable {
    void run() throws Exception;
  }

  /** beamgate's node, through Rpc.call (erpc). */
  static final class BeamgateClient implements Client {
    private final String server;
    private final int epmdPort;
    private final String name;

    BeamgateClient(String server, int epmdPort, String name) {
      this.server = server;
      this.epmdPort = epmdPort;
      this.name = name;
    }

    @Override
    public Result run(int conc, int size, int seconds) throws Exception {
      try (LocalNode node = LocalNode.startClient(NodeConfig.builder(name).cookie(COOKIE)
          .epmdPort(epmdPort).build())) {
        byte[] payload = new byte[size];
        Arrays.fill(payload, (byte) 'x');
        List<Term> args = List.of(Int.of(1), Tuple.of(Binary.wrap(payload)));
        Duration t = Duration.ofSeconds(30);
        return measure("beamgate", conc, size, seconds, () -> () -> {
          Term r = Rpc.call(node, server, "erlang", "element", args, t);
          if (!(r instanceof Binary b) || b.size() != size) {
            throw new IllegalStateException("unexpected result " + r);
          }
        });
      }
    }
  }

  /** beamgate's asynchronous client: {@code conc} calls kept in flight, no thread per call. */
  static final class BeamgateAsyncClient implements Client {
    private final String server;
    private final int epmdPort;
    private final String name;

    BeamgateAsyncClient(String server, int epmdPort, String name) {
      this.server = server;
      this.epmdPort = epmdPort;
      this.name = name;
    }

    @Override
    public Result run(int conc, int size, int seconds) throws Exception {
      try (LocalNode node = LocalNode.startClient(NodeConfig.builder(name).cookie(COOKIE)
          .epmdPort(epmdPort).build())) {
        byte[] payload = new byte[size];
        Arrays.fill(payload, (byte) 'x');
        List<Term> args = List.of(Int.of(1), Tuple.of(Binary.wrap(payload)));
        Duration t = Duration.ofSeconds(30);
        io.beamgate.node.rpc.RpcClient rpc = node.rpc();
        Rpc.call(node, server, "erlang", "element", args, t); // connect and warm
        long warmEnd = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(500);
        while (System.nanoTime() < warmEnd) {
          Rpc.call(node, server, "erlang", "element", args, t);
        }
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        java.util.concurrent.CountDownLatch done = new java.util.concurrent.CountDownLatch(conc);
        long[][] lat = new long[conc][];
        int[] counts = new int[conc];
        Throwable[] failure = new Throwable[1];
        long t0 = System.nanoTime();
        for (int i = 0; i < conc; i++) {
          int k = i;
          lat[k] = new long[1024];
          new Object() {
            void next() {
              long s = System.nanoTime();
              rpc.callAsync(server, "erlang", "element", args, t).whenComplete((v, e) -> {
                if (e != null) {
                  failure[0] = e;
                  done.countDown();
                  return;
                }
                if (counts[k] == lat[k].length) {
                  lat[k] = Arrays.copyOf(lat[k], counts[k] * 2);
                }
                lat[k][counts[k]++] = (System.nanoTime() - s) / 1000;
                if (System.nanoTime() < end) {
                  next();
                } else {
                  done.countDown();
                }
              });
            }
          }.next();
        }
        done.await();
        long elapsedUs = (System.nanoTime() - t0) / 1000;
        if (failure[0] != null) {
          throw new IllegalStateException(failure[0]);
        }
        return result("beamgate-async", conc, size, lat, counts, elapsedUs);
      }
    }
  }

  /** OTP's JInterface, through rex, one mailbox per caller. */
  static final class JInterfaceClient implements Client {
    private final String server;
    private final String name;

    JInterfaceClient(String server, String name) {
      this.server = server;
      this.name = name;
    }

    @Override
    public Result run(int conc, int size, int seconds) throws Exception {
      OtpNode node = new OtpNode(name, COOKIE);
      try {
        if (!node.ping(server, 5000)) {
          throw new IOException("JInterface cannot reach " + server);
        }
        byte[] payload = new byte[size];
        Arrays.fill(payload, (byte) 'x');
        OtpErlangObject[] callArgs = {new OtpErlangInt(1),
            new OtpErlangTuple(new OtpErlangBinary(payload))};
        return measure("jinterface", conc, size, seconds, () -> {
          OtpMbox mbox = node.createMbox();
          return () -> {
            OtpErlangRef ref = node.createRef();
            OtpErlangTuple req = new OtpErlangTuple(new OtpErlangObject[] {
                new OtpErlangAtom("call"), new OtpErlangAtom("erlang"),
                new OtpErlangAtom("element"), new OtpErlangList(callArgs), mbox.self()});
            mbox.send("rex", server, new OtpErlangTuple(new OtpErlangObject[] {
                new OtpErlangAtom("$gen_call"),
                new OtpErlangTuple(new OtpErlangObject[] {mbox.self(), ref}), req}));
            OtpErlangObject reply = mbox.receive(30_000);
            if (!(reply instanceof OtpErlangTuple rt) || !ref.equals(rt.elementAt(0))) {
              throw new IllegalStateException("unexpected reply " + reply);
            }
          };
        });
      } finally {
        node.close();
      }
    }
  }
}
