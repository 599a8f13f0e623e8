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
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * Measures, in one run on one machine, calls from several clients to real erl nodes: erl over
 * plain distribution (rpc:call, the anchor), erl over OTP's TLS distribution (TLS 1.3, mutual,
 * the anchor of the gateway's goals), JInterface (OTP's Java library, through rex), beamgate's
 * node (Rpc.call and RpcClient.callAsync, through erpc) and, when it exists, the gateway path.
 * Sequential and 64 concurrent callers; payloads of 100 B, 64 KiB and 1 MiB sent and returned
 * (erlang:element(1, {Payload})). Then the fairness check, full mTLS handshakes per second under
 * 8 concurrent openssl s_time clients (HAProxy, s_server and the gateway's listener) and memory
 * per idle gateway connection. Writes a Markdown report with tables, SVG charts and the ratios.
 */
public final class Harness {
  static final String COOKIE = "beamgate_bench";
  static int[] sizes = {100, 64 * 1024, 1024 * 1024};
  static int[] CONCURRENCY = {1, 64}; // --concurrency narrows it (profiles of one case)

  record Result(String client, int conc, int size, long calls, long elapsedUs, long p50Us,
      long p99Us, long memBytes, Map<String, Double> cpuUs, double idleUs,
      Map<String, Double> writesPerCall) {
    Result(String client, int conc, int size, long calls, long elapsedUs, long p50Us,
        long p99Us, long memBytes) {
      this(client, conc, size, calls, elapsedUs, p50Us, p99Us, memBytes, Map.of(), 0, Map.of());
    }

    /**
     * This result with each process's CPU-µs per call ({@link Cpu#ROLES} order) and the part
     * of their sum the processes burn idle anyway.
     */
    Result withCpu(Cpu.Window w, Map<String, Cpu.Sample> end) {
      return new Result(client, conc, size, calls, elapsedUs, p50Us, p99Us, memBytes,
          w.perCall(end, calls), w.idlePerCall(calls), w.writesPerCall(end, calls));
    }

    /** The CPU-µs per call of every process on the path together (NaN when not read). */
    double cpuTotal() {
      return cpuUs.isEmpty() ? Double.NaN : Cpu.total(cpuUs);
    }

    double rate() {
      return calls * 1e6 / elapsedUs;
    }

    double mbPerSec() {
      return rate() * size * 2 / 1e6;
    }
  }

  /** One way of calling erl, measured under every scenario it {@link #runs}. */
  interface Client {
    /** The name in the report. */
    String name();

    /** Whether this client is measured with {@code conc} callers. */
    default boolean runs(int conc) {
      return true;
    }

    /** Runs calls for {@code seconds} from {@code conc} callers; returns the latencies in us. */
    Result run(int conc, int size, int seconds) throws Exception;
  }

  /**
   * The processes on the path of the client being measured, by {@link Cpu} role: set by the
   * scenario loop before each run; the measuring methods read their CPU time at the measured
   * window's edges (an erl client adds its own process).
   */
  static volatile Map<String, Long> pathPids = Map.of();

  public static void main(String[] args) throws Exception {
    int seconds = 3;
    boolean contention = false;
    List<String> only = null; // the clients to measure (all when null)
    int idleConnections = 10_000;
    int rounds = 2;
    java.util.Set<String> parts = new java.util.LinkedHashSet<>(List.of("calls", "bridge",
        "fairness", "handshakes", "idle"));
    Path out = Path.of("docs/benchmarks.md");
    Path gatewayJar = Path.of("gateway/target/beamgate.jar");
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--seconds" -> seconds = Integer.parseInt(args[++i]);
        case "--out" -> out = Path.of(args[++i]);
        case "--idle-connections" -> idleConnections = Integer.parseInt(args[++i]);
        case "--gateway-jar" -> gatewayJar = Path.of(args[++i]);
        case "--rounds" -> rounds = Integer.parseInt(args[++i]);
        case "--warmup-seconds" -> warmUpSeconds = Integer.parseInt(args[++i]);
        case "--only" -> parts = new java.util.LinkedHashSet<>(List.of(args[++i].split(",")));
        case "--contention" -> contention = true;
        case "--concurrency" -> CONCURRENCY = java.util.Arrays.stream(args[++i].split(","))
            .mapToInt(Integer::parseInt).toArray();
        case "--clients" -> only = List.of(args[++i].split(","));
        case "--sizes" -> sizes = java.util.Arrays.stream(args[++i].split(","))
            .mapToInt(Integer::parseInt).toArray();
        case "--profile" -> {
          Profiler.mode = args[++i];
          if (!Profiler.mode.equals("cpu") && !Profiler.mode.equals("wall")) {
            throw new IllegalArgumentException("--profile: " + Profiler.mode
                + " (expected: cpu or wall)");
          }
          Profiler.outDir = Path.of("bench/target/profiles").toAbsolutePath();
        }
        default -> throw new IllegalArgumentException("unknown option " + args[i]
            + " (expected --seconds N, --out FILE, --idle-connections N, --contention,"
            + " --profile cpu|wall, --sizes 100,65536,1048576, --clients erl-tls,gateway,"
            + " --rounds N, --warmup-seconds N, --only calls,bridge,fairness,handshakes,idle,scale,"
            + " --gateway-jar JAR)");
      }
    }
    // The scale scenario (several gateway processes, failover) runs on its own, with its own
    // backends: only when asked (--only scale), as it takes about two minutes.
    String scaleSection = null;
    if (parts.remove("scale")) {
      String missing = GatewayPath.unavailable(gatewayJar);
      if (missing != null) {
        throw new IllegalStateException("--only scale: " + missing);
      }
      scaleSection = ScaleReport.section(ScaleRun.run(gatewayJar, seconds, rounds));
      System.out.println(scaleSection);
      if (parts.isEmpty()) {
        ScaleReport.write(out, scaleSection);
        return;
      }
    }
    long pid = ProcessHandle.current().pid();
    String loadAtStart = loadAverage();
    Path tmp = Files.createTempDirectory("beamgate-bench");
    List<AutoCloseable> toClose = new ArrayList<>();
    try (EpmdServer epmd = EpmdServer.start(EpmdServer.Config.loopback(0))) {
      compileErlClient(tmp);
      BenchPki pki = BenchPki.create(tmp.resolve("pki"));
      Path tlsOpt = TlsDist.optfile(tmp.resolve("tls-dist.conf"), pki, TlsDist.ClientKind.VALID);
      String host = io.beamgate.node.NodeName.shortHostName();
      String srvName = "bgb_srv_" + pid;
      String tlsName = "bgb_tls_" + pid;
      Process srv = erl(epmd.port(), tmp, "-sname", srvName, "-noshell", "-eval",
          "register(bg_sink, spawn(fun Loop() -> receive _ -> Loop() end end)).");
      toClose.add(() -> kill(srv));
      List<String> tlsSrvArgs = new ArrayList<>(TlsDist.erlArgs(tlsOpt));
      tlsSrvArgs.addAll(List.of("-sname", tlsName, "-noshell"));
      Process tlsSrv = erl(epmd.port(), tmp, tlsSrvArgs.toArray(String[]::new));
      toClose.add(() -> kill(tlsSrv));
      String server = srvName + "@" + host;
      String tlsServer = tlsName + "@" + host;
      awaitRegistered(epmd.port(), srvName);
      awaitRegistered(epmd.port(), tlsName);
      List<TlsDist.Check> tlsChecks = TlsDist.checks(epmd.port(), tmp, pki, tlsServer,
          "bgb_chk_" + pid + "_");
      tlsChecks.forEach(c -> System.out.println("tls-dist check: " + c.client() + " -> "
          + c.got()));
      OtpEpmd.useEpmdPort(epmd.port());

      List<Client> clients = new ArrayList<>(List.of(
          new ErlClient("erl", epmd.port(), tmp, server, "tcp", List.of(), "bgb_erl_" + pid),
          new ErlClient("erl-tls", epmd.port(), tmp, tlsServer, "tls", TlsDist.erlArgs(tlsOpt),
              "bgb_erltls_" + pid),
          new JInterfaceClient(server, "bgb_ji_" + pid),
          new NodeClient(server, epmd.port(), "bgb_node_" + pid),
          new NodeAsyncClient(server, epmd.port(), "bgb_async_" + pid)));
      long self = ProcessHandle.current().pid();
      Map<String, Map<String, Long>> paths = new LinkedHashMap<>();
      paths.put("erl", Map.of(Cpu.ERL_SERVER, srv.pid()));
      paths.put("erl-tls", Map.of(Cpu.ERL_SERVER, tlsSrv.pid()));
      for (String n : List.of("jinterface", "node", "node-async")) {
        // the Java clients run in this JVM: its whole CPU time (JIT, GC, the embedded EPMD,
        // idle during calls, and the latency bookkeeping included) is the client's
        paths.put(n, Map.of(Cpu.CLIENT_JVM, self, Cpu.ERL_SERVER, srv.pid()));
      }
      String gatewayMissing = GatewayPath.unavailable(gatewayJar);
      String gatewayCallsMissing = gatewayMissing;
      GatewayPath gateway = null;
      if (gatewayMissing == null) {
        gateway = GatewayPath.start(new GatewayPath.Backend(server, epmd.port(), COOKIE), pki,
            tmp.resolve("gateway"), gatewayJar, "bgb_gw_" + pid + "@" + host);
        toClose.add(gateway);
        System.out.println("gateway listening on port " + gateway.listener().port()
            + ", TLS provider: " + gateway.tlsProvider());
        clients.add(gateway.client());
        paths.put("gateway", Map.of(Cpu.CLIENT_JVM, self, Cpu.GATEWAY_A, gateway.pid(),
            Cpu.ERL_SERVER, srv.pid()));
        // The gRPC door of the same gateway (ALPN h2 on the same port).
        clients.add(new GrpcBenchClient(gateway.listener()));
        paths.put("gateway-grpc", Map.of(Cpu.CLIENT_JVM, self, Cpu.GATEWAY_A, gateway.pid(),
            Cpu.ERL_SERVER, srv.pid()));
        if (parts.contains("bridge")) {
          BridgePath bridge = BridgePath.start(epmd.port(), pki, tmp.resolve("bridge"),
              gatewayJar, gateway.listener().port(), host, pid);
          toClose.add(bridge);
          System.out.println("bridge up: " + bridge.exposedNode() + " stands for the gateway's"
              + " cluster");
          clients.add(bridge.client(tmp, epmd.port(), pid));
          paths.put("bridge", Map.of(Cpu.GATEWAY_B, bridge.pid(), Cpu.GATEWAY_A,
              gateway.pid(), Cpu.ERL_SERVER, srv.pid()));
        }
      }
      if (!parts.contains("calls") && parts.contains("bridge")) {
        parts.add("calls"); // the bridge is measured in the call scenarios
        clients.removeIf(c -> !c.name().equals("erl-tls") && !c.name().equals("bridge"));
      }
      if (only != null) {
        List<String> keep = only;
        clients.removeIf(c -> !keep.contains(c.name()));
      }
      if (gatewayCallsMissing != null) {
        System.out.println("calls through the gateway not measured: " + gatewayCallsMissing);
      }

      if (parts.contains("calls")) {
        warmUpNote = warmUp(clients, paths);
      }
      List<Result> results = parts.contains("calls")
          ? calls(clients, paths, rounds, seconds) : List.of();
      List<Result> contended = List.of();
      if (contention && parts.contains("calls")) {
        try (CpuHog hog = CpuHog.start(Runtime.getRuntime().availableProcessors())) {
          System.out.println("contention: " + hog);
          contended = calls(clients, paths, rounds, seconds);
        }
      }
      Fairness fairness = null;
      if (parts.contains("fairness")) {
        fairness = fairness(server, epmd.port(), "bgb_fair_" + pid, seconds);
        System.out.println(fairness);
      }

      List<Handshakes.Result> handshakes = parts.contains("handshakes")
          ? HandshakeScenario.run(pki, tmp, gateway, rounds, seconds) : List.of();

      IdleConnections.Result idle = null;
      if (gateway != null && parts.contains("idle")) {
        long fds = maxOpenFiles();
        if (fds < idleConnections + 1000L) {
          int was = idleConnections;
          idleConnections = (int) Math.max(100, fds - 1000);
          System.out.println("open-file limit " + fds + ": " + idleConnections
              + " idle connections instead of " + was);
        }
        idle = IdleConnections.measure(gateway.listener(), gateway.pid(), idleConnections);
        System.out.printf(Locale.ROOT, "idle connections: %d, %.1f KiB RSS and %.1f KiB heap"
            + " each%n", idle.connections(), idle.rssPerConnection() / 1024,
            idle.heapPerConnection() / 1024);
      }

      Report.Run run = new Report.Run(results, seconds, rounds, fairness, tlsChecks, handshakes, idle,
          idleConnections, gatewayMissing, gatewayCallsMissing, contended,
          gateway == null ? null : gateway.tlsProvider(), loadAtStart, loadAverage());
      String report = Report.markdown(run);
      String scale = scaleSection != null ? scaleSection : ScaleReport.existing(out);
      // The microbenchmarks' section is written by bench/run.sh --jmh alone: kept as it is.
      String jmh = ReportSections.existing(out, JmhReport.HEADING);
      Files.createDirectories(out.toAbsolutePath().getParent());
      String doc = scale == null ? report : ScaleReport.splice(report, scale);
      Files.writeString(out, jmh == null ? doc
          : ReportSections.splice(doc, JmhReport.HEADING, jmh));
      Files.writeString(out.resolveSibling("benchmarks.svg"), Report.svg(results, "erl",
          "Throughput relative to erl -> erl over plain distribution (higher is better)"));
      Files.writeString(out.resolveSibling("benchmarks-tls.svg"), Report.svg(results,
          "erl-tls", "Throughput relative to erl -> erl over TLS distribution (higher is"
          + " better)"));
      Files.writeString(out.resolveSibling("benchmarks-goals.svg"), Report.goalsSvg(run));
      String[] lines = report.strip().split("\n");
      System.out.println(lines[lines.length - 1]);
    } finally {
      for (int i = toClose.size() - 1; i >= 0; i--) {
        try {
          toClose.get(i).close();
        } catch (Exception e) {
          System.err.println("cleanup: " + e);
        }
      }
      deleteTree(tmp);
    }
  }

  /** What the JIT warm-up did, for the report (null: none ran). */
  static volatile String warmUpNote;

  /** The longest the JIT warm-up may take (--warmup-seconds; 0: none). */
  static int warmUpSeconds = 90;

  /**
   * Brings every Java process on the call paths (the harness's JVM, which runs JInterface, the
   * node and the gateway's client; gateway A; gateway B) to the JIT's steady state before
   * anything is measured, as a gateway that has run for a while is: slices of calls by every
   * client but the erl ones (64 in flight with the smallest payload, then sequential with the
   * largest, 1 s each), until a whole slice makes the compiler threads of all those JVMs
   * together spend under 2 % of its length, or {@link #warmUpSeconds} have passed. Without it
   * the compilers took up to a core from the first rounds (the gateway's 64-in-flight rate
   * rose from 21 000 to 37 000 calls/s over four rounds of 4 s while its CPU per call stayed
   * at 19-22 µs).
   */
  static String warmUp(List<Client> clients, Map<String, Map<String, Long>> paths)
      throws Exception {
    if (warmUpSeconds <= 0) {
      return "none (--warmup-seconds 0)";
    }
    java.util.Set<Long> jvms = new java.util.TreeSet<>();
    jvms.add(ProcessHandle.current().pid());
    for (Map<String, Long> path : paths.values()) {
      for (String role : List.of(Cpu.GATEWAY_A, Cpu.GATEWAY_B)) {
        Long pid = path.get(role);
        if (pid != null) {
          jvms.add(pid);
        }
      }
    }
    int small = java.util.Arrays.stream(sizes).min().orElse(100);
    int large = java.util.Arrays.stream(sizes).max().orElse(100);
    long start = System.nanoTime();
    long deadline = start + TimeUnit.SECONDS.toNanos(warmUpSeconds);
    List<String> slices = new ArrayList<>();
    boolean quiet = false;
    while (!quiet && System.nanoTime() < deadline) {
      Map<Long, Cpu.Sample> before = new LinkedHashMap<>();
      for (long pid : jvms) {
        before.put(pid, Cpu.sample(pid));
      }
      long t0 = System.nanoTime();
      for (Client c : clients) {
        if (c.name().startsWith("erl")) {
          continue; // no JIT to warm
        }
        pathPids = paths.getOrDefault(c.name(), Map.of());
        if (c.runs(64)) {
          c.run(64, small, 1);
        }
        c.run(1, large, 1);
      }
      long wall = System.nanoTime() - t0;
      long jit = 0;
      for (long pid : jvms) {
        jit += Cpu.jitNs(before.get(pid), Cpu.sample(pid));
      }
      slices.add(String.format(Locale.ROOT, "%.0f ms", jit / 1e6));
      quiet = jit < wall / 50;
      System.out.printf(Locale.ROOT, "JIT warm-up: slice %d, %.1f s, JIT %.0f ms%n",
          slices.size(), wall / 1e9, jit / 1e6);
    }
    pathPids = Map.of();
    return String.format(Locale.ROOT, "%.0f s in %d slices (JIT CPU per slice: %s), %s",
        (System.nanoTime() - start) / 1e9, slices.size(), String.join(", ", slices),
        quiet ? "until a slice's JIT was under 2 % of it"
            : "stopped at the limit with the JIT still working");
  }

  /**
   * Every call scenario (sizes by concurrency), each client once per round, rounds one after
   * the other; each client's best round is kept (noise from elsewhere on the machine only ever
   * slows a round down). Each result carries its path's CPU-µs per call per process.
   */
  static List<Result> calls(List<Client> clients, Map<String, Map<String, Long>> paths,
      int rounds, int seconds) throws Exception {
    List<Result> results = new ArrayList<>();
    for (int size : sizes) {
      for (int conc : CONCURRENCY) {
        Map<String, Result> best = new LinkedHashMap<>();
        for (int round = 0; round < rounds; round++) {
          for (Client c : clients) {
            if (!c.runs(conc)) {
              continue;
            }
            pathPids = paths.getOrDefault(c.name(), Map.of());
            Result r = c.run(conc, size, seconds);
            best.merge(c.name(), r, (a, b) -> b.rate() > a.rate() ? b : a);
            System.out.printf(Locale.ROOT, "%-14s conc=%-3d size=%-8d %10.0f calls/s"
                + "  p50=%6d us  p99=%7d us  cpu/call=%s%n", r.client(), r.conc(), r.size(),
                r.rate(), r.p50Us(), r.p99Us(), CpuReport.describe(r));
          }
        }
        results.addAll(best.values());
      }
    }
    pathPids = Map.of();
    return results;
  }

  /** This process's open-file limit (the JVM raises its soft limit to the hard one). */
  static long maxOpenFiles() {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/self/limits"))) {
        if (line.startsWith("Max open files")) {
          String v = line.substring("Max open files".length()).trim().split("\\s+")[0];
          return v.equals("unlimited") ? Long.MAX_VALUE : Long.parseLong(v);
        }
      }
    } catch (IOException | RuntimeException e) {
      // unknown: try anyway
    }
    return Long.MAX_VALUE;
  }

  /** The 1-, 5- and 15-minute load averages (the machine may be shared). */
  static String loadAverage() {
    try {
      String[] f = Files.readString(Path.of("/proc/loadavg")).trim().split("\\s+");
      return f[0] + " " + f[1] + " " + f[2];
    } catch (IOException | RuntimeException e) {
      return "?";
    }
  }

  /** Removes the run's directory (its keys and certificates are good for this run only). */
  static void deleteTree(Path dir) {
    try (java.util.stream.Stream<Path> s = Files.walk(dir)) {
      s.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException e) {
      System.err.println("cannot remove " + dir + ": " + e);
    }
  }

  /** Kills {@code p} (its PID; erl execs into beam, so that is the VM) and waits for it. */
  static void kill(Process p) {
    p.destroyForcibly();
    try {
      p.waitFor(10, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** Everything {@code p} prints (stdout), waiting at most {@code seconds}; kills it after. */
  static String output(Process p, long seconds) throws Exception {
    java.util.concurrent.CompletableFuture<String> text =
        java.util.concurrent.CompletableFuture.supplyAsync(() -> {
          try (InputStream in = p.getInputStream()) {
            return new String(in.readAllBytes());
          } catch (IOException e) {
            return "";
          }
        });
    if (!p.waitFor(seconds, TimeUnit.SECONDS)) {
      kill(p);
      throw new IOException("process " + p.pid() + " did not finish in " + seconds + " s: "
          + p.info().commandLine().orElse("?"));
    }
    return text.get(10, TimeUnit.SECONDS);
  }

  /** Small calls timed alone, then while another mailbox sends 100 MB messages alongside. */
  record Fairness(Result alone, Result withBulk, double bulkMbPerSec) {}

  static Fairness fairness(String server, int epmdPort, String name, int seconds)
      throws Exception {
    try (LocalNode node = LocalNode.startClient(NodeConfig.builder(name).cookie(COOKIE)
        .epmdPort(epmdPort).build())) {
      List<Term> args = List.of(Int.of(1), Tuple.of(Binary.wrap(new byte[100])));
      Duration t = Duration.ofSeconds(30);
      Result alone = measure("node", 1, 100, seconds,
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
      Result withBulk = measure("node", 1, 100, seconds,
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
    return erlWithCookie(epmdPort, codeDir, COOKIE, args);
  }

  static Process erlWithCookie(int epmdPort, Path codeDir, String cookie, String... args)
      throws IOException {
    List<String> cmd = new ArrayList<>(List.of("erl", "-setcookie", cookie, "-start_epmd",
        "false", "-pa", codeDir.toString()));
    cmd.addAll(Arrays.asList(args));
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
    pb.environment().put("ERL_EPMD_PORT", Integer.toString(epmdPort));
    return pb.start();
  }

  static void awaitRegistered(int epmdPort, String alive) throws Exception {
    EpmdClient c = new EpmdClient("127.0.0.1", epmdPort, Duration.ofSeconds(5));
    // a minute: on a loaded machine an erl node (or the EPMD answering) can take that long
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    Exception last = null;
    while (System.nanoTime() < deadline) {
      try {
        if (c.portPlease(alive).isPresent()) {
          return;
        }
      } catch (Exception e) {
        last = e; // a slow answer: ask again
      }
      Thread.sleep(50);
    }
    throw new IOException(alive + " never registered with epmd (in 60 s)"
        + (last == null ? "" : ": " + last.getMessage()));
  }


  /** Runs {@code call} from {@code conc} threads for {@code seconds}, after a warm-up. */
  static Result measure(String client, int conc, int size, int seconds,
      Supplier<ThrowingRunnable> perThread) throws Exception {
    ThrowingRunnable warm = perThread.get();
    long warmEnd = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(500);
    while (System.nanoTime() < warmEnd) {
      warm.run();
    }
    Map<String, Long> pids = pathPids;
    Cpu.Window cpu0 = Cpu.Window.open(pids);
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
    Map<String, Cpu.Sample> cpu1 = cpu0.end();
    if (failure[0] != null) {
      throw failure[0];
    }
    Result r = result(client, conc, size, lat, counts, elapsedUs);
    return r.withCpu(cpu0, cpu1);
  }

  /**
   * Keeps {@code conc} calls in flight for {@code seconds} without a thread each: every
   * completion checks its value and starts the next call of its chain. Warm up first.
   */
  static <T> Result measureAsync(String client, int conc, int size, int seconds,
      Supplier<java.util.concurrent.CompletableFuture<T>> call,
      java.util.function.Consumer<T> check) throws Exception {
    Map<String, Long> pids = pathPids;
    Cpu.Window cpu0 = Cpu.Window.open(pids);
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
          call.get().whenComplete((v, e) -> {
            try {
              if (e != null) {
                throw e;
              }
              check.accept(v);
            } catch (Throwable x) {
              failure[0] = x;
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
    Map<String, Cpu.Sample> cpu1 = cpu0.end();
    if (failure[0] != null) {
      throw new IllegalStateException(client + ": a call failed", failure[0]);
    }
    Result r = result(client, conc, size, lat, counts, elapsedUs);
    return r.withCpu(cpu0, cpu1);
  }

  /** The benchmarked call returns its payload: a binary of {@code size} bytes. */
  static void check(Term r, int size) {
    if (!(r instanceof Binary b) || b.size() != size) {
      throw new IllegalStateException("unexpected result " + r);
    }
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

  /** beamgate's node, through Rpc.call (erpc), a thread per caller. */
  static final class NodeClient implements Client {
    private final String server;
    private final int epmdPort;
    private final String name;
    private int n;

    NodeClient(String server, int epmdPort, String name) {
      this.server = server;
      this.epmdPort = epmdPort;
      this.name = name;
    }

    @Override
    public String name() {
      return "node";
    }

    @Override
    public Result run(int conc, int size, int seconds) throws Exception {
      try (LocalNode node = LocalNode.startClient(NodeConfig.builder(name + "_" + n++)
          .cookie(COOKIE)
          .epmdPort(epmdPort).build())) {
        byte[] payload = new byte[size];
        Arrays.fill(payload, (byte) 'x');
        List<Term> args = List.of(Int.of(1), Tuple.of(Binary.wrap(payload)));
        Duration t = Duration.ofSeconds(30);
        return measure("node", conc, size, seconds, () -> () -> {
          check(Rpc.call(node, server, "erlang", "element", args, t), size);
        });
      }
    }
  }

  /** beamgate's asynchronous client: {@code conc} calls kept in flight, no thread per call. */
  static final class NodeAsyncClient implements Client {
    private final String server;
    private final int epmdPort;
    private final String name;
    private int n;

    NodeAsyncClient(String server, int epmdPort, String name) {
      this.server = server;
      this.epmdPort = epmdPort;
      this.name = name;
    }

    @Override
    public String name() {
      return "node-async";
    }

    @Override
    public boolean runs(int conc) {
      return conc > 1;
    }

    @Override
    public Result run(int conc, int size, int seconds) throws Exception {
      try (LocalNode node = LocalNode.startClient(NodeConfig.builder(name + "_" + n++)
          .cookie(COOKIE)
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
        return measureAsync("node-async", conc, size, seconds,
            () -> rpc.callAsync(server, "erlang", "element", args, t), v -> check(v, size));
      }
    }
  }

  /** OTP's JInterface, through rex, one mailbox per caller. */
  static final class JInterfaceClient implements Client {
    private final String server;
    private final String name;
    private int n;

    JInterfaceClient(String server, String name) {
      this.server = server;
      this.name = name;
    }

    @Override
    public String name() {
      return "jinterface";
    }

    @Override
    public Result run(int conc, int size, int seconds) throws Exception {
      OtpNode node = new OtpNode(name + "_" + n++, COOKIE);
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
