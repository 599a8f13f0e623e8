package io.beamgate.gateway.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.beamgate.client.BeamgateClient;
import io.beamgate.client.ClientConfig;
import io.beamgate.client.GatewayException;
import io.beamgate.node.term.ErlList;
import io.beamgate.node.term.Int;
import io.beamgate.node.term.Term;
import io.beamgate.node.term.TermText;
import io.beamgate.node.testing.ErlNode;
import io.beamgate.node.testing.RealEpmd;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The gateway in front of real erl backends (fails, never skips, under CI=true when Erlang is
 * missing): results equal rpc:call's, denied calls never run, the atom table does not grow
 * with refused atoms, a backend killed mid-call, and many connections at once.
 */
class GatewayErlTest {
  static final String POLICY = """
      version: 1
      atom_budget: 3
      atom_budget_per_principal: 3
      rules:
        - id: app
          principals: ["uri:spiffe://test/alice"]
          calls: ["lists:reverse/1", "lists:seq/2", "maps:from_list/1",
                  "erlang:list_to_tuple/1", "lists:nth/2", "string:uppercase/1",
                  "unicode:characters_to_binary/1", "lists:sum/1", "math:sqrt/1",
                  "timer:sleep/1", "erlang:node/0", "binary:copy/2"]
          atoms: [three, a, c, x]
          limits: {rate_per_second: 1000000, concurrency: 2000, timeout_ms: 8000}
      """;

  @TempDir Path dir;
  TestBed bed;
  RealEpmd epmd;
  ErlNode e1;
  ErlNode e2;
  GatewayServer gw;
  final List<BeamgateClient> clients = new ArrayList<>();

  @BeforeEach
  void setUp() throws Exception {
    bed = new TestBed(dir);
    bed.writePolicy(POLICY);
    epmd = RealEpmd.start();
    e1 = ErlNode.startLong(ErlNode.uniqueName("gwa") + "@127.0.0.1", bed.cookie, epmd.port());
    e2 = ErlNode.startLong(ErlNode.uniqueName("gwb") + "@127.0.0.1", bed.cookie, epmd.port());
  }

  @AfterEach
  void tearDown() throws Exception {
    clients.forEach(BeamgateClient::close);
    if (gw != null) {
      gw.close();
    }
    e1.close();
    e2.close();
    epmd.close();
  }

  void start(ErlNode... backends) throws Exception {
    List<String> names = new ArrayList<>();
    for (ErlNode n : backends) {
      names.add(n.name());
    }
    gw = GatewayServer.start(bed.writeConfig(names, epmd.port(), "round_robin", ""),
        GatewayServer.Options.DEFAULTS.withBackendWait(Duration.ofSeconds(10)));
  }

  BeamgateClient client() throws Exception {
    TestBed.Client c = bed.client("alice");
    BeamgateClient b = BeamgateClient.connect(ClientConfig.builder().host("localhost")
        .port(gw.listenAddress().getPort()).tls(c.cert(), c.key(), c.ca()).build());
    clients.add(b);
    return b;
  }

  /** What erl's rpc:call(Backend, M, F, Args) returns, as a term. */
  Term rpcCall(ErlNode from, ErlNode to, String m, String f, String args) throws Exception {
    String r = from.eval("rpc:call('" + to.name() + "', " + m + ", " + f + ", " + args + ").");
    assertTrue(r.startsWith("{ok,"), r);
    return TermText.parse(r.substring(4, r.length() - 1));
  }

  /**
   * With one backend, every client connection is served by the I/O thread of the backend's
   * distribution connection (cluster.io_affinity: backend, the default), however many threads
   * the node has: a call and its answer cross no thread.
   */
  @Test
  void clientConnectionsShareTheThreadOfTheirBackendsConnection() throws Exception {
    gw = GatewayServer.start(bed.writeConfig(List.of(e1.name()), epmd.port(),
        "round_robin\n  io_threads: 4", ""),
        GatewayServer.Options.DEFAULTS.withBackendWait(Duration.ofSeconds(10)));
    io.netty.channel.EventLoop backendLoop = gw.node().gatewayDoor().ioThreadOf(e1.name(),
        io.netty.channel.EventLoop.class);
    assertNotNull(backendLoop, "the backend's connection is up");
    int index = 0;
    for (io.netty.util.concurrent.EventExecutor e : gw.node().gatewayDoor()
        .ioThreads(io.netty.channel.EventLoopGroup.class)) {
      if (e == backendLoop) {
        break;
      }
      index++;
    }
    assertTrue(index < 4, "the backend's thread is one of the node's four");
    for (int i = 0; i < 3; i++) {
      assertEquals(ErlList.of(Int.of(2), Int.of(1)), client().blocking().call("lists",
          "reverse", List.of(ErlList.of(Int.of(1), Int.of(2)))));
    }
    for (int i = 0; i < 4; i++) {
      assertEquals(i == index ? 3 : 0, gw.clientLoops.loads().get(i)[0],
          "client connections on thread " + i + " (the backend's: " + index + ")");
    }
  }

  @Test
  void resultsAreExactlyWhatRpcCallReturns() throws Exception {
    start(e2);
    BeamgateClient c = client();
    String[][] calls = {
        {"lists", "reverse", "[[1, <<\"two\">>, three, {4.5, \"five\"}, #{6 => [7]}]]"},
        {"lists", "seq", "[1, 20]"},
        {"maps", "from_list", "[[{a, 1}, {<<\"b\">>, [2]}, {{c}, 3.25}]]"},
        {"erlang", "list_to_tuple", "[[x, \"y\", <<1, 2:3>>]]"},
        {"string", "uppercase", "[<<\"grüße\"/utf8>>]"},
        {"unicode", "characters_to_binary", "[\"λx → y\"]"},
        {"lists", "sum", "[[123456789012345678901234567890, -98765432109876543210, 1.5]]"},
        {"math", "sqrt", "[2]"},
    };
    for (String[] call : calls) {
      Term expected = rpcCall(e1, e2, call[0], call[1], call[2]);
      List<Term> args = ((ErlList) TermText.parse(call[2])).elements();
      assertEquals(expected, c.blocking().call(call[0], call[1], args),
          call[0] + ":" + call[1] + call[2]);
    }
    // a failing call: BAD_RPC carrying what rpc:call returns
    Term expected = rpcCall(e1, e2, "lists", "nth", "[5, [1]]");
    GatewayException e = assertThrows(GatewayException.class,
        () -> c.blocking().call("lists", "nth", ((ErlList) TermText.parse("[5, [1]]"))
            .elements()));
    assertEquals(GatewayException.Code.BAD_RPC, e.code());
    assertEquals(expected, TermText.parse(e.erlang().orElseThrow()));
  }

  @Test
  void deniedCallsNeverRunOnTheBackend() throws Exception {
    start(e1, e2);
    BeamgateClient c = client();
    Path probe = dir.resolve("probe-file");
    for (String[] call : new String[][] {
        {"os", "cmd", "[\"touch " + probe + "\"]"},
        {"erlang", "apply", "[os, cmd, [\"touch " + probe + "\"]]"},
        {"erlang", "open_port", "[{spawn, \"touch " + probe + "\"}, []]"},
        {"file", "write_file", "[\"" + probe + "\", <<\"x\">>]"}}) {
      GatewayException e = assertThrows(GatewayException.class, () -> c.blocking().call(
          call[0], call[1], ((ErlList) TermText.parse(call[2])).elements()));
      assertEquals(GatewayException.Code.PERMISSION_DENIED, e.code(), call[0] + ":" + call[1]);
    }
    Thread.sleep(200);
    assertFalse(Files.exists(probe), "a denied call ran");
  }

  @Test
  void refusedAtomsNeverReachTheBackendsAtomTable() throws Exception {
    start(e1);
    BeamgateClient c = client();
    String base = "beamgate_fresh_" + Long.toHexString(System.nanoTime());
    for (int i = 0; i < 3; i++) {
      c.blocking().call("lists", "reverse", List.of(ErlList.of(Term.atom(base + i))));
    }
    GatewayException e = assertThrows(GatewayException.class, () -> c.blocking().call(
        "lists", "reverse", List.of(ErlList.of(Term.atom(base + "x")))));
    assertEquals(GatewayException.Code.INVALID_ARGUMENT, e.code());
    assertEquals("{ok,true}", e1.eval("is_atom(binary_to_existing_atom(<<\"" + base
        + "0\">>, utf8)).", Duration.ofSeconds(5)));
    assertTrue(e1.eval("catch binary_to_existing_atom(<<\"" + base + "x\">>, utf8).",
        Duration.ofSeconds(5)).contains("badarg"), "the refused atom exists on the backend");
  }

  @Test
  void aResultOverMaxResultBytesIsRefusedBeforeItIsDecoded() throws Exception {
    start(e1);
    BeamgateClient c = client();
    // at the limit (1 MiB by default): served
    Term ok = c.blocking().call("binary", "copy", List.of(Term.binary("a"),
        io.beamgate.node.term.Int.of(1_048_000)));
    assertEquals(1_048_000, ((io.beamgate.node.term.Binary) ok).size());
    // past it: refused from the answer's encoded size, before any decoding
    GatewayException e = assertThrows(GatewayException.class, () -> c.blocking().call(
        "binary", "copy", List.of(Term.binary("a"), io.beamgate.node.term.Int.of(8_000_000))));
    assertEquals(GatewayException.Code.RESOURCE_EXHAUSTED, e.code());
    assertTrue(e.getMessage().contains("not decoded") && e.getMessage().contains(
        "max_result_bytes"), e.getMessage());
    // the connection to the backend is fine
    assertEquals(io.beamgate.node.term.Int.of(6), c.blocking().call("lists", "sum",
        List.of(TermText.parse("[1, 2, 3]"))));
  }

  @Test
  void aBackendKilledMidCallGivesOutcomeUnknownAndTheOtherCarriesOn() throws Exception {
    start(e2, e1);
    BeamgateClient c = client();
    // Round robin over [e2, e1]: find which backend the next call goes to.
    Term first = c.blocking().call("erlang", "node", List.of());
    ErlNode victim = TermText.format(first).contains(e2.name()) ? e1 : e2;
    ErlNode survivor = victim == e1 ? e2 : e1;
    CompletableFuture<Term> sleeping = c.call("timer", "sleep", List.of(Term.integer(30_000)),
        Duration.ofSeconds(8));
    Thread.sleep(300);
    long t0 = System.nanoTime();
    victim.kill();
    Throwable err = assertThrows(java.util.concurrent.ExecutionException.class,
        () -> sleeping.get(8, TimeUnit.SECONDS)).getCause();
    assertEquals(GatewayException.Code.OUTCOME_UNKNOWN, ((GatewayException) err).code(),
        err.toString());
    assertTrue((System.nanoTime() - t0) / 1_000_000 < 5_000, "reported promptly");
    for (int i = 0; i < 4; i++) {
      assertEquals(Term.atom(survivor.name()), c.blocking().call("erlang", "node", List.of()));
    }
  }

  @Test
  void fiftyConnectionsWithAThousandCallsInFlightAllCorrect() throws Exception {
    start(e1, e2);
    List<BeamgateClient> cs = new ArrayList<>();
    for (int i = 0; i < 50; i++) {
      cs.add(client());
    }
    List<CompletableFuture<Term>> fs = new ArrayList<>();
    for (int i = 0; i < 1000; i++) {
      fs.add(cs.get(i % 50).call("lists", "reverse",
          List.of(ErlList.of(Term.integer(i), Term.binary("x")))));
    }
    for (int i = 0; i < 1000; i++) {
      assertEquals(ErlList.of(Term.binary("x"), Term.integer(i)), fs.get(i).get(30,
          TimeUnit.SECONDS), "call " + i);
    }
  }
}
