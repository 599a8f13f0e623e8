package io.beamgate.gateway.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.beamgate.node.epmd.EpmdServer;
import io.beamgate.node.testing.ErlNode;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** The beamgate CLI, run in-process, against a real erl node where it talks to one. */
class CliTest {
  private static final String COOKIE = "cli_cookie";
  private static EpmdServer epmd;
  private static ErlNode erl;

  record Run(int exit, String out, String err) {}

  @BeforeAll
  static void start() throws Exception {
    epmd = EpmdServer.start(EpmdServer.Config.loopback(0));
    erl = ErlNode.start(ErlNode.uniqueName("clierl"), COOKIE, epmd.port());
  }

  @AfterAll
  static void stop() {
    if (erl != null) {
      erl.close();
    }
    if (epmd != null) {
      epmd.close();
    }
  }

  static synchronized Run run(String... args) {
    PrintStream oldOut = System.out;
    PrintStream oldErr = System.err;
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    try {
      System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
      System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
      CommandLine cl = Main.commandLine();
      cl.setOut(new java.io.PrintWriter(System.out, true));
      cl.setErr(new java.io.PrintWriter(System.err, true));
      int code = cl.execute(args);
      return new Run(code, out.toString(StandardCharsets.UTF_8),
          err.toString(StandardCharsets.UTF_8));
    } finally {
      System.setOut(oldOut);
      System.setErr(oldErr);
    }
  }

  private static String[] node(String... args) {
    List<String> l = new ArrayList<>(List.of(args));
    l.addAll(List.of("--epmd-port", Integer.toString(epmd.port())));
    return l.toArray(String[]::new);
  }

  @Test
  void helpAndVersionOnEverySubcommand() {
    List<List<String>> paths = new ArrayList<>();
    collect(Main.commandLine(), new ArrayList<>(), paths);
    assertTrue(paths.size() >= 5, paths.toString());
    for (List<String> path : paths) {
      for (String flag : new String[] {"--help", "--version"}) {
        List<String> args = new ArrayList<>(path);
        args.add(flag);
        Run r = run(args.toArray(String[]::new));
        assertEquals(0, r.exit(), args + ": " + r.err());
        assertTrue(r.out().contains(flag.equals("--help") ? "Usage:" : "beamgate"),
            args + ": " + r.out());
      }
    }
  }

  private static void collect(CommandLine cl, List<String> path, List<List<String>> out) {
    if (cl.getCommandName().equals("help")) {
      return;
    }
    out.add(path);
    cl.getSubcommands().forEach((name, sub) -> {
      if (!sub.getCommandName().equals(name)) {
        return; // an alias
      }
      List<String> p = new ArrayList<>(path);
      p.add(name);
      collect(sub, p, out);
    });
  }

  @Test
  void badUsageExits64() {
    assertEquals(64, run("node", "call").exit());
    assertEquals(64, run("node", "ping", "x", "--no-such-option").exit());
    assertEquals(64, run("node", "ping", "x", "--cookie", "a", "--cookie-file", "/f").exit(),
        "mutually exclusive options");
    Run notList = run(node("node", "call", erl.name(), "lists", "reverse", "{1,2}",
        "--cookie", COOKIE));
    assertEquals(64, notList.exit());
    assertTrue(notList.err().contains("must be a proper list"), notList.err());
    Run unparsable = run(node("node", "call", erl.name(), "m", "f", "[1,", "--cookie", COOKIE));
    assertEquals(64, unparsable.exit());
    assertTrue(unparsable.err().contains("ARGS:"), unparsable.err());
  }

  @Test
  void nodeCallSpeaksElixirSyntax() {
    Run r = run(node("node", "call", erl.name(), ":lists", ":reverse",
        "[[\"abc\", 'de', :x, %{a: 1}]]", "--syntax", "elixir", "--cookie", COOKIE));
    assertEquals(0, r.exit(), r.err());
    assertEquals("[%{:a => 1}, :x, 'de', \"abc\"]", r.out().strip());
    // an alias as MODULE switches Elixir syntax on by itself: MyApp.KV is 'Elixir.MyApp.KV'
    Run alias = run(node("node", "call", erl.name(), "MyApp.KV", "get", "[\"k\"]",
        "--cookie", COOKIE));
    assertEquals(2, alias.exit(), alias.err());
    assertTrue(alias.out().contains("{MyApp.KV, :get, [\"k\"]"), alias.out());
  }

  @Test
  void pingPongAndPang() {
    Run pong = run(node("node", "ping", erl.name(), "--cookie", COOKIE));
    assertEquals(0, pong.exit(), pong.err());
    assertEquals("pong", pong.out().strip());

    Run unknown = run(node("node", "ping", "nobody@127.0.0.1", "--cookie", COOKIE,
        "--timeout", "2000"));
    assertEquals(1, unknown.exit());
    assertEquals("pang", unknown.out().strip());
    assertTrue(unknown.err().contains("no node named 'nobody'"), unknown.err());

    Run wrong = run(node("node", "ping", erl.name(), "--cookie", "wrong_cookie"));
    assertEquals(1, wrong.exit());
    assertEquals("pang", wrong.out().strip());
    assertTrue(wrong.err().contains("cookie"), wrong.err());
    assertTrue(!wrong.err().contains("wrong_cookie") && !wrong.out().contains("wrong_cookie"),
        "the cookie is never printed");
  }

  @Test
  void pingWithCookieFile(@TempDir Path dir) throws Exception {
    Path f = dir.resolve("cookie");
    Files.writeString(f, COOKIE + "\n");
    Run pong = run(node("node", "ping", erl.name(), "--cookie-file", f.toString()));
    assertEquals(0, pong.exit(), pong.err());
  }

  @Test
  void callPrintsResultsAsErlangTerms() throws Exception {
    Run r = run(node("node", "call", erl.name(), "lists", "reverse",
        "[[1, <<\"a\">>, #{k => v}, 2.5, 123456789012345678901234567890]]", "--cookie", COOKIE));
    assertEquals(0, r.exit(), r.err());
    // erl reads the printed result back to the same term.
    String same = erl.evalOk("{ok, Ts, _} = erl_scan:string(\"" + r.out().strip()
        .replace("\\", "\\\\").replace("\"", "\\\"") + ".\"), {ok, T} = erl_parse:parse_term(Ts),"
        + " T =:= lists:reverse([1, <<\"a\">>, #{k => v}, 2.5, 123456789012345678901234567890]).");
    assertEquals("true", same, r.out());
  }

  @Test
  void callRemoteErrorPrintsBadrpcAndExits2() {
    Run r = run(node("node", "call", erl.name(), "no_such_mod", "f", "[]", "--cookie", COOKIE));
    assertEquals(2, r.exit(), r.err());
    assertTrue(r.out().startsWith("{badrpc, {'EXIT', {undef,") || r.out().startsWith("{badrpc,"),
        r.out());
    assertTrue(r.out().contains("undef"), r.out());
  }

  @Test
  void callConnectionFailureExplainsAndExits1() {
    Run r = run(node("node", "call", erl.name(), "erlang", "node", "[]", "--cookie", "bad"));
    assertEquals(1, r.exit());
    assertTrue(r.err().contains("cookie"), r.err());
  }

  @Test
  void demoRunsWithoutErlang() {
    Run r = run("demo");
    assertEquals(0, r.exit(), r.out() + r.err());
    assertTrue(r.out().contains("principal spiffe://demo/app"), r.out());
    assertTrue(r.out().contains("kv:get(<<\"greeting\">>) -> <<\"hello\">>"), r.out());
    assertTrue(r.out().contains("os:cmd(\"id\") -> refused: PERMISSION_DENIED"), r.out());
    assertTrue(r.out().contains("-> refused: INVALID_ARGUMENT"), r.out());
    assertTrue(r.out().contains("refused at the TLS handshake"), r.out());
    assertTrue(r.out().contains("\"decision\":\"denied\""), r.out());
    assertTrue(r.out().contains("demo complete"), r.out());
  }

  @Test
  void bridgeDemoRunsWithoutErlang() {
    Run r = run("demo", "--bridge");
    assertEquals(0, r.exit(), r.out() + r.err());
    assertTrue(r.out().contains("erpc:call(cluster_a, kv, get, [colour]) -> <<\"blue\">>"),
        r.out());
    assertTrue(r.out().contains("erpc:call(cluster_a, os, cmd, [\"id\"]) -> error"
        + " {'EXIT', {{beamgate, permission_denied,"), r.out());
    assertTrue(r.out().contains("got {nodedown, 'cluster_a@127.0.0.1'}"), r.out());
    assertTrue(r.out().lines().filter(l -> l.contains("kv, get, [colour]) -> <<\"blue\">>"))
        .count() == 2, "answers again once gateway A is back: " + r.out());
    assertTrue(r.out().contains("\"mfa\":\"kv:delete/1\",\"decision\":\"denied\""),
        r.out());
  }

  @Test
  void demoWithARealErlBackend() {
    io.beamgate.node.testing.Erl.require();
    Run r = run("demo", "--erl");
    assertEquals(0, r.exit(), r.out() + r.err());
    assertTrue(r.out().contains("real erl node"), r.out());
    assertTrue(r.out().contains("kv:get(<<\"greeting\">>) -> <<\"hello\">>"), r.out());
    assertTrue(r.out().contains("os:cmd(\"id\") -> refused: PERMISSION_DENIED"), r.out());
  }

  @Test
  void nodeServeAnswersErlOnTheEchoMailbox() throws Exception {
    String alive = ErlNode.uniqueName("served");
    ProcessBuilder pb = new ProcessBuilder(
        Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-cp", System.getProperty("java.class.path"), Main.class.getName(),
        "node", "serve", "--sname", alive, "--cookie", COOKIE,
        "--epmd-port", Integer.toString(epmd.port())).redirectErrorStream(true);
    Process p = pb.start();
    try {
      java.io.BufferedReader out = new java.io.BufferedReader(
          new java.io.InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
      String first = out.readLine();
      while (first != null && !first.contains("serving")) {
        first = out.readLine();
      }
      assertTrue(first != null && first.contains("beamgate_echo registered"), first);
      String node = first.substring(0, first.indexOf(' '));
      assertEquals("pong", erl.evalOk("net_adm:ping('" + node + "')."));
      assertEquals("true", erl.evalOk("T = {self(), make_ref(), #{a => [1.5, <<\"b\">>]}},"
          + " T =:= gen_server:call({beamgate_echo, '" + node + "'}, T)."));
      // It answers as an OTP node: rex (rpc, sbcast, erl_call) and global (a visible node).
      assertEquals("{badrpc,{'EXIT',{undef,[{nosuch,f,[],[]}]}}}",
          erl.evalOk("rpc:call('" + node + "', nosuch, f, [])."));
      assertEquals("{[" + node + "],[]}",
          erl.evalOk("rpc:sbcast(['" + node + "'], beamgate_echo, hi).").replace("'", ""));
      assertEquals("ok", erl.evalOk("global:sync()."));
      Path erlCall;
      try (var dirs = java.nio.file.Files.list(Path.of("/usr/lib/erlang/lib"))) {
        erlCall = dirs.filter(d -> d.getFileName().toString().startsWith("erl_interface-"))
            .map(d -> d.resolve("bin/erl_call")).filter(java.nio.file.Files::isExecutable)
            .findFirst().orElseThrow(() -> new AssertionError("erl_call not found"));
      }
      ProcessBuilder call = new ProcessBuilder(erlCall.toString(), "-sname", alive, "-c",
          COOKIE, "-timeout", "20", "-a", "nosuch f []").redirectErrorStream(true);
      call.environment().put("ERL_EPMD_PORT", Integer.toString(epmd.port()));
      Process c = call.start();
      try {
        assertTrue(c.waitFor(30, java.util.concurrent.TimeUnit.SECONDS), "erl_call hung");
        String printed = new String(c.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(printed.contains("undef"), printed);
      } finally {
        c.destroyForcibly();
      }
    } finally {
      p.destroyForcibly();
      p.waitFor(10, java.util.concurrent.TimeUnit.SECONDS);
    }
  }
}
