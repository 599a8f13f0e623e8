package io.beamgate.node.testing;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A real {@code erl} node for interop tests, driven through its standard input: each
 * {@link #eval} line is parsed and evaluated by erl itself, and its {@code ~w}-printed result
 * read back. This path does not touch beamgate's own protocol code. The OS process is killed by
 * PID on {@link #close}.
 */
public final class ErlNode implements AutoCloseable {
  private static final AtomicInteger SEQ = new AtomicInteger();
  private static final String MARK = "@@BG@@";
  // Reads a line, evaluates it, prints MARK{ok, Value} or MARK{Class, Reason}, repeats.
  private static final String LOOP = "io:setopts([{encoding, unicode}]), Loop = fun Loop() -> case io:get_line(\"\") of eof -> "
      + "halt(); Line -> R = try {ok, Ts, _} = erl_scan:string(Line), "
      + "{ok, Es} = erl_parse:parse_exprs(Ts), {value, V, _} = erl_eval:exprs(Es, []), "
      + "{ok, V} catch C:E -> {C, E} end, io:format(\"" + MARK + "~w~n\", [R]), Loop() end "
      + "end, Loop().";

  private final Process process;
  private volatile String name;
  private final Writer in;
  private final LinkedBlockingQueue<String> results = new LinkedBlockingQueue<>();
  private final List<String> output = new ArrayList<>();

  private ErlNode(Process process, String name) {
    this.process = process;
    this.name = name;
    this.in = new OutputStreamWriter(process.getOutputStream(), StandardCharsets.UTF_8);
    Thread reader = new Thread(() -> {
      try (BufferedReader r = new BufferedReader(
          new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
        for (String line; (line = r.readLine()) != null; ) {
          int i = line.indexOf(MARK);
          if (i >= 0) {
            results.add(line.substring(i + MARK.length()));
          } else {
            synchronized (output) {
              output.add(line);
            }
          }
        }
      } catch (IOException ignored) {
        // process ended
      }
    }, "erl-reader-" + name);
    reader.setDaemon(true);
    reader.start();
  }

  /** A unique short name for a test node. */
  public static String uniqueName(String prefix) {
    return prefix + "_" + ProcessHandle.current().pid() + "_" + SEQ.incrementAndGet();
  }

  /**
   * Starts {@code erl -sname alive} using the EPMD at {@code epmdPort} (never starting one of
   * its own), with the given cookie and extra arguments; returns once it answers.
   */
  public static ErlNode start(String alive, String cookie, int epmdPort, String... extra)
      throws IOException {
    return start("-sname", alive, cookie, epmdPort, extra);
  }

  /** As {@link #start}, with {@code -name} (a long name such as {@code x@127.0.0.1}). */
  public static ErlNode startLong(String name, String cookie, int epmdPort, String... extra)
      throws IOException {
    return start("-name", name, cookie, epmdPort, extra);
  }

  private static ErlNode start(String nameFlag, String alive, String cookie, int epmdPort,
      String... extra) throws IOException {
    String erl = Erl.require();
    List<String> cmd = new ArrayList<>(List.of(erl, nameFlag, alive, "-setcookie", cookie,
        "-noshell", "-start_epmd", "false"));
    cmd.addAll(List.of(extra));
    cmd.addAll(List.of("-eval", LOOP));
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
    pb.environment().put("ERL_EPMD_PORT", Integer.toString(epmdPort));
    Process p = pb.start();
    ErlNode n = new ErlNode(p, alive);
    try {
      n.name = unwrapOk(n.eval("node().", Duration.ofSeconds(20)));
    } catch (IOException | RuntimeException e) {
      n.kill();
      throw e;
    }
    return n;
  }

  private static String unwrapOk(String r) {
    if (!r.startsWith("{ok,") || !r.endsWith("}")) {
      throw new IllegalStateException("erl did not start: " + r);
    }
    String v = r.substring(4, r.length() - 1);
    return v.startsWith("'") ? v.substring(1, v.length() - 1) : v;
  }

  public String name() {
    return name;
  }

  public long pid() {
    return process.pid();
  }

  /**
   * Evaluates Erlang expressions (ending with '.') in erl; returns {@code {ok,Value}} or
   * {@code {Class,Reason}} as printed by {@code ~w}.
   */
  public String eval(String exprs, Duration timeout) throws IOException {
    in.write(exprs.replace('\n', ' ') + "\n");
    in.flush();
    try {
      String r = results.poll(timeout.toMillis(), TimeUnit.MILLISECONDS);
      if (r == null) {
        throw new IOException("erl " + name + " gave no answer to '" + exprs + "' within "
            + timeout.toMillis() + " ms; output: " + output());
      }
      return r;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted", e);
    }
  }

  public String eval(String exprs) throws IOException {
    return eval(exprs, Duration.ofSeconds(20));
  }

  /** Evaluates and returns the value text of {@code {ok,Value}}; fails on an exception. */
  public String evalOk(String exprs) throws IOException {
    String r = eval(exprs);
    if (!r.startsWith("{ok,")) {
      throw new AssertionError("erl raised for '" + exprs + "': " + r);
    }
    return r.substring(4, r.length() - 1);
  }

  /** Everything erl printed outside eval results. */
  public String output() {
    synchronized (output) {
      return String.join("\n", output);
    }
  }

  public boolean isAlive() {
    return process.isAlive();
  }

  /** Kills the OS process at once (SIGKILL), as a crash would. */
  /** Freezes the OS process (SIGSTOP): its sockets stay open but it says nothing. */
  public void freeze() throws IOException, InterruptedException {
    new ProcessBuilder("kill", "-STOP", Long.toString(process.pid())).start().waitFor();
  }

  public void kill() {
    process.destroyForcibly();
    try {
      process.waitFor(10, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  @Override
  public void close() {
    kill();
  }
}
