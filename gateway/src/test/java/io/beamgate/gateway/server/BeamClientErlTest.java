package io.beamgate.gateway.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.beamgate.client.BeamgateClient;
import io.beamgate.client.ClientConfig;
import io.beamgate.client.GatewayException;
import io.beamgate.node.term.Atom;
import io.beamgate.node.term.ErlList;
import io.beamgate.node.term.Term;
import io.beamgate.node.term.TermText;
import io.beamgate.node.term.Tuple;
import io.beamgate.node.testing.Erl;
import io.beamgate.node.testing.ErlNode;
import io.beamgate.node.testing.RealEpmd;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The BEAM client (client/src/main/erlang/beamgate_client.erl and its Elixir wrapper
 * client/src/main/elixir/beamgate.ex), compiled with erlc here and run by a real escript and
 * a real elixir against a real gateway and a real erl backend: allowed calls, a call the
 * policy refuses, one the term guard refuses, a cast, a send and a timeout come back as they
 * do to the Java client in the same test. Fails, never skips, under CI=true when erl, erlc,
 * escript or elixir is missing.
 */
class BeamClientErlTest {
  static final String POLICY = """
      version: 1
      rules:
        - id: beam
          principals: ["uri:spiffe://test/alice"]
          calls: ["lists:reverse/1", "lists:seq/2", "'Elixir.MyApp.KV':get/1",
                  "'Elixir.MyApp.KV':inbox/0",
                  "'Elixir.MyApp.KV':put/2", "timer:sleep/1", "binary:copy/2"]
          sends: [inbox]
          limits: {rate_per_second: 100000, concurrency: 1000, timeout_ms: 8000,
                   max_depth: 4}
      """;
  /** The backend's Elixir-named module: a KV answer, and an inbox that keeps what it gets. */
  static final String KV = """
      -module('Elixir.MyApp.KV').
      -export([get/1, put/2, inbox/0, start_inbox/0, dump/0]).
      inbox() -> {inbox, whereis(inbox)}.
      get(K) -> #{key => K, value => <<"v:", K/binary>>, tags => [a, b], n => 42}.
      put(K, V) -> inbox ! {put, K, V}, ok.
      start_inbox() -> register(inbox, spawn(fun() -> loop([]) end)), ok.
      dump() -> inbox ! {dump, self()}, receive {inbox, L} -> L after 5000 -> timeout end.
      loop(Acc) ->
          receive
              {dump, P} when is_pid(P) -> P ! {inbox, lists:reverse(Acc)}, loop(Acc);
              M -> loop([M | Acc])
          end.
      """;

  /** One request, as Erlang text the escript reads with file:consult and Java parses. */
  record Step(String label, String kind, String target, String function, String args,
      int timeoutMs) {}

  /** The requests made by every client; cast and send name the client in their terms. */
  static List<Step> steps(String who) {
    return List.of(
        new Step("kv_get", "call", "'Elixir.MyApp.KV'", "get", "[<<\"k\">>]", 5000),
        new Step("reverse", "call", "lists", "reverse",
            "[[1, <<\"two\">>, three, {4.5, \"five\"}, #{6 => [7]}]]", 5000),
        new Step("seq", "call", "lists", "seq", "[1, 3]", 5000),
        new Step("terms", "call", "lists", "reverse", "[[123456789012345678901234567890, "
            + "-98765432109876543210, -9223372036854775808, 9223372036854775807, -1, 0, "
            + "1.0e-300, <<1, 2:3>>, [a | b], \"\u03bbx \u2192 y\", [], {}, #{}, <<>>, "
            + "'Elixir.MyApp.KV', '\u00fcber']]", 5000),
        new Step("opaque", "call", "'Elixir.MyApp.KV'", "inbox", "[]", 5000),
        new Step("denied", "call", "os", "cmd", "[\"id\"]", 5000),
        new Step("code_shape", "call", "lists", "reverse", "[[{os, cmd, \"id\"}]]", 5000),
        new Step("guard", "call", "lists", "reverse", "[[[[[[[[1]]]]]]]]", 5000),
        new Step("bad_rpc", "call", "lists", "seq", "[a, 2]", 5000),
        new Step("cast", "cast", "'Elixir.MyApp.KV'", "put", "[from_" + who + ", 1]", 0),
        new Step("send", "send", "inbox", null, "{hello, " + who + "}", 0),
        new Step("send_denied", "send", "kernel_sup", null, "x", 0),
        new Step("timeout", "call", "timer", "sleep", "[5000]", 300));
  }

  @TempDir Path dir;
  TestBed bed;
  RealEpmd epmd;
  ErlNode e1;
  GatewayServer gw;
  TestBed.Client alice;
  Path ebin;
  final Path repo = Path.of("..").toAbsolutePath().normalize();
  final Path scripts = Path.of("src/test/resources/beamclient").toAbsolutePath();

  @BeforeEach
  void setUp() throws Exception {
    ebin = dir.resolve("ebin");
    Files.createDirectories(ebin);
    Path src = dir.resolve("Elixir.MyApp.KV.erl");
    Files.writeString(src, KV, StandardCharsets.UTF_8);
    run(List.of(Erl.require("erlc"), "-o", ebin.toString(), src.toString(),
        repo.resolve("client/src/main/erlang/beamgate_client.erl").toString()), null);
    bed = new TestBed(dir.resolve("gw"));
    bed.writePolicy(POLICY);
    epmd = RealEpmd.start();
    e1 = ErlNode.startLong(ErlNode.uniqueName("beam") + "@127.0.0.1", bed.cookie, epmd.port(),
        "-pa", ebin.toString());
    assertEquals("ok", e1.evalOk("'Elixir.MyApp.KV':start_inbox()."));
    gw = GatewayServer.start(bed.writeConfig(List.of(e1.name()), epmd.port(), "round_robin",
        ""), GatewayServer.Options.DEFAULTS.withBackendWait(Duration.ofSeconds(10)));
    alice = bed.client("alice");
  }

  @AfterEach
  void tearDown() throws Exception {
    if (gw != null) {
      gw.close();
    }
    e1.close();
    epmd.close();
  }

  /**
   * Runs a command to its end (60 s at most; past that it is killed and the test fails with
   * what it printed); {@code onLine} sees each output line as it comes.
   */
  static List<String> run(List<String> cmd, Consumer<String> onLine) throws Exception {
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true)
        .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))).start();
    List<String> lines = new java.util.concurrent.CopyOnWriteArrayList<>();
    Thread reader = new Thread(() -> {
      try (BufferedReader r = new BufferedReader(
          new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
        for (String line; (line = r.readLine()) != null; ) {
          lines.add(line);
          if (onLine != null) {
            onLine.accept(line);
          }
        }
      } catch (java.io.IOException ignored) {
        // the process ended
      }
    }, "beam-client-output");
    reader.setDaemon(true);
    reader.start();
    try {
      assertTrue(p.waitFor(60, TimeUnit.SECONDS), "hangs: " + cmd + "\n" + lines);
      reader.join(5000);
      assertEquals(0, p.exitValue(), cmd + " failed: " + String.join("\n", lines));
      return new ArrayList<>(lines);
    } finally {
      p.destroyForcibly();
    }
  }

  List<String> escript(int port, String mode, Consumer<String> onLine, String... extra)
      throws Exception {
    List<String> cmd = new ArrayList<>(List.of(Erl.require("escript"),
        scripts.resolve("beam_client_check.escript").toString(), ebin.toString(),
        Integer.toString(port), alice.cert().toString(), alice.key().toString(),
        alice.ca().toString(), mode));
    cmd.addAll(List.of(extra));
    return run(cmd, onLine);
  }

  /** "Label Result" lines as a map of label to the result's outcome (see outcome()). */
  static Map<String, String> outcomes(List<String> lines) {
    Map<String, String> m = new LinkedHashMap<>();
    for (String line : lines) {
      int sp = line.indexOf(' ');
      if (sp > 0) {
        m.put(line.substring(0, sp), outcome(line.substring(sp + 1)));
      }
    }
    return m;
  }

  /** "ok TERM", "ok", or "error CODE" for a printed {ok, T}, ok or {error, {Code, _}}. */
  static String outcome(String printed) {
    Term t;
    try {
      t = TermText.parse(printed);
    } catch (RuntimeException e) {
      return printed;
    }
    if (t instanceof Tuple tu && tu.arity() == 2 && tu.get(0).equals(Atom.of("ok"))) {
      return "ok " + TermText.format(tu.get(1));
    }
    if (t instanceof Tuple tu && tu.arity() == 2 && tu.get(0).equals(Atom.of("error"))
        && tu.get(1) instanceof Tuple why && why.arity() == 2) {
      return "error " + ((Atom) why.get(0)).name().toUpperCase(java.util.Locale.ROOT);
    }
    return TermText.format(t);
  }

  /** The Java client's outcome for the same step, in outcome()'s form. */
  static String javaOutcome(BeamgateClient c, Step s) {
    Term args = TermText.parse(s.args());
    try {
      switch (s.kind()) {
        case "call":
          return "ok " + TermText.format(c.blocking().call(unquote(s.target()), s.function(),
              ((ErlList) args).elements(), Duration.ofMillis(s.timeoutMs())));
        case "cast":
          c.blocking().cast(unquote(s.target()), s.function(), ((ErlList) args).elements());
          return "ok";
        default:
          c.blocking().send(s.target(), args);
          return "ok";
      }
    } catch (GatewayException e) {
      return "error " + e.code();
    }
  }

  static String unquote(String atom) {
    return atom.startsWith("'") ? atom.substring(1, atom.length() - 1) : atom;
  }

  BeamgateClient javaClient() throws Exception {
    return BeamgateClient.connect(ClientConfig.builder().host("localhost")
        .port(gw.listenAddress().getPort()).tls(alice.cert(), alice.key(), alice.ca())
        .build());
  }

  /** The inbox on the backend holds {@code expected} (casts run after their Ok). */
  void assertInboxHas(String expected) throws Exception {
    String inbox = "";
    for (int i = 0; i < 50 && !inbox.contains(expected); i++) {
      inbox = e1.evalOk("'Elixir.MyApp.KV':dump().");
      Thread.sleep(100);
    }
    assertTrue(inbox.contains(expected), inbox);
  }

  @Test
  void theErlangClientGetsWhatTheJavaClientGets() throws Exception {
    StringBuilder file = new StringBuilder("%% -*- coding: utf-8 -*-\n{\"principal\", ping}.\n");
    for (Step s : steps("erl")) {
      file.append(switch (s.kind()) {
        case "call" -> "{\"" + s.label() + "\", call, " + s.target() + ", " + s.function()
            + ", " + s.args() + ", " + s.timeoutMs() + "}.\n";
        case "cast" -> "{\"" + s.label() + "\", cast, " + s.target() + ", " + s.function()
            + ", " + s.args() + "}.\n";
        default -> "{\"" + s.label() + "\", send, " + s.target() + ", " + s.args() + "}.\n";
      });
    }
    Path steps = dir.resolve("steps.terms");
    Files.writeString(steps, file, StandardCharsets.UTF_8);
    List<String> lines = escript(gw.listenAddress().getPort(), "steps", null,
        steps.toString());
    Map<String, String> erl = outcomes(lines);
    assertEquals("ok " + TermText.format(Term.binary("spiffe://test/alice")),
        erl.get("principal"), String.join("\n", lines));
    try (BeamgateClient c = javaClient()) {
      for (Step s : steps("java")) {
        assertEquals(javaOutcome(c, s), erl.get(s.label()), s.label() + ": " + lines);
      }
    }
    // what the outcomes are, not only that they agree
    assertEquals("ok " + TermText.format(TermText.parse("[1, 2, 3]")), erl.get("seq"));
    assertEquals("error PERMISSION_DENIED", erl.get("denied"));
    assertTrue(erl.get("opaque").contains("$beamgate_opaque"), erl.get("opaque"));
    assertEquals("error PERMISSION_DENIED", erl.get("code_shape"));
    assertEquals("error INVALID_ARGUMENT", erl.get("guard"));
    assertTrue(erl.get("guard_message").contains("args[0]"), erl.toString());
    assertTrue(erl.get("denied_message").contains("os"), erl.toString());
    assertEquals("error BAD_RPC", erl.get("bad_rpc"));
    assertEquals("error TIMEOUT", erl.get("timeout"));
    assertEquals("ok", erl.get("done"));
    assertInboxHas("{put,from_erl,1}");
    assertInboxHas("{hello,erl}");
    assertTrue(bed.auditText().contains("\"mfa\":\"os:cmd/1\""), bed.auditText());
  }

  /** The path of elixir; fails under CI=true (CI must run this test), skips elsewhere. */
  static String requireElixir() {
    String p = Erl.find("elixir");
    if (p == null) {
      io.beamgate.node.testing.Needs.missing(
          "elixir not found on PATH: install Debian's elixir");
    }
    return p;
  }

  @Test
  void theElixirClientGetsWhatTheJavaClientGets() throws Exception {
    String elixir = requireElixir();
    List<String> lines = run(List.of(elixir, "-pa", ebin.toString(), "-r",
        repo.resolve("client/src/main/elixir/beamgate.ex").toString(),
        scripts.resolve("beam_client_check.exs").toString(),
        Integer.toString(gw.listenAddress().getPort()), alice.cert().toString(),
        alice.key().toString(), alice.ca().toString()), null);
    Map<String, String> ex = outcomes(lines);
    assertTrue(lines.contains("principal spiffe://test/alice"), lines.toString());
    assertTrue(lines.contains("done ok"), lines.toString());
    try (BeamgateClient c = javaClient()) {
      for (Step s : steps("java")) {
        assertEquals(javaOutcome(c, s), ex.get(s.label()), s.label() + ": " + lines);
      }
    }
    assertInboxHas("{put,from_elixir,1}");
    assertInboxHas("{hello,elixir}");
  }

  @Test
  void manyRequestsInFlightAreAnsweredEachToItsCallerInAnyOrder() throws Exception {
    Map<String, String> r = outcomes(escript(gw.listenAddress().getPort(), "concurrent",
        null));
    assertEquals("50", r.get("fast_right"), r.toString());
    assertEquals("ok ok", r.get("slow"), r.toString());
    assertEquals("true", r.get("slow_last"), r.toString());
  }

  @Test
  void aLostConnectionAnswersEveryRequestInFlightWithOutcomeUnknown() throws Exception {
    try (TcpRelay relay = new TcpRelay(0, gw.listenAddress().getPort())) {
      List<String> lines = escript(relay.port(), "loss", line -> {
        if (line.startsWith("inflight")) {
          relay.close();
        }
      });
      assertLostAndAnswered(lines, 10_000);
    }
  }

  @Test
  void aSilentConnectionIsGivenUpAfterTheKeepaliveTimeout() throws Exception {
    try (TcpRelay relay = new TcpRelay(0, gw.listenAddress().getPort())) {
      List<String> lines = escript(relay.port(), "keepalive", line -> {
        if (line.startsWith("inflight")) {
          relay.partition();
        }
      });
      // keepalive_timeout 600 ms: long before the calls' own 30 s
      assertLostAndAnswered(lines, 5_000);
      assertTrue(String.join("\n", lines).contains("keepalive_timeout"), lines.toString());
    }
  }

  static void assertLostAndAnswered(List<String> lines, long withinMs) {
    List<String> lost = lines.stream().filter(l -> l.startsWith("lost ")).toList();
    assertEquals(3, lost.size(), lines.toString());
    for (String l : lost) {
      assertEquals("error OUTCOME_UNKNOWN", outcome(l.substring(5)), lines.toString());
    }
    Map<String, String> r = outcomes(lines);
    assertTrue(Long.parseLong(r.get("elapsed_ms")) < withinMs, lines.toString());
    assertEquals("error CONNECTION", r.get("after_loss"), lines.toString());
  }

  @Test
  void maxFrameBytesHoldsAtTheLimitAndRefusesPastItBothWays() throws Exception {
    Map<String, String> r = outcomes(escript(gw.listenAddress().getPort(), "limits", null));
    assertEquals("error FRAME_TOO_LARGE", r.get("request_over"), r.toString());
    assertEquals("ok 1000", r.get("answer_at"), r.toString());
    assertEquals("error INVALID_ARGUMENT", r.get("pid_arg"), r.toString());
    assertEquals("error INVALID_ARGUMENT", r.get("fun_arg"), r.toString());
    assertEquals("error INVALID_ARGUMENT", r.get("bad_timeout"), r.toString());
    assertEquals("error FRAME_TOO_LARGE", r.get("answer_over"), r.toString());
    assertEquals("error CONNECTION", r.get("after_over"), r.toString());
    // the requests refused before sending never reached the gateway
    assertTrue(!bed.auditText().contains("\"mfa\":\"lists:reverse/1\""), bed.auditText());
  }
}
