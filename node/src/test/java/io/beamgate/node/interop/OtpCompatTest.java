package io.beamgate.node.interop;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.beamgate.node.LocalNode;
import io.beamgate.node.NodeConfig;
import io.beamgate.node.epmd.EpmdServer;
import io.beamgate.node.rpc.Echo;
import io.beamgate.node.rpc.RpcServer;
import io.beamgate.node.testing.Erl;
import io.beamgate.node.testing.ErlNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * OTP behaviours a node must show every client, each run against a real erl node in the same
 * role (the reference) and against a beamgate node, from the same erl client: both must give
 * the same observable result (node names aside).
 */
class OtpCompatTest {
  private static final String COOKIE = "compat_cookie";
  /** The beamgate_echo of an erl node: what {@link Echo} does, written as OTP would. */
  private static final String ERL_ECHO = "register(beamgate_echo, spawn(fun() -> Loop = fun L()"
      + " -> receive {'$gen_call', From, T} -> gen:reply(From, T), L();"
      + " {From, Ref, T} when is_pid(From) -> From ! {Ref, T}, L(); _ -> L() end end,"
      + " Loop() end)).";
  private static EpmdServer epmd;
  private static ErlNode client;
  private static ErlNode reference;
  private static LocalNode beamgate;
  private static ExecutorService workers;

  @TempDir
  static Path dir;

  @BeforeAll
  static void start() throws Exception {
    epmd = EpmdServer.start(EpmdServer.Config.loopback(0));
    client = ErlNode.start(ErlNode.uniqueName("client"), COOKIE, epmd.port());
    reference = ErlNode.start(ErlNode.uniqueName("ref"), COOKIE, epmd.port());
    reference.evalOk(ERL_ECHO);
    beamgate = LocalNode.start(NodeConfig.builder(ErlNode.uniqueName("bg")).cookie(COOKIE)
        .epmd("127.0.0.1", epmd.port()).build());
    beamgate.createMailbox(Echo.NAME, new Echo());
    workers = Executors.newFixedThreadPool(2);
    RpcServer.start(beamgate, workers);
  }

  @AfterAll
  static void stop() {
    for (AutoCloseable c : new AutoCloseable[] {beamgate, client, reference, epmd}) {
      try {
        if (c != null) {
          c.close();
        }
      } catch (Exception e) {
        // best effort
      }
    }
    if (workers != null) {
      workers.shutdownNow();
    }
  }

  /** Runs {@code code} (with {@code TARGET} standing for the node) on the client, per node. */
  private static void sameOnBoth(String code) throws IOException {
    String onErl = run(code, reference.name());
    String onBeamgate = run(code, beamgate.name());
    assertEquals(onErl, onBeamgate, "erl gave " + onErl + ", beamgate gave " + onBeamgate);
  }

  private static String run(String code, String node) throws IOException {
    String r = client.eval(code.replace("TARGET", "'" + node + "'"),
        java.time.Duration.ofSeconds(30));
    return r.replace("'" + node + "'", "TARGET").replace(node, "TARGET");
  }

  @Test
  void rpcCallOfAMissingFunctionIsUndef() throws Exception {
    sameOnBoth("rpc:call(TARGET, no_such_module, no_such_fun, [1, two]).");
    sameOnBoth("rpc:call(TARGET, no_such_module, no_such_fun, [], 5000).");
  }

  @Test
  void erlCallOfAMissingFunctionIsUndefAndDoesNotHang() throws Exception {
    String onErl = erlCall(reference.name(), "no_such_module no_such_fun [1]");
    String onBeamgate = erlCall(beamgate.name(), "no_such_module no_such_fun [1]");
    assertTrue(onErl.contains("undef"), onErl);
    assertEquals(onErl, onBeamgate);
  }

  /** The real erl_call binary, through the test EPMD, killed by PID if it outlives 30 s. */
  private static String erlCall(String node, String apply) throws Exception {
    Path bin = Path.of(Erl.require("erl")).toRealPath().getParent().getParent();
    Path erlCall;
    try (var s = Files.list(Path.of("/usr/lib/erlang/lib"))) {
      erlCall = s.filter(p -> p.getFileName().toString().startsWith("erl_interface-"))
          .map(p -> p.resolve("bin/erl_call")).filter(Files::isExecutable).findFirst()
          .orElseThrow(() -> new AssertionError("erl_call not found (install erlang-dev), near "
              + bin));
    }
    List<String> cmd = new ArrayList<>(List.of(erlCall.toString(), "-sname",
        node.substring(0, node.indexOf('@')), "-c", COOKIE, "-timeout", "20", "-a", apply));
    Path log = dir.resolve("erl_call-" + System.nanoTime() + ".log");
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true)
        .redirectOutput(log.toFile());
    pb.environment().put("ERL_EPMD_PORT", Integer.toString(epmd.port()));
    Process p = pb.start();
    try {
      if (!p.waitFor(30, TimeUnit.SECONDS)) {
        throw new AssertionError("erl_call -a '" + apply + "' against " + node
            + " hung for 30 s");
      }
      return p.exitValue() + ": " + Files.readString(log, StandardCharsets.UTF_8).trim();
    } finally {
      p.destroyForcibly();
    }
  }

  @Test
  void sbcastReachesARegisteredNameAndReportsAMissingOne() throws Exception {
    sameOnBoth("R = make_ref(), G = rpc:sbcast([TARGET], beamgate_echo, {self(), R, hi}),"
        + " receive {R, hi} -> {G, echoed} after 5000 -> {G, no_echo} end.");
    sameOnBoth("rpc:sbcast([TARGET], no_such_name, hello).");
  }

  @Test
  void abcastReachesARegisteredNameWithoutBlocking() throws Exception {
    sameOnBoth("R = make_ref(), A = rpc:abcast([TARGET], beamgate_echo, {self(), R, hi}),"
        + " receive {R, hi} -> {A, echoed} after 5000 -> {A, no_echo} end.");
    sameOnBoth("rpc:abcast([TARGET], no_such_name, hello).");
  }

  @Test
  void multiServerCallGetsTheReplyOfTheNamedProcess() throws Exception {
    // rpc:multi_server_call sends {self(), Msg}; the echo answers {Ref, T} to a 3-tuple only,
    // so the observable result is the bad-node report for a missing name.
    sameOnBoth("rpc:multi_server_call([TARGET], no_such_name, hello).");
  }

  @Test
  void genServerCallAnswersAndALateReplyNeverReachesTheCaller() throws Exception {
    sameOnBoth("gen_server:call({beamgate_echo, TARGET}, {ping, [1, <<2>>]}).");
    // Timeout 0: the call gives up before any reply can cross the network; the reply, when it
    // comes, goes to the call's alias, which is gone, so the caller's mailbox stays empty.
    sameOnBoth("R = (catch gen_server:call({beamgate_echo, TARGET}, late, 0)),"
        + " timer:sleep(300), {messages, Ms} = process_info(self(), messages),"
        + " {element(1, R), [M || {_, late} = M <- Ms]}.");
  }

  @Test
  void rpcFeaturesRequestIsAnswered() throws Exception {
    sameOnBoth("{rex, TARGET} ! {self(), features_request},"
        + " receive {features_reply, _, F} -> F after 5000 -> none end.");
  }

  @Test
  void globalSyncReturnsWithTheNodeConnected() throws Exception {
    // The client waits in global:sync() for every visible node it is connected to.
    sameOnBoth("pong = net_adm:ping(TARGET), {Us, R} = timer:tc(global, sync, []),"
        + " {R, Us < 5000000, lists:member(TARGET, nodes())}.");
    // Registration locks and registers on every synced node, the target included.
    sameOnBoth("true = lists:member(TARGET, nodes()), Y = global:register_name(compat_name,"
        + " self()), W = global:whereis_name(compat_name) =:= self(),"
        + " U = global:unregister_name(compat_name), {Y, W, U}.");
  }

  /**
   * From Elixir, as application code would: GenServer.call with a timeout and the late reply,
   * :rpc.sbcast, :erpc of a missing function. Elixir adds its own call path (GenServer.call
   * catches the exit and re-raises it) on top of gen.
   */
  @Test
  void elixirSeesTheSameFromBothNodes() throws Exception {
    String code = "t = String.to_atom(System.get_env(\"TARGET\")); true = Node.connect(t);"
        + " r = try do GenServer.call({:beamgate_echo, t}, :late, 0) catch :exit, e ->"
        + " elem(e, 0) end; Process.sleep(300); {:messages, ms} = Process.info(self(),"
        + " :messages); late = for {_, :late} = m <- ms, do: m;"
        + " echo = GenServer.call({:beamgate_echo, t}, %{\"k\" => [1, 2.5, :a]});"
        + " {good, bad} = :rpc.sbcast([t], :beamgate_echo, :hello);"
        + " undef = try do :erpc.call(t, :no_such_mod, :f, []) catch :error, {:exception, why, _} -> why"
        + " end; IO.inspect({r, late, echo, length(good), bad, undef})";
    String onErl = elixir(code, reference.name());
    String onBeamgate = elixir(code, beamgate.name());
    assertTrue(onErl.startsWith("0: {:timeout, [], %{\"k\" => [1, 2.5, :a]}, 1, [], :undef}"),
        onErl);
    assertEquals(onErl, onBeamgate);
  }

  private static String elixir(String code, String target) throws Exception {
    List<String> cmd = List.of(Erl.require("elixir"), "--sname",
        io.beamgate.node.testing.ErlNode.uniqueName("ex"), "--cookie", COOKIE, "-e", code);
    Path log = dir.resolve("elixir-" + System.nanoTime() + ".log");
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true)
        .redirectOutput(log.toFile());
    pb.environment().put("ERL_EPMD_PORT", Integer.toString(epmd.port()));
    pb.environment().put("TARGET", target);
    Process p = pb.start();
    try {
      if (!p.waitFor(60, TimeUnit.SECONDS)) {
        throw new AssertionError("elixir against " + target + " hung for 60 s");
      }
      return p.exitValue() + ": " + Files.readString(log, StandardCharsets.UTF_8).trim();
    } finally {
      p.destroyForcibly();
    }
  }
}
