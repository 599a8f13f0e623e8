package io.beamgate.gateway.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.beamgate.node.testing.ErlNode;
import io.beamgate.node.testing.RealEpmd;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * The attacks of a cluster that holds only {@code sends} rules, from the other side of a
 * bridge, against real processes that start code named in their messages: an OTP supervisor,
 * a server that applies MFAs, and Elixir's Task.Supervisor, DynamicSupervisor and Agent on a
 * node of cluster A. Each attack tries to make cluster A run {@code os:cmd("touch PROBE")};
 * none may leave its probe file, each refusal is audited by gateway A, and a caller inside a
 * request/reply exchange gets its error at once instead of waiting for a timeout.
 * Fails, never skips, under CI=true when Erlang or Elixir is missing.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class PolicyAttackBridgeTest {
  static final String ELIXIR_EBIN = "/usr/lib/elixir/lib/elixir/ebin";
  static final String POLICY_A = """
      version: 1
      rules:
        - id: cluster-b
          principals: ["dns:gw-b.test"]
          calls: ["attackkv:echo/1", "bridgekv:worker/0"]
          sends: [ts, dsup, agent, attack_sup, applier, kv_server]
          limits: {rate_per_second: 100000, concurrency: 1000, timeout_ms: 10000}
      """;
  static final String POLICY_B = """
      version: 1
      rules:
        - id: nobody
          principals: ["uri:spiffe://test/nobody"]
          calls: ["lists:reverse/1"]
      """;

  @TempDir static Path dir;
  TestBed bedA;
  TestBed bedB;
  RealEpmd epmdA;
  RealEpmd epmdB;
  ErlNode a1;
  ErlNode b1;
  GatewayServer gwA;
  GatewayServer gwB;
  String ca;
  final List<Path> probes = new ArrayList<>();

  @BeforeAll
  void setUp() throws Exception {
    requireElixir();
    bedA = new TestBed(dir.resolve("a"), null, "gw-a.test");
    bedB = new TestBed(dir.resolve("b"), bedA, "gw-b.test");
    bedA.writePolicy(POLICY_A);
    bedB.writePolicy(POLICY_B);
    epmdA = RealEpmd.start();
    epmdB = RealEpmd.start();
    a1 = ErlNode.startLong(ErlNode.uniqueName("a1") + "@127.0.0.1", bedA.cookie, epmdA.port(),
        "-pa", ELIXIR_EBIN);
    b1 = ErlNode.startLong(ErlNode.uniqueName("b1") + "@127.0.0.1", bedB.cookie, epmdB.port(),
        "-pa", ELIXIR_EBIN);
    for (String mod : List.of("attackkv", "bridgekv")) {
      Path src = Path.of(getClass().getResource("/" + mod + ".erl").toURI());
      a1.evalOk("{ok, " + mod + ", Bin} = compile:file(\"" + src + "\", [binary,"
          + " return_errors]), {module, " + mod + "} = code:load_binary(" + mod + ", \""
          + mod + ".erl\", Bin).");
    }
    assertTrue(a1.evalOk("attackkv:start(true).").startsWith("{ok,"));
    a1.evalOk("bridgekv:start().");
    // (Elixir switches standard_io to binaries; the eval loop reads lists)
    b1.evalOk("{ok, _} = application:ensure_all_started(elixir),"
        + " io:setopts(standard_io, [list]).");
    ca = ErlNode.uniqueName("clusterA") + "@127.0.0.1";
    gwA = GatewayServer.start(bedA.writeConfig(List.of(a1.name()), epmdA.port(),
        "round_robin", ""), GatewayServer.Options.DEFAULTS);
    gwB = GatewayServer.start(bedB.writeConfig(List.of(b1.name()), epmdB.port(), "round_robin",
        "bridge: {keepalive_ms: 300}\n"
            + "bridges:\n"
            + "  - name: a\n"
            + "    connect: {host: 127.0.0.1, port: " + gwA.listenAddress().getPort() + "}\n"
            + "    expect: \"dns:gw-a.test\"\n"
            + "    node_name: " + ca + "\n"
            + "    reconnect_min_ms: 50\n"
            + "    reconnect_max_ms: 300\n"), GatewayServer.Options.DEFAULTS);
    long end = System.nanoTime() + Duration.ofSeconds(15).toNanos();
    while (!Boolean.TRUE.equals(gwB.bridgesUp().get("a")) && System.nanoTime() < end) {
      Thread.sleep(20);
    }
    assertTrue(gwB.bridgesUp().get("a"), "bridge up");
  }

  static void requireElixir() {
    if (!Files.isDirectory(Path.of(ELIXIR_EBIN))) {
      io.beamgate.node.testing.Needs.missing("Elixir is not installed (" + ELIXIR_EBIN
          + "); install the elixir package");
    }
  }

  @AfterAll
  void tearDown() throws Exception {
    for (GatewayServer g : new GatewayServer[] {gwB, gwA}) {
      if (g != null) {
        g.close();
      }
    }
    for (ErlNode n : new ErlNode[] {a1, b1}) {
      if (n != null) {
        n.close();
      }
    }
    if (epmdA != null) {
      epmdA.close();
    }
    if (epmdB != null) {
      epmdB.close();
    }
  }

  /** A fresh probe path, and the os:cmd that would create it, as an Erlang string. */
  String touch() {
    Path p = dir.resolve("probe-" + probes.size());
    probes.add(p);
    return "\"touch " + p + "\"";
  }

  /**
   * Runs {@code expr} on b1 (CA bound to cluster A's name) in a process of its own, and
   * returns how it ended, printed: {@code Ms ms: {value, V}} or {@code Ms ms: {Class, Reason}}
   * with the milliseconds it took (cut to 250 characters).
   */
  String attempt(String expr) throws Exception {
    return b1.evalOk("CA = '" + ca + "', Self = self(), T0 = erlang:monotonic_time(millisecond),"
        + " spawn(fun() -> R = try {value, " + expr + "} catch C:E -> {C, E} end,"
        + " Self ! {attempt, R} end),"
        + " R = receive {attempt, X} -> X after 15000 -> hung end,"
        + " Ms = erlang:monotonic_time(millisecond) - T0,"
        + " list_to_atom(lists:sublist(lists:flatten(io_lib:format(\"~p ms: ~0p\", [Ms, R])),"
        + " 250)).");
  }

  /** The attempt ended with beamgate's refusal, at once (well before any call timeout). */
  static void refusedAtOnce(String r) {
    assertTrue(r.contains("beamgate,permission_denied"), r);
    int ms = Integer.parseInt(r.replaceAll("^'?(\\d+) ms: .*", "$1"));
    assertTrue(ms < 3000, "the refusal took " + ms + " ms: " + r);
  }

  @Test
  void taskSupervisorDynamicSupervisorAndSupervisorDoNotStartCode() throws Exception {
    refusedAtOnce(attempt("'Elixir.Task':await('Elixir.Task.Supervisor':async({ts, CA}, os,"
        + " cmd, [" + touch() + "]), 5000)"));
    refusedAtOnce(attempt("'Elixir.Task.Supervisor':async_nolink({ts, CA}, os, cmd, ["
        + touch() + "])"));
    refusedAtOnce(attempt("'Elixir.Task.Supervisor':start_child({ts, CA}, os, cmd, ["
        + touch() + "])"));
    refusedAtOnce(attempt("supervisor:start_child({attack_sup, CA}, #{id => x, start =>"
        + " {os, cmd, [" + touch() + "]}})"));
    refusedAtOnce(attempt("'Elixir.DynamicSupervisor':start_child({dsup, CA}, #{id => x,"
        + " start => {os, cmd, [" + touch() + "]}})"));
    // the raw message those functions send, with no monitor: dropped, and audited
    attempt("{attack_sup, CA} ! {'$gen_call', {self(), make_ref()}, {start_child, #{id => y,"
        + " start => {os, cmd, [" + touch() + "]}}}}");
    noProbeAppears();
    BridgeLinkTest.awaitAudit(bedA, "start_child request");
    BridgeLinkTest.awaitAudit(bedA, "start_task request");
  }

  @Test
  void agentsAndApplyingServersDoNotRunMfasHiddenInData() throws Exception {
    refusedAtOnce(attempt("'Elixir.Agent':get({agent, CA}, os, cmd, [" + touch() + "])"));
    refusedAtOnce(attempt("gen_server:call({applier, CA}, {apply, [ok, [{os, cmd, ["
        + touch() + "]}]]})"));
    refusedAtOnce(attempt("gen_server:call({applier, CA}, {apply, #{k => {x, {os, cmd, ["
        + touch() + "]}}}})"));
    refusedAtOnce(attempt("gen_server:call({applier, CA}, {apply, {erlang, apply, [os, cmd, ["
        + touch() + "]]}})"));
    attempt("gen_server:cast({applier, CA}, {apply, [{os, cmd, [" + touch() + "]}]})");
    attempt("{applier, CA} ! {apply, [{os, cmd, [" + touch() + "]}]}");
    // MFAs hidden in the arguments of an allowed call
    String call = attempt("erpc:call(CA, attackkv, echo, [[{os, cmd, [" + touch() + "]}]])");
    assertTrue(call.contains("beamgate,permission_denied"), call);
    // what is not code passes: the same server answers ordinary requests
    assertTrue(attempt("gen_server:call({applier, CA}, {apply, [{lists, reverse, [[1, 2]]}]})")
        .contains("{value,[[2,1]]}"));
    noProbeAppears();
  }

  @Test
  void systemMessagesAndForgedExitsAreRefused() throws Exception {
    Path log = dir.resolve("sys-log");
    refusedAtOnce(attempt("sys:log_to_file({kv_server, CA}, \"" + log + "\")"));
    refusedAtOnce(attempt("sys:suspend({kv_server, CA}, 2000)"));
    refusedAtOnce(attempt("sys:replace_state({kv_server, CA}, #{}, 2000)"));
    attempt("{kv_server, CA} ! {'EXIT', self(), kill}");
    // the server still answers: it was neither suspended nor stopped
    assertTrue(attempt("gen_server:call({kv_server, CA}, {get, k}, 3000)")
        .contains("{value,undefined}"));
    Thread.sleep(300);
    assertFalse(Files.exists(log), "sys:log_to_file created its file");
    BridgeLinkTest.awaitAudit(bedA, "OTP system message");
  }

  @Test
  void messagesToAPidGivenOutPassTheSameCheck() throws Exception {
    // worker/0 returns a pid that echoes {From, Msg} as {worker, Msg}
    String r = b1.evalOk("CA = '" + ca + "', W = erpc:call(CA, bridgekv, worker, []),"
        + " W ! {self(), hello}, A = receive {worker, _} = M1 -> M1 after 5000 -> none end,"
        + " W ! {self(), {os, cmd, [" + touch() + "]}},"
        + " B = receive {worker, _} = M2 -> M2 after 1000 -> none end, {A, B}.");
    assertEquals("{{worker,hello},none}", r);
    BridgeLinkTest.awaitAudit(bedA, "\"send:pid\"");
    noProbeAppears();
  }

  void noProbeAppears() throws InterruptedException {
    Thread.sleep(500);
    for (Path p : probes) {
      assertFalse(Files.exists(p), "cluster A ran os:cmd: " + p + " exists");
    }
  }
}
