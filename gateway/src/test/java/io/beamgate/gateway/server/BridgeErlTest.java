package io.beamgate.gateway.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.beamgate.node.testing.ErlNode;
import io.beamgate.node.testing.RealEpmd;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two real erl clusters (two nodes each, their own EPMD and cookie) joined by two gateways:
 * cluster A appears in cluster B as one node, {@code clusterA_...@127.0.0.1}, run by gateway B.
 * Unchanged Erlang code on B's nodes calls, casts, sends, monitors and links across; what A's
 * policy refuses comes back as an Erlang error; a cut bridge is a node going down. Fails, never
 * skips, under CI=true when Erlang is missing.
 */
class BridgeErlTest {
  static final String POLICY_A = """
      version: 1
      atom_budget: 60
      atom_budget_per_principal: 60
      rules:
        - id: cluster-b
          principals: ["dns:gw-b.test"]
          calls: ["bridgekv:echo/1", "bridgekv:whoami/0", "bridgekv:worker/0",
                  "bridgekv:watch/1", "bridgekv:slow/1", "bridgekv:deep/1"]
          sends: [kv_server]
          limits: {rate_per_second: 100000, concurrency: 1000, timeout_ms: 10000}
      """;
  static final String POLICY_B = """
      version: 1
      atom_budget: 100000
      rules:
        - id: nobody
          principals: ["uri:spiffe://test/nobody"]
          calls: ["erlang:node/0"]
      """;

  @TempDir Path dir;
  TestBed bedA;
  TestBed bedB;
  RealEpmd epmdA;
  RealEpmd epmdB;
  ErlNode a1;
  ErlNode a2;
  ErlNode b1;
  ErlNode b2;
  GatewayServer gwA;
  GatewayServer gwB;
  io.beamgate.gateway.config.GatewayConfig cfgA;
  io.beamgate.gateway.config.GatewayConfig cfgB;
  String ca; // how cluster A is named in cluster B

  @BeforeEach
  void setUp() throws Exception {
    bedA = new TestBed(dir.resolve("a"), null, "gw-a.test");
    bedB = new TestBed(dir.resolve("b"), bedA, "gw-b.test");
    bedA.writePolicy(POLICY_A);
    bedB.writePolicy(POLICY_B);
    epmdA = RealEpmd.start();
    epmdB = RealEpmd.start();
    a1 = ErlNode.startLong(ErlNode.uniqueName("a1") + "@127.0.0.1", bedA.cookie, epmdA.port());
    a2 = ErlNode.startLong(ErlNode.uniqueName("a2") + "@127.0.0.1", bedA.cookie, epmdA.port());
    b1 = ErlNode.startLong(ErlNode.uniqueName("b1") + "@127.0.0.1", bedB.cookie, epmdB.port());
    b2 = ErlNode.startLong(ErlNode.uniqueName("b2") + "@127.0.0.1", bedB.cookie, epmdB.port());
    Path src = Path.of(getClass().getResource("/bridgekv.erl").toURI());
    for (ErlNode n : List.of(a1, a2)) {
      n.evalOk("{ok, bridgekv, Bin} = compile:file(\"" + src + "\", [binary, return_errors]),"
          + " {module, bridgekv} = code:load_binary(bridgekv, \"bridgekv.erl\", Bin).");
    }
    a2.evalOk("bridgekv:start()."); // on the second backend: bridge.names routes to it
    ca = ErlNode.uniqueName("clusterA") + "@127.0.0.1";
    cfgA = bedA.writeConfig(List.of(a1.name(), a2.name()), epmdA.port(), "round_robin",
        "bridge: {names: {kv_server: " + a2.name() + "}}\n");
    gwA = GatewayServer.start(cfgA, GatewayServer.Options.DEFAULTS);
    cfgB = bedB.writeConfig(List.of(b2.name()), epmdB.port(), "round_robin",
        "bridge: {keepalive_ms: 300}\n"
            + "bridges:\n"
            + "  - name: a\n"
            + "    connect: {host: 127.0.0.1, port: " + gwA.listenAddress().getPort() + "}\n"
            + "    expect: \"dns:gw-a.test\"\n"
            + "    node_name: " + ca + "\n"
            + "    reconnect_min_ms: 50\n"
            + "    reconnect_max_ms: 300\n");
    gwB = GatewayServer.start(cfgB, GatewayServer.Options.DEFAULTS);
    awaitBridge(true);
  }

  @AfterEach
  void tearDown() throws Exception {
    for (GatewayServer g : new GatewayServer[] {gwB, gwA}) {
      if (g != null) {
        g.close();
      }
    }
    for (ErlNode n : new ErlNode[] {a1, a2, b1, b2}) {
      if (n != null) {
        n.close();
      }
    }
    epmdA.close();
    epmdB.close();
  }

  void awaitBridge(boolean up) throws InterruptedException {
    long end = System.nanoTime() + Duration.ofSeconds(15).toNanos();
    while (System.nanoTime() < end) {
      if (Boolean.valueOf(up).equals(gwB.bridgesUp().get("a"))) {
        return;
      }
      Thread.sleep(20);
    }
    throw new AssertionError("bridge a not " + (up ? "up" : "down") + ": " + gwB.status());
  }

  /** As {@link #onB}, the value printed with ~p (binaries as text) into an atom. */
  String textOnB(String expr) throws Exception {
    return onB("T = (" + expr + "), list_to_atom(lists:sublist(lists:flatten("
        + "io_lib:format(\"~0p\", [T])), 250)).");
  }

  /** Evaluates on b1 with {@code CA} bound to cluster A's node name there. */
  String onB(String exprs) throws Exception {
    return b1.evalOk("CA = '" + ca + "', " + exprs);
  }

  @Test
  void callsCastsSendsMonitorsAndLinksCross() throws Exception {
    // erpc and rpc, with terms of every kind; a pid makes the round trip and is itself again
    assertEquals("true", onB("X = {1, <<\"two\">>, [three, -4.5 | tail], #{k => \"v\"},"
        + " 123456789012345678901234567890, <<1:3>>}, erpc:call(CA, bridgekv, echo, [X]) =:= X."));
    assertEquals("x", onB("rpc:call(CA, bridgekv, echo, [x])."));
    assertEquals("blocked", onB("rpc:block_call(CA, bridgekv, echo, [blocked])."));
    // a caller that gives up gets erpc's timeout, and the late answer disturbs nothing
    assertEquals("timeout", onB("try erpc:call(CA, bridgekv, slow, [1500], 300)"
        + " catch error:{erpc, timeout} -> timeout end."));
    Thread.sleep(1500);
    assertEquals("later", onB("erpc:call(CA, bridgekv, echo, [later])."));
    assertEquals("ok", onB("true = rpc:cast(CA, bridgekv, echo, [cast]), ok."));
    assertEquals("true", onB("erpc:call(CA, bridgekv, echo, [self()]) =:= self()."));
    String nodes = onB("lists:usort([erpc:call(CA, bridgekv, whoami, []) || _ <- lists:seq(1,"
        + " 6)]).");
    assertTrue(nodes.contains(a1.name()) && nodes.contains(a2.name()), nodes);
    // the real cluster A nodes never appear in cluster B: only the stand-in does
    assertEquals("true", onB("lists:member(CA, nodes(hidden)) andalso not lists:member('"
        + a1.name() + "', nodes(connected))."));
    // cluster B's global name service is not held up by the stand-in node
    assertEquals("{ok,yes}", onB("Self = self(), spawn(fun() -> S = global:sync(),"
        + " Self ! {g, S, global:register_name(bridge_test_name, Self)} end),"
        + " receive {g, S, R} -> {S, R} after 8000 -> global_hangs end."));
    // gen_server call (OTP 25: alias-tagged From) and cast by registered name
    assertEquals("ok", onB("gen_server:call({kv_server, CA}, {put, k, 1})."));
    assertEquals("1", onB("gen_server:call({kv_server, CA}, {get, k})."));
    assertEquals("2", onB("gen_server:cast({kv_server, CA}, {put, k2, 2}),"
        + " gen_server:call({kv_server, CA}, {get, k2})."));
    // a send by name whose reply goes to the sender's pid
    assertEquals("{pong,'" + a2.name() + "'}", onB("{kv_server, CA} ! {ping, self()},"
        + " receive {pong, _} = P -> P after 5000 -> timeout end."));
    // a pid that came back from A: messages both ways, then a link that reports its exit
    assertEquals("{{worker,hello},{exit,boom}}", onB("Self = self(), spawn(fun() ->"
        + " process_flag(trap_exit, true), W = erpc:call(CA, bridgekv, worker, []),"
        + " W ! {self(), hello}, R1 = receive {worker, _} = M -> M after 5000 -> timeout end,"
        + " link(W), W ! {die, boom},"
        + " R2 = receive {'EXIT', W, Why} -> {exit, Why} after 5000 -> timeout end,"
        + " Self ! {res, {R1, R2}} end), receive {res, R} -> R after 12000 -> timeout end."));
    // a monitor by name: DOWN when the process stops
    assertEquals("normal", onB("M = monitor(process, {kv_server, CA}),"
        + " ok = gen_server:call({kv_server, CA}, stop),"
        + " receive {'DOWN', M, process, {kv_server, CA}, Why} -> Why after 5000 -> timeout"
        + " end."));
    // A's processes can watch B's: the stand-in of a B process that exits reports its reason
    onB("P = spawn(fun() -> receive go -> exit(gone) end end),"
        + " [erpc:call(CA, bridgekv, watch, [P]) || _ <- [1, 2]], P ! go, ok.");
    awaitTrue(() -> a1.evalOk("bridgekv:last_down().").equals("gone")
        && a2.evalOk("bridgekv:last_down().").equals("gone"));
  }

  @Test
  void whatThePolicyRefusesComesBackAsErlangErrorsAndNothingRuns() throws Exception {
    Path probe = dir.resolve("probe-call");
    Path spawnProbe = dir.resolve("probe-spawn");
    String err = textOnB("try erpc:call(CA, bridgekv, probe, [\"" + probe + "\"])"
        + " catch error:{exception, R, _} -> R end");
    assertTrue(err.startsWith("'{beamgate,permission_denied,<<\"no rule allows"
        + " bridgekv:probe/1 for gw-b.test"), err);
    String rpc = textOnB("rpc:call(CA, os, cmd, [\"touch " + probe + "\"])");
    assertTrue(rpc.startsWith("'{badrpc,{\\'EXIT\\',{{beamgate,permission_denied,<<\"module os"),
        rpc);
    String block = textOnB("rpc:block_call(CA, bridgekv, probe, [\"" + probe + "\"], 5000)");
    assertTrue(block.startsWith("'{badrpc,{\\'EXIT\\',{{beamgate,permission_denied,"), block);
    onB("erlang:spawn(CA, file, write_file, [\"" + spawnProbe + "\", <<\"x\">>]), ok.");
    // a fun smuggled in the arguments
    String fun = textOnB("try erpc:call(CA, bridgekv, echo, [{ok, fun() -> ok end}])"
        + " catch error:{exception, R, _} -> R end");
    assertTrue(fun.startsWith("'{beamgate,invalid_argument,<<\"fun in arguments"), fun);
    // a gen_server call to a name the policy does not list ends at once, naming the refusal
    String gs = textOnB("try gen_server:call({code_server, CA}, which, 5000)"
        + " catch exit:{R, _} -> R end");
    assertTrue(gs.startsWith("'{beamgate,permission_denied,<<\"the process"), gs);
    String gs2 = textOnB("try gen_server:call({other_server, CA}, x, 5000)"
        + " catch exit:{R, _} -> R end");
    assertTrue(gs2.startsWith("'{beamgate,permission_denied,<<\"no rule allows sends to"
        + " other_server"), gs2);
    Thread.sleep(300);
    assertFalse(Files.exists(probe), "a refused call ran");
    assertFalse(Files.exists(spawnProbe), "a refused spawn ran");
    BridgeLinkTest.awaitAudit(bedA, "bridgekv:probe/1");
    BridgeLinkTest.awaitAudit(bedB, "\"spawn:file:write_file/2\"");
    // a flood of fresh atoms: cluster A's atom table grows by at most the budget (60)
    int before1 = Integer.parseInt(a1.evalOk("erlang:system_info(atom_count)."));
    int before2 = Integer.parseInt(a2.evalOk("erlang:system_info(atom_count)."));
    String flood = onB("lists:foldl(fun(I, {Ok, Refused}) ->"
        + " A = list_to_atom(\"flood_\" ++ integer_to_list(I)),"
        + " try erpc:call(CA, bridgekv, echo, [A]) of A -> {Ok + 1, Refused}"
        + " catch error:{exception, {beamgate, invalid_argument, _}, _} -> {Ok, Refused + 1}"
        + " end end, {0, 0}, lists:seq(1, 300)).");
    int after1 = Integer.parseInt(a1.evalOk("erlang:system_info(atom_count)."));
    int after2 = Integer.parseInt(a2.evalOk("erlang:system_info(atom_count)."));
    assertTrue((after1 - before1) + (after2 - before2) <= 2 * 60 + 10,
        "atoms grew by " + (after1 - before1) + " and " + (after2 - before2) + "; " + flood);
    assertTrue(flood.matches("\\{\\d+,\\d+\\}") && !flood.endsWith(",0}"), flood);
    for (ErlNode a : List.of(a1, a2)) {
      assertEquals("badarg", a.evalOk("try list_to_existing_atom(\"flood_300\")"
          + " catch error:badarg -> badarg end."));
    }
  }

  @Test
  void aCutBridgeIsANodeDownAndRecovers() throws Exception {
    // on b1: a watcher that links to a pid from A and monitors kv_server and the node
    onB("Self = self(), register(watcher, spawn(fun() -> process_flag(trap_exit, true),"
        + " W = erpc:call(CA, bridgekv, worker, []), link(W),"
        + " M = monitor(process, {kv_server, CA}), monitor_node(CA, true),"
        + " Self ! ready,"
        + " Got = [receive {'EXIT', W, R1} -> {exit, R1} after 10000 -> no_exit end,"
        + "        receive {'DOWN', M, process, _, R2} -> {down, R2} after 10000 -> no_down end,"
        + "        receive {nodedown, CA} -> nodedown after 10000 -> no_nodedown end],"
        + " receive {From, report} -> From ! {report, Got} end end)),"
        + " receive ready -> ok after 10000 -> timeout end.");
    // and on A: a process watching a B pid, to learn that the bridge went away
    onB("P = spawn(fun() -> receive never -> ok end end),"
        + " watching = erpc:call(CA, bridgekv, watch, [P]),"
        + " watching = erpc:call(CA, bridgekv, watch, [P]), ok.");
    gwA.close(); // the other cluster's gateway goes away
    gwA = null;
    awaitBridge(false);
    assertEquals("[{exit,noconnection},{down,noconnection},nodedown]",
        onB("watcher ! {self(), report}, receive {report, G} -> G after 15000 -> timeout end."));
    awaitTrue(() -> a1.evalOk("bridgekv:last_down().").equals("noconnection")
        || a2.evalOk("bridgekv:last_down().").equals("noconnection"));
    // while it is down, cluster A is down for cluster B
    assertEquals("pang", onB("net_adm:ping(CA)."));
    assertEquals("{badrpc,nodedown}", onB("rpc:call(CA, bridgekv, echo, [x], 2000)."));
    // back: the same calls work again, and nodeup is seen
    gwA = GatewayServer.start(cfgA, GatewayServer.Options.DEFAULTS);
    awaitBridge(true);
    assertEquals("{back,true}", onB("ok = net_kernel:monitor_nodes(true, [{node_type, all}]),"
        + " R = erpc:call(CA, bridgekv, echo, [back]),"
        + " U = receive {nodeup, CA, _} -> true after 5000 -> false end,"
        + " net_kernel:monitor_nodes(false, [{node_type, all}]), {R, U}."));
    // gateway B restarts too: its node leaves and comes back
    gwB.close();
    gwB = GatewayServer.start(cfgB, GatewayServer.Options.DEFAULTS);
    awaitBridge(true);
    assertEquals("again", onB("erpc:call(CA, bridgekv, echo, [again])."));
  }

  @Test
  void erlCallAndSbcastReachTheOtherClusterWithoutBlocking() throws Exception {
    // erl_call's legacy rex request to the node that stands for cluster A
    java.util.List<String> cmd = java.util.List.of(erlCall(), "-name", ca, "-c", bedB.cookie,
        "-timeout", "10", "-a", "bridgekv echo [hello]");
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
    pb.environment().put("ERL_EPMD_PORT", Integer.toString(epmdB.port()));
    Process p = pb.start();
    try {
      assertTrue(p.waitFor(20, java.util.concurrent.TimeUnit.SECONDS), "erl_call hangs");
      String out = new String(p.getInputStream().readAllBytes()).trim();
      assertEquals("hello", out, "erl_call printed: " + out);
    } finally {
      p.destroyForcibly();
    }
    // rpc:sbcast answers at once, and the message reaches kv_server in cluster A
    assertEquals("{true,pong}", onB("R = rpc:sbcast([CA], kv_server, {ping, self()}),"
        + " P = receive {pong, _} -> pong after 5000 -> timeout end, {R =:= {[CA], []}, P}."));
  }

  @Test
  void deepTermsAndBigBignumsCrossBothWays() throws Exception {
    // a million-deep term takes the gateways' I/O threads a while (decode, translate, guard,
    // encode): with this class's 300 ms keepalive the link would be judged dead meanwhile
    gwB.close();
    gwB = GatewayServer.start(bedB.writeConfig(List.of(b2.name()), epmdB.port(), "round_robin",
        "bridges:\n"
            + "  - name: a\n"
            + "    connect: {host: 127.0.0.1, port: " + gwA.listenAddress().getPort() + "}\n"
            + "    expect: \"dns:gw-a.test\"\n"
            + "    node_name: " + ca + "\n"), GatewayServer.Options.DEFAULTS);
    awaitBridge(true);
    long t0 = System.nanoTime();
    assertEquals("{ok,{true,true,true}}", b1.eval("CA = '" + ca + "',"
        + " L = lists:foldl(fun(_, A) -> [A] end, [], lists:seq(1, 1000000)),"
        + " W = erpc:call(CA, bridgekv, worker, []), W ! {self(), L},"
        + " R = receive {worker, X} -> X =:= L after 30000 -> timeout end,"
        + " B = 1 bsl 100000, E = erpc:call(CA, bridgekv, echo, [B], 30000) =:= B,"
        + " D = erpc:call(CA, bridgekv, deep, [1000000], 30000) =:= L, {R, E, D}.",
        Duration.ofSeconds(60)));
    System.out.println("deep terms over the bridge: " + (System.nanoTime() - t0) / 1_000_000
        + " ms for a million-deep iolist each way, a 100,000-bit bignum and a deep result");
    // the link is still up: nothing was cut
    assertEquals("x", onB("erpc:call(CA, bridgekv, echo, [x])."));
  }

  /** The erl_call binary of the installed OTP. */
  static String erlCall() throws Exception {
    for (String c : new String[] {"/usr/bin/erl_call", "/usr/lib/erlang/bin/erl_call"}) {
      if (Files.isExecutable(Path.of(c))) {
        return c;
      }
    }
    try (var s = Files.list(Path.of("/usr/lib/erlang/lib"))) {
      return s.filter(d -> d.getFileName().toString().startsWith("erl_interface"))
          .map(d -> d.resolve("bin/erl_call")).filter(Files::isExecutable).findFirst()
          .orElseThrow(() -> new AssertionError("erl_call not found (erlang-nox)"))
          .toString();
    }
  }

  interface Check {
    boolean ok() throws Exception;
  }

  static void awaitTrue(Check c) throws Exception {
    long end = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    while (System.nanoTime() < end) {
      if (c.ok()) {
        return;
      }
      Thread.sleep(50);
    }
    assertTrue(c.ok(), "condition not met within 10 s");
  }
}
