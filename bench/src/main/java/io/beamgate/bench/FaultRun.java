package io.beamgate.bench;

import io.beamgate.node.epmd.EpmdServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;

/**
 * The fault run of issue 16: real erl backends (2), gateway A in its own JVM, gateway B bridging
 * to it and Java clients, with faults injected one after the other under load, then checks: every
 * audit line is JSON, no id ran twice, every failed call is classified and none reported "not
 * executed" ran, the gateway's RSS, threads and descriptors before and after, no client hung.
 * Started by bench/faults.sh; prints its report on stdout.
 *   FaultRun --jar gateway/target/beamgate.jar [--soak SECONDS] [--dir DIR]
 */
public final class FaultRun {
  /** Errors after which the gateway says the call was not sent to a backend. */
  static final List<String> NOT_EXECUTED = List.of("UNAVAILABLE", "PERMISSION_DENIED",
      "RESOURCE_EXHAUSTED", "INVALID_ARGUMENT", "FRAME_TOO_LARGE", "CONNECTION", "TLS",
      "CLOSED");
  /** Errors after which the call may or may not have run. */
  static final List<String> UNKNOWN = List.of("TIMEOUT", "OUTCOME_UNKNOWN", "CANCELLED",
      "CLOSING");

  private final FaultCluster c;
  private final List<FaultLoad> loads = new ArrayList<>();
  private final List<String> events = new ArrayList<>();
  private final long t0 = System.nanoTime();
  private long peakRssKb;
  private long nonReaderRan;

  private FaultRun(FaultCluster c) {
    this.c = c;
  }

  public static void main(String[] args) throws Exception {
    Path jar = Path.of("gateway/target/beamgate.jar");
    int soak = 75;
    Path dir = Path.of("/tmp/beamgate-faults-" + ProcessHandle.current().pid());
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--jar" -> jar = Path.of(args[++i]);
        case "--soak" -> soak = Integer.parseInt(args[++i]);
        case "--dir" -> dir = Path.of(args[++i]);
        default -> throw new IllegalArgumentException("unknown option: " + args[i]
            + " (expected: --jar FILE, --soak SECONDS, --dir DIR)");
      }
    }
    Files.createDirectories(dir);
    System.out.println("fault run: " + Instant.now() + ", load: " + loadAverage() + ", dir: "
        + dir);
    try (EpmdServer epmd = EpmdServer.start(EpmdServer.Config.loopback(0));
        FaultCluster cluster = new FaultCluster(dir, jar.toAbsolutePath(), epmd.port())) {
      new FaultRun(cluster).run(soak);
    }
    System.exit(0);
  }

  static String loadAverage() {
    try {
      return Files.readString(Path.of("/proc/loadavg")).strip();
    } catch (Exception e) {
      return "unknown";
    }
  }

  private void event(String s) {
    String line = String.format("[%6.1fs] %s", (System.nanoTime() - t0) / 1e9, s);
    events.add(line);
    System.out.println(line);
  }

  private void phase(String p) throws Exception {
    // A backend that died without the harness killing it is reported (its exit status says
    // which signal) and restarted, so that each phase starts with both.
    for (FaultCluster.Backend b : c.backends) {
      if (b.process != null && !b.process.isAlive()) {
        event("UNEXPECTED: " + b.node + " died (exit status " + b.process.exitValue()
            + "); restarting it");
        c.startBackend(b);
      }
    }
    event("phase " + p);
    for (FaultLoad l : loads) {
      l.phase(p);
    }
  }

  /** RSS (kB), threads and open descriptors of {@code p}, from /proc. */
  record Usage(long rssKb, long threads, long fds) {
    @Override
    public String toString() {
      return String.format("RSS %.1f MiB, %d threads, %d fds", rssKb / 1024.0, threads, fds);
    }
  }

  static Usage usage(Process p) {
    try {
      long rss = 0;
      long threads = 0;
      for (String line : Files.readAllLines(Path.of("/proc/" + p.pid() + "/status"))) {
        if (line.startsWith("VmRSS:")) {
          rss = Long.parseLong(line.replaceAll("[^0-9]", ""));
        } else if (line.startsWith("Threads:")) {
          threads = Long.parseLong(line.replaceAll("[^0-9]", ""));
        }
      }
      long fds;
      try (Stream<Path> s = Files.list(Path.of("/proc/" + p.pid() + "/fd"))) {
        fds = s.count();
      }
      return new Usage(rss, threads, fds);
    } catch (Exception e) {
      return new Usage(-1, -1, -1);
    }
  }

  /**
   * After a full GC: the gateway's committed Java heap, the native memory NMT calls "Other"
   * (direct buffers: Netty's) and NMT's committed total, in MiB; memory the process keeps that
   * NMT does not see (malloc by the TLS library) is the RSS minus that total.
   */
  static String memory(Process p) {
    try {
      run("jcmd", Long.toString(p.pid()), "GC.run");
      String nmt = run("jcmd", Long.toString(p.pid()), "VM.native_memory", "summary");
      String heapUsed = run("jcmd", Long.toString(p.pid()), "GC.heap_info")
          .replaceAll("(?s).*?total (\\d+)K, used (\\d+)K.*", "$2");
      return String.format("after a full GC: heap used %d MiB, NMT committed: heap %s MiB,"
          + " other (direct buffers) %s MiB, total %s MiB; RSS %.1f MiB",
          Long.parseLong(heapUsed.strip()) / 1024, nmtCommitted(nmt, "Java Heap"),
          nmtCommitted(nmt, "Other"), nmtCommitted(nmt, "Total"), usage(p).rssKb() / 1024.0);
    } catch (Exception e) {
      return "memory: " + e;
    }
  }

  private static String nmtCommitted(String nmt, String what) {
    java.util.regex.Matcher m = java.util.regex.Pattern.compile(
        java.util.regex.Pattern.quote(what) + "[ :(]+reserved=\\d+KB, committed=(\\d+)KB")
        .matcher(nmt);
    return m.find() ? Long.toString(Long.parseLong(m.group(1)) / 1024) : "?";
  }

  private static String run(String... cmd) throws Exception {
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes());
    p.waitFor();
    return out;
  }

  /** Sleeps {@code seconds} while watching the gateway's RSS. */
  private void hold(double seconds) throws InterruptedException {
    long end = System.nanoTime() + (long) (seconds * 1e9);
    while (System.nanoTime() < end) {
      if (c.gateway != null && c.gateway.isAlive()) {
        peakRssKb = Math.max(peakRssKb, usage(c.gateway).rssKb());
      }
      Thread.sleep(250);
    }
  }

  private void run(int soakSeconds) throws Exception {
    c.startAuditHolder(64);
    for (FaultCluster.Backend b : c.backends) {
      c.startBackend(b);
    }
    c.startGateway();
    c.startBridge();
    event("started: backends " + c.backends.stream().map(b -> b.node).toList()
        + ", gateway A pid " + c.gateway.pid() + ", gateway B pid " + c.bridge.pid());
    FaultRelay clientRelay = new FaultRelay(c.gatewayPort);
    AtomicLong ids = new AtomicLong();
    loads.add(new FaultLoad("via-relay", clientRelay.port(), c.client.cert(), c.client.key(),
        c.client.ca(), ids, 100));
    loads.add(new FaultLoad("direct", c.gatewayPort, c.client.cert(), c.client.key(),
        c.client.ca(), ids, 100));
    phase("warm-up");
    hold(8);
    Usage start = usage(c.gateway);
    event("gateway A at start: " + start + "; " + memory(c.gateway));

    phase("backend-kill");
    FaultCluster.Backend b1 = c.backends.get(0);
    FaultCluster.Backend b2 = c.backends.get(1);
    FaultCluster.kill(b1.process);
    event("killed -9 " + b1.node);
    hold(4);
    c.startBackend(b1);
    event("restarted " + b1.node);
    hold(6);

    phase("backend-freeze");
    FaultCluster.signal(b2.process, "STOP");
    event("SIGSTOP " + b2.node);
    hold(10);
    FaultCluster.signal(b2.process, "CONT");
    event("SIGCONT " + b2.node);
    hold(6);

    phase("gateway-kill");
    event("gateway A before kill: " + usage(c.gateway));
    FaultCluster.kill(c.gateway);
    event("killed -9 gateway A");
    hold(2);
    c.startGateway();
    event("restarted gateway A, pid " + c.gateway.pid());
    hold(6);
    Usage afterRestart = usage(c.gateway);
    event("gateway A after restart: " + afterRestart);

    phase("reload");
    c.writePolicy("""
          - id: extra
            principals: ["uri:spiffe://beamgate-faults/nobody"]
            calls: ["erlang:node/0"]
        """);
    event("good reload: exit " + c.reload());
    hold(3);
    Files.writeString(c.policy(), "version: 1\nrules: [ {id: broken, calls: ");
    event("broken reload: exit " + c.reload() + " (expected: 1, refused)");
    hold(3);
    c.writePolicy("");
    event("good reload again: exit " + c.reload());
    hold(3);

    phase("audit-disk-full");
    int dd = c.inAuditNamespace("dd", "if=/dev/zero", "of=" + c.auditDir + "/fill", "bs=64k");
    event("filled the audit tmpfs (dd exit " + dd + ")");
    hold(5);
    c.inAuditNamespace("rm", "-f", c.auditDir + "/fill");
    event("freed the audit tmpfs");
    hold(6);

    phase("non-reading-clients");
    Usage beforeNr = usage(c.gateway);
    // Three rounds: memory a slow client costs must come back (or at least not grow per round).
    for (int round = 0; round < 3; round++) {
      List<FaultNonReader> nr = new ArrayList<>();
      for (int i = 0; i < 2; i++) {
        FaultNonReader r = new FaultNonReader(c.gatewayPort, c.client.cert(), c.client.key(),
            c.client.ca());
        r.send(10_000_000L + round * 1_000_000L + i * 100_000L, 2000, 64 * 1024);
        nr.add(r);
      }
      peakRssKb = 0;
      hold(6);
      event("round " + (round + 1) + ": 2 clients that never read sent 2000 calls each for"
          + " 64 KiB answers; peak RSS " + peakRssKb / 1024 + " MiB, now " + usage(c.gateway));
      for (FaultNonReader r : nr) {
        r.close();
      }
      hold(3);
      event("round " + (round + 1) + ": non-readers closed: " + usage(c.gateway));
    }
    event("gateway A before the non-readers: " + beforeNr);
    event("gateway A after the non-readers: " + memory(c.gateway));
    nonReaderRan = countRan(10_000_000L, 20_000_000L);
    event("non-readers' calls that ran: " + nonReaderRan + " of 12000 sent");

    phase("bridge-kill");
    Path bridgeOut = c.dir.resolve("bridge-calls.txt");
    Process bc = c.erl(FaultCluster.COOKIE_B, c.dir.resolve("bridge-client.log"), List.of(
        "-sname", "fr_bc_" + c.pid, "-eval", "fr_backend:bridge_client('" + c.standIn + "', "
            + 20_000_000L + ", 20000, \"" + bridgeOut + "\")"));
    hold(5);
    FaultCluster.kill(c.bridge);
    event("killed -9 gateway B (bridge)");
    hold(3);
    c.startBridge();
    event("restarted gateway B, link up, pid " + c.bridge.pid());
    bc.waitFor();
    event("bridge client done (exit " + bc.exitValue() + ")");

    phase("partition-bridge");
    // 20 s: longer than the 15 s (3 x bridge.keepalive_ms) after which a silent link is dead,
    // so the link's death is detected, its calls fail and it comes back by itself.
    Path bridgeOut2 = c.dir.resolve("bridge-calls-partition.txt");
    Process bc2 = c.erl(FaultCluster.COOKIE_B, c.dir.resolve("bridge-client.log"), List.of(
        "-sname", "fr_bc2_" + c.pid, "-eval", "fr_backend:bridge_client('" + c.standIn + "', "
            + 30_000_000L + ", 34000, \"" + bridgeOut2 + "\")"));
    hold(4);
    c.bridgeRelay.partition(true);
    event("gateway B<->gateway A relay: silent partition");
    hold(20);
    c.bridgeRelay.partition(false);
    event("gateway B<->gateway A relay: healed");
    bc2.waitFor();
    event("bridge client done (exit " + bc2.exitValue() + ")");

    phase("latency-loss");
    // Every link at once: client-gateway (the relayed client), gateway-backends, and the
    // bridge, with an erl client of cluster B calling through it.
    FaultRelay.Impairment bad = new FaultRelay.Impairment(20, 5, 0.01, 300);
    Path bridgeOut3 = c.dir.resolve("bridge-calls-latency.txt");
    Process bc3 = c.erl(FaultCluster.COOKIE_B, c.dir.resolve("bridge-client.log"), List.of(
        "-sname", "fr_bc3_" + c.pid, "-eval", "fr_backend:bridge_client('" + c.standIn + "', "
            + 40_000_000L + ", 24000, \"" + bridgeOut3 + "\")"));
    hold(2);
    List<FaultRelay> links = new ArrayList<>(List.of(clientRelay, c.bridgeRelay));
    c.backends.forEach(b -> links.add(b.relay));
    links.forEach(r -> r.impair(bad));
    event("every link impaired: " + bad);
    hold(20);
    links.forEach(r -> r.impair(FaultRelay.Impairment.NONE));
    event("every link clear");
    bc3.waitFor();
    event("bridge client done (exit " + bc3.exitValue() + ")");
    hold(2);

    phase("connection-flood");
    Usage beforeFlood = usage(c.gateway);
    try (FaultFlood flood = new FaultFlood(c.gatewayPort, 1200)) {
      event("flood: " + flood.opened() + " TCP connections opened that send nothing"
          + " (max_connections 1000); gateway A " + usage(c.gateway));
      hold(2);
      event("flood: a new client while full: " + newClientPing());
      hold(11);
      event("flood: after 13 s (tls.handshake_timeout_ms 10000): " + flood.closedByGateway()
          + " of " + flood.opened() + " closed by the gateway; gateway A " + usage(c.gateway));
    }
    hold(3);
    event("flood over: gateway A " + usage(c.gateway) + " (before: " + beforeFlood + ")"
        + "; a new client: " + newClientPing());

    phase("partition-client");
    clientRelay.partition(true);
    event("client<->gateway relay: silent partition");
    hold(8);
    clientRelay.partition(false);
    event("client<->gateway relay: healed");
    hold(6);

    phase("partition-backend");
    b1.relay.partition(true);
    event("gateway<->" + b1.node + " relay: silent partition");
    hold(15);
    b1.relay.partition(false);
    event("gateway<->" + b1.node + " relay: healed");
    hold(6);

    phase("soak");
    Usage beforeSoak = usage(c.gateway);
    hold(soakSeconds);
    event("soak " + soakSeconds + " s: before " + beforeSoak + ", after " + usage(c.gateway));

    phase("partition-forever");
    // Partitions that do not heal before the run ends: backend 1's distribution link and the
    // relayed client's path. The gateway must keep serving from backend 2, and the relayed
    // client must fail every call it makes, none hanging.
    b1.relay.partition(true);
    clientRelay.partition(true);
    event("gateway<->" + b1.node + " and client<->gateway: silent partitions, never healed");
    hold(25);

    phase("drain");
    for (FaultLoad l : loads) {
      l.stop(Duration.ofSeconds(20));
    }
    hold(2);
    Usage end = usage(c.gateway);
    event("gateway A at end: " + end + "; " + memory(c.gateway));
    report(start, afterRestart, end, List.of(bridgeOut, bridgeOut2, bridgeOut3));
    for (FaultLoad l : loads) {
      l.close();
    }
    clientRelay.close();
  }

  /** Connects a new client and pings once: "pong" or the error it got. */
  private String newClientPing() {
    try (io.beamgate.client.BeamgateClient cl = io.beamgate.client.BeamgateClient.connect(
        io.beamgate.client.ClientConfig.builder().host("localhost").port(c.gatewayPort)
            .tls(c.client.cert(), c.client.key(), c.client.ca())
            .callTimeout(Duration.ofSeconds(5)).build())) {
      cl.ping().get(10, java.util.concurrent.TimeUnit.SECONDS);
      return "pong";
    } catch (Exception e) {
      Throwable t = e instanceof java.util.concurrent.ExecutionException && e.getCause() != null
          ? e.getCause() : e;
      return t.toString();
    }
  }

  private long countRan(long from, long to) throws Exception {
    try (Stream<String> lines = Files.lines(c.ids)) {
      return lines.map(l -> l.split(" ")[0]).filter(x -> !x.isEmpty()).mapToLong(Long::parseLong)
          .filter(x -> x >= from && x < to).count();
    }
  }

  /** Per phase and client: ok calls, their p99 and max latency, and the longest gap between
   * two ok answers (a stall). */
  private void latencies() {
    System.out.println("ok calls by phase and client: count, p99, max latency, longest stall");
    Map<String, List<String>> rows = new TreeMap<>();
    for (FaultLoad l : loads) {
      Map<String, List<FaultLoad.Outcome>> byPhase = new HashMap<>();
      l.outcomes.values().stream().filter(o -> o.result().equals("ok"))
          .forEach(o -> byPhase.computeIfAbsent(o.phase(), k -> new ArrayList<>()).add(o));
      byPhase.forEach((p, os) -> {
        long[] lat = os.stream().mapToLong(FaultLoad.Outcome::micros).sorted().toArray();
        long[] done = os.stream().mapToLong(FaultLoad.Outcome::doneNanos).sorted().toArray();
        long gap = 0;
        for (int i = 1; i < done.length; i++) {
          gap = Math.max(gap, done[i] - done[i - 1]);
        }
        rows.computeIfAbsent(p, k -> new ArrayList<>()).add(String.format(
            "%s %d, p99 %.1f ms, max %.1f ms, stall %.1f s", l.name, lat.length,
            lat[(int) Math.min(lat.length - 1, Math.ceil(lat.length * 0.99) - 1)] / 1000.0,
            lat[lat.length - 1] / 1000.0, gap / 1e9));
      });
    }
    rows.forEach((p, r) -> System.out.println("  " + p + ": " + String.join("; ", r)));
    System.out.println("first error message per phase and code:");
    for (FaultLoad l : loads) {
      new TreeMap<>(l.firstMessage).forEach((k, v) -> System.out.println("  " + l.name + " "
          + k + ": " + (v.length() > 240 ? v.substring(0, 240) + "..." : v)));
    }
  }

  private void report(Usage start, Usage afterRestart, Usage end, List<Path> bridgeOuts)
      throws Exception {
    System.out.println("\n=== results ===");
    // ids that ran, and how often
    Map<Long, Integer> ran = new HashMap<>();
    for (String line : Files.readAllLines(c.ids)) {
      String[] f = line.split(" ");
      if (f.length == 2 && !f[0].isEmpty()) {
        ran.merge(Long.parseLong(f[0]), 1, Integer::sum);
      } else if (!line.isEmpty()) {
        System.out.println("ids.txt: odd line: " + line);
      }
    }
    List<Long> twice = ran.entrySet().stream().filter(e -> e.getValue() > 1)
        .map(Map.Entry::getKey).sorted().toList();
    System.out.println("ids recorded by the backends: " + ran.size() + ", ran more than once: "
        + twice.size() + (twice.isEmpty() ? "" : " " + twice.subList(0, Math.min(10,
        twice.size()))));

    // Java clients: per phase and per outcome
    Map<String, Map<String, Integer>> table = new TreeMap<>();
    int hung = 0;
    int notExecutedButRan = 0;
    int okNotRan = 0;
    int unclassified = 0;
    Map<String, int[]> unknownRan = new TreeMap<>();
    List<String> examples = new ArrayList<>();
    for (FaultLoad l : loads) {
      hung += l.pending.size();
      for (Map.Entry<Long, FaultLoad.Outcome> e : l.outcomes.entrySet()) {
        FaultLoad.Outcome o = e.getValue();
        table.computeIfAbsent(o.phase(), k -> new TreeMap<>()).merge(o.result(), 1,
            Integer::sum);
        boolean didRun = ran.containsKey(e.getKey());
        if (o.result().equals("ok")) {
          if (!didRun) {
            okNotRan++;
          }
        } else if (NOT_EXECUTED.contains(o.result())) {
          if (didRun) {
            notExecutedButRan++;
            if (examples.size() < 10) {
              examples.add("id " + e.getKey() + " (" + l.name + ", " + o.phase() + "): "
                  + o.result() + " after " + o.micros() / 1000 + " ms, but it ran");
            }
          }
        } else if (UNKNOWN.contains(o.result())) {
          int[] n = unknownRan.computeIfAbsent(o.result(), k -> new int[2]);
          n[0]++;
          if (didRun) {
            n[1]++;
          }
        } else {
          unclassified++;
          if (examples.size() < 10) {
            examples.add("id " + e.getKey() + " (" + l.name + ", " + o.phase()
                + "): unclassified " + o.result());
          }
        }
      }
    }
    System.out.println("Java client calls by phase:");
    table.forEach((p, m) -> System.out.println("  " + p + ": " + m));
    System.out.println("answered ok but never recorded as run: " + okNotRan);
    System.out.println("reported not executed (" + String.join("/", NOT_EXECUTED)
        + ") but ran: " + notExecutedButRan);
    unknownRan.forEach((k, n) -> System.out.println("  " + k + ": " + n[0] + " (of which ran: "
        + n[1] + ")"));
    System.out.println("unclassified failures: " + unclassified);
    System.out.println("calls still pending after the drain (hung): " + hung);
    examples.forEach(x -> System.out.println("  " + x));

    // bridge client
    for (Path bridgeOut : bridgeOuts) {
      Map<String, Integer> br = new TreeMap<>();
      int failedRan = 0;
      for (String line : Files.readAllLines(bridgeOut)) {
        int sp = line.indexOf(' ');
        if (sp < 0) {
          continue;
        }
        String r = line.substring(sp + 1);
        br.merge(r.replaceAll("\\{.*", "{..}"), 1, Integer::sum);
        if (!r.equals("ok") && ran.containsKey(Long.parseLong(line.substring(0, sp)))) {
          failedRan++;
        }
      }
      System.out.println("bridge client (erl, cluster B) " + bridgeOut.getFileName() + ": " + br
          + "; failed but ran: "
          + failedRan);
    }

    latencies();
    System.out.println("non-readers' calls that ran: " + nonReaderRan + " of 12000 sent");

    // audit (copied out of its namespace, which ends with the run)
    Path audit = c.dir.resolve("audit-copy.jsonl");
    Files.copy(c.auditFile(), audit, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    List<String> lines = Files.readAllLines(audit);
    int bad = 0;
    for (int i = 0; i < lines.size(); i++) {
      if (!FaultJson.isObject(lines.get(i))) {
        bad++;
        if (bad <= 5) {
          String l = lines.get(i);
          System.out.println("  audit line " + (i + 1) + " is not one JSON object: "
              + (l.length() > 300 ? l.substring(0, 300) + "..." : l));
        }
      }
    }
    Map<String, Integer> outcomes = new TreeMap<>();
    java.util.regex.Pattern op = java.util.regex.Pattern.compile("\"outcome\":\"([a-z_]+)\"");
    for (String l : lines) {
      java.util.regex.Matcher m = op.matcher(l);
      outcomes.merge(m.find() ? m.group(1) : "(none)", 1, Integer::sum);
    }
    long clientOk = loads.stream().mapToLong(l -> l.outcomes.values().stream()
        .filter(o -> o.result().equals("ok")).count()).sum();
    System.out.println("audit outcomes: " + outcomes + " (Java clients saw ok: " + clientOk
        + ")");
    byte[] all = Files.readAllBytes(audit);
    boolean endsWithNewline = all.length == 0 || all[all.length - 1] == '\n';
    System.out.println("audit lines: " + lines.size() + ", not JSON: " + bad
        + ", ends with a newline: " + endsWithNewline);

    System.out.println("gateway A at start: " + start);
    System.out.println("gateway A after its restart: " + afterRestart);
    System.out.println("gateway A at end: " + end);
    System.out.println("gateway A peak RSS seen: " + peakRssKb / 1024 + " MiB");
    for (String log : List.of("gw/gateway.log", "gwb/gateway.log")) {
      List<String> ll = Files.readAllLines(c.dir.resolve(log));
      long errors = ll.stream().filter(x -> x.contains(" ERROR ")).count();
      long warns = ll.stream().filter(x -> x.contains(" WARN ")).count();
      long exc = ll.stream().filter(x -> x.contains("Exception")).count();
      System.out.println(log + ": " + errors + " ERROR, " + warns + " WARN, " + exc
          + " lines naming an exception");
    }
    boolean pass = twice.isEmpty() && notExecutedButRan == 0 && unclassified == 0 && hung == 0
        && bad == 0 && endsWithNewline;
    System.out.println("VERDICT: " + (pass ? "PASS" : "FAIL") + " (no id twice, no 'not"
        + " executed' that ran, all failures classified, nothing hung, audit all JSON)");
  }
}
