package io.beamgate.bench;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Another erl node, started per scenario, calling with rpc:call (bench_client.erl). */
final class ErlClient implements Harness.Client {
  private final String label;
  private final int epmdPort;
  private final Path dir;
  private final String server;
  private final String protocol;
  private final List<String> distArgs;
  private final String namePrefix;
  private final String cookie;
  private int n;

  /** {@code protocol}: the distribution the calls must travel over (tcp, tls), checked. */
  ErlClient(String label, int epmdPort, Path dir, String server, String protocol,
      List<String> distArgs, String namePrefix) {
    this(label, epmdPort, dir, server, protocol, distArgs, namePrefix, Harness.COOKIE);
  }

  /** As above, in the cluster of {@code cookie}. */
  ErlClient(String label, int epmdPort, Path dir, String server, String protocol,
      List<String> distArgs, String namePrefix, String cookie) {
    this.cookie = cookie;
    this.label = label;
    this.epmdPort = epmdPort;
    this.dir = dir;
    this.server = server;
    this.protocol = protocol;
    this.distArgs = distArgs;
    this.namePrefix = namePrefix;
  }

  @Override
  public String name() {
    return label;
  }

  @Override
  public Harness.Result run(int conc, int size, int seconds) throws Exception {
    List<String> args = new ArrayList<>(distArgs);
    args.addAll(List.of("-sname", namePrefix + "_" + n++, "-noshell", "-s", "bench_client",
        "run", server, Integer.toString(conc), Integer.toString(size),
        Integer.toString(seconds * 1000)));
    Process p = Harness.erlWithCookie(epmdPort, dir, cookie, args.toArray(String[]::new));
    Map<String, Long> pids = new LinkedHashMap<>(Harness.pathPids);
    pids.put(Cpu.ERL_CLIENT, p.pid());
    Cpu.Window cpu0 = null;
    Map<String, Cpu.Sample> cpu1 = null;
    StringBuilder text = new StringBuilder();
    // a watchdog: the reads below block on the client's output
    java.util.concurrent.ScheduledExecutorService timer =
        java.util.concurrent.Executors.newSingleThreadScheduledExecutor();
    timer.schedule(() -> Harness.kill(p), seconds + 60L, TimeUnit.SECONDS);
    try (java.io.BufferedReader out = new java.io.BufferedReader(
        new java.io.InputStreamReader(p.getInputStream()));
        java.io.Writer in = new java.io.OutputStreamWriter(p.getOutputStream())) {
      for (String line; (line = out.readLine()) != null; ) {
        text.append(line).append('\n');
        // the client waits for a line at both edges of its measured window
        if (line.equals("READY") || line.equals("DONE")) {
          if (line.equals("READY")) {
            cpu0 = Cpu.Window.open(pids);
          } else {
            cpu1 = cpu0 == null ? null : cpu0.end();
          }
          in.write("go\n");
          in.flush();
        }
      }
    } finally {
      timer.shutdownNow();
      Harness.kill(p);
    }
    String outText = text.toString();
    Matcher d = Pattern.compile("DIST protocol=(\\w+)").matcher(outText);
    if (!d.find() || !d.group(1).equals(protocol)) {
      throw new IOException(label + ": expected distribution over " + protocol + ": "
          + outText);
    }
    Matcher m = Pattern.compile("RESULT calls=(\\d+) elapsed_us=(\\d+) p50_us=(\\d+)"
        + " p99_us=(\\d+) mem_bytes=(\\d+)").matcher(outText);
    if (!m.find()) {
      throw new IOException(label + " client printed no result: " + outText);
    }
    Harness.Result r = new Harness.Result(label, conc, size, Long.parseLong(m.group(1)),
        Long.parseLong(m.group(2)), Long.parseLong(m.group(3)), Long.parseLong(m.group(4)),
        Long.parseLong(m.group(5)));
    return cpu0 == null || cpu1 == null ? r : r.withCpu(cpu0, cpu1);
  }
}
