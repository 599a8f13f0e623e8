package io.beamgate.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.beamgate.gateway.cli.CallCommand;
import io.beamgate.gateway.cli.Main;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code beamgate call}, run in-process against a scripted gateway: output and exit codes. */
class CallCommandTest {
  @TempDir static Path dir;
  static TestPki pki;
  static ScriptedGateway gw;

  record Run(int exit, String out, String err) {
    /** Lines on stderr. */
    int errLines() {
      return err.isEmpty() ? 0 : err.split("\n").length;
    }
  }

  @BeforeAll
  static void start() throws Exception {
    pki = new TestPki(dir);
    gw = ScriptedGateway.start(pki, ScriptedGateway.STANDARD);
  }

  @AfterAll
  static void stop() {
    if (gw != null) {
      gw.close();
    }
  }

  static Run run(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    CommandLine cl = Main.commandLine();
    cl.setOut(new PrintWriter(out, true));
    cl.setErr(new PrintWriter(err, true));
    int code = cl.execute(args);
    return new Run(code, out.toString(), err.toString());
  }

  /** {@code beamgate call} to the scripted gateway with good credentials, then {@code more}. */
  static Run call(String... more) {
    return callWith(pki.ca, gw.port(), more);
  }

  static Run callWith(Path ca, int port, String... more) {
    List<String> args = new ArrayList<>(List.of("call", "--gateway", "127.0.0.1:" + port,
        "--cert", pki.clientCert.toString(), "--key", pki.clientKey.toString(),
        "--ca", ca.toString()));
    args.addAll(List.of(more));
    return run(args.toArray(String[]::new));
  }

  private static void assertExit(int expected, Run r, String errContains) {
    assertEquals(expected, r.exit(), r.toString());
    assertEquals(1, r.errLines(), "one line on stderr: " + r.err());
    assertTrue(r.err().contains(errContains), r.err());
  }

  @Test
  void printsTheResultInErlangSyntax() {
    Run r = call("test", "echo", "[{a, <<\"k\">>, [1, 2.5, \"str\"], #{x => [y | z]}}]");
    assertEquals(0, r.exit(), r.toString());
    assertEquals("{a, <<\"k\">>, [1, 2.5, \"str\"], #{x => [y | z]}}\n", r.out());
    assertEquals("", r.err());
  }

  @Test
  void elixirSyntaxInAndOut() {
    // an Elixir alias as MODULE turns Elixir syntax on: "text" is a binary, 'cl' a charlist
    Run r = call("--syntax", "elixir", ":test", ":echo",
        "[%{\"greeting\" => [a: 1, b: 'cl', c: :d, e: MyApp.KV, f: nil]}]");
    assertEquals(0, r.exit(), r.toString());
    assertEquals("%{\"greeting\" => [a: 1, b: 'cl', c: :d, e: MyApp.KV, f: nil]}\n", r.out());
    // the same term in Erlang syntax
    Run e = call("test", "echo", "[#{<<\"greeting\">> => [{a, 1}]}]");
    assertEquals("#{<<\"greeting\">> => [{a, 1}]}\n", e.out());
    // an alias as MODULE names 'Elixir.MyApp.KV' (the scripted gateway answers badrpc undef)
    Run alias = call("MyApp.KV", "get", "[\"k\"]");
    assertTrue(alias.out().contains("Elixir.MyApp.KV"), alias.toString());
    Run interp = call("--syntax", "elixir", ":test", ":echo", "[\"#{x}\"]");
    assertEquals(Main.EXIT_USAGE, interp.exit(), interp.toString());
    assertTrue(interp.err().contains("interpolation"), interp.err());
    Run bad = call("--syntax", "cobol", "test", "echo");
    assertEquals(Main.EXIT_USAGE, bad.exit(), bad.toString());
    assertTrue(bad.err().contains("--syntax cobol"), bad.err());
  }

  @Test
  void ping() {
    Run r = call("--ping");
    assertEquals(0, r.exit(), r.toString());
    assertEquals("pong protocol=1 server=scripted/0 principal=" + TestPki.CLIENT_URI + "\n",
        r.out());
  }

  @Test
  void exitCodePerFailure() {
    assertExit(CallCommand.EXIT_DENIED, call("test", "fail_permission_denied"),
        "denied: PERMISSION_DENIED: scripted PERMISSION_DENIED (rule ops-only;");
    assertExit(CallCommand.EXIT_INVALID, call("test", "fail_invalid_argument", "[1]"),
        "at args[0]{1}");
    assertExit(CallCommand.EXIT_TIMEOUT, call("--timeout", "200", "test", "hang"),
        "timeout: TIMEOUT: no answer from the gateway within 200 ms");
    assertExit(CallCommand.EXIT_TIMEOUT, call("test", "fail_timeout"), "timeout:");
    assertExit(CallCommand.EXIT_UNAVAILABLE, call("test", "fail_unavailable"),
        "unavailable: UNAVAILABLE");
    assertExit(CallCommand.EXIT_UNAVAILABLE, call("test", "fail_outcome_unknown"),
        "unavailable: OUTCOME_UNKNOWN");
    assertExit(CallCommand.EXIT_UNAVAILABLE, call("test", "drop"),
        "may or may not have run");
    assertExit(CallCommand.EXIT_EXHAUSTED, call("test", "fail_resource_exhausted"),
        "reason rate limit 10/s");
    assertExit(CallCommand.EXIT_EXHAUSTED,
        call("--max-frame-bytes", "1024", "test", "big", "[5000]"), "FRAME_TOO_LARGE");
    assertExit(CallCommand.EXIT_INTERNAL, call("test", "fail_internal"), "internal error:");
    assertExit(CallCommand.EXIT_INTERNAL, call("test", "garbage"), "PROTOCOL_ERROR");
  }

  @Test
  void badRpcPrintsTheErlangTermOnStdout() {
    Run r = call("nosuch", "fn", "[]");
    assertExit(CallCommand.EXIT_BADRPC, r, "bad rpc: BAD_RPC: undefined function");
    assertEquals("{badrpc, {'EXIT', {undef, [{nosuch, fn, [], []}]}}}\n", r.out());
  }

  @Test
  void connectionAndTlsFailures() throws Exception {
    assertExit(CallCommand.EXIT_CONNECTION,
        callWith(pki.ca, BeamgateClientTest.freePort(), "test", "echo", "[1]"),
        "connection refused");
    assertExit(CallCommand.EXIT_CONNECTION, callWith(pki.foreignCa, gw.port(), "--ping"),
        "TLS handshake with the gateway");
    Run refused = run("call", "--gateway", "127.0.0.1:" + gw.port(),
        "--cert", pki.foreignClientCert.toString(), "--key", pki.foreignClientKey.toString(),
        "--ca", pki.ca.toString(), "test", "echo", "[1]");
    assertExit(CallCommand.EXIT_CONNECTION, refused, "refused the TLS session");
    Run noKey = run("call", "--gateway", "127.0.0.1:" + gw.port(),
        "--cert", pki.clientCert.toString(), "--key", dir.resolve("nope.key").toString(),
        "--ca", pki.ca.toString(), "--ping");
    assertExit(CallCommand.EXIT_CONNECTION, noKey, "nope.key");
  }

  @Test
  void badUsageExits64() {
    assertEquals(Main.EXIT_USAGE, run("call", "test", "echo").exit(), "no --gateway");
    Run notList = call("test", "echo", "{1, 2}");
    assertEquals(Main.EXIT_USAGE, notList.exit());
    assertTrue(notList.err().contains("must be a proper list"), notList.err());
    Run unparsable = call("test", "echo", "[1,");
    assertEquals(Main.EXIT_USAGE, unparsable.exit());
    assertTrue(unparsable.err().contains("ARGS:"), unparsable.err());
    assertEquals(Main.EXIT_USAGE, call("test").exit(), "no FUNCTION");
    assertEquals(Main.EXIT_USAGE, call("--ping", "test", "echo").exit());
    Run badAddress = run("call", "--gateway", "nohostport", "--cert", "c", "--key", "k",
        "--ca", "a", "--ping");
    assertEquals(Main.EXIT_USAGE, badAddress.exit());
    assertTrue(badAddress.err().contains("expected: HOST:PORT"), badAddress.err());
    assertEquals(Main.EXIT_USAGE, call("--timeout", "0", "test", "echo").exit());
  }

  @Test
  void helpListsTheExitCodes() {
    Run r = run("call", "--help");
    assertEquals(0, r.exit());
    for (String code : List.of("64", "65", "66", "67", "68", "69", "70", "71")) {
      assertTrue(r.out().contains("  " + code + "   "), code + " in:\n" + r.out());
    }
  }

  @Test
  void everyCodeHasAnExit() {
    for (GatewayException.Code c : GatewayException.Code.values()) {
      int exit = CallCommand.exitCode(c);
      assertTrue(exit == 1 || (exit >= 65 && exit <= 71), c + " -> " + exit);
    }
  }
}
