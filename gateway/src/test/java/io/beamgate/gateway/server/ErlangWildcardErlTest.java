package io.beamgate.gateway.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.beamgate.gateway.proto.Error;
import io.beamgate.gateway.proto.ServerFrame;
import io.beamgate.node.term.Atom;
import io.beamgate.node.term.Binary;
import io.beamgate.node.term.ErlList;
import io.beamgate.node.term.Int;
import io.beamgate.node.term.Ref;
import io.beamgate.node.term.Term;
import io.beamgate.node.term.Tuple;
import io.beamgate.node.testing.ErlNode;
import io.beamgate.node.testing.RealEpmd;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What a holder of {@code calls: ["erlang:*"]} can make a real erl backend do, through both
 * doors: the wildcard loads only with {@code unsafe: true}, and then reaches the pure
 * functions only — no send variant, timer, signal or cookie (issue 11: with the old deny-list,
 * {@code erlang:send_nosuspend(init, {stop, stop})} stopped a backend). Fails, never skips,
 * under CI=true when Erlang is missing.
 */
class ErlangWildcardErlTest {
  static final String POLICY = """
      version: 1
      rules:
        - id: wide
          principals: ["uri:spiffe://test/alice", "dns:gw-b.test"]
          calls: ["erlang:*"]
          unsafe: true
          atoms: [stop, init, hello, kv_probe]
          limits: {rate_per_second: 100000, concurrency: 1000, timeout_ms: 5000}
      """;
  static final Duration WAIT = Duration.ofSeconds(5);

  @TempDir Path dir;
  TestBed bed;
  TestBed bedB;
  RealEpmd epmd;
  ErlNode e1;
  GatewayServer gw;

  @BeforeEach
  void setUp() throws Exception {
    bed = new TestBed(dir.resolve("a"), null, "gw-a.test");
    bedB = new TestBed(dir.resolve("b"), bed, "gw-b.test");
    epmd = RealEpmd.start();
    e1 = ErlNode.startLong(ErlNode.uniqueName("wild") + "@127.0.0.1", bed.cookie, epmd.port());
    e1.evalOk("register(kv_probe, spawn(fun Loop() -> receive {From, M} when is_pid(From) ->"
        + " From ! M, Loop(); _ -> put(got, true), Loop() end end)), ok.");
  }

  @AfterEach
  void tearDown() throws Exception {
    if (gw != null) {
      gw.close();
    }
    e1.close();
    epmd.close();
  }

  void start(String policy) throws Exception {
    bed.writePolicy(policy);
    gw = GatewayServer.start(bed.writeConfig(List.of(e1.name()), epmd.port(), "round_robin",
        ""), GatewayServer.Options.DEFAULTS.withBackendWait(Duration.ofSeconds(10)));
  }

  @Test
  void withoutUnsafeTheWildcardDoesNotLoad() throws Exception {
    bed.writePolicy(POLICY.replace("    unsafe: true\n", ""));
    assertTrue(!bed.policy.toString().isEmpty() && !java.nio.file.Files.readString(bed.policy)
        .contains("unsafe"));
    Exception e = assertThrows(Exception.class, () -> GatewayServer.start(bed.writeConfig(
        List.of(e1.name()), epmd.port(), "round_robin", ""), GatewayServer.Options.DEFAULTS));
    assertTrue(e.getMessage().contains("'erlang:*'") && e.getMessage().contains("unsafe"),
        e.getMessage());
  }

  @Test
  void withUnsafeItReachesOnlyPureFunctionsThroughBothDoors() throws Exception {
    start(POLICY);
    RawClient c = RawClient.connect(gw.listenAddress(), bed.client("alice"));
    try (c) {
      c.send(GatewayServerTest.call(1, "erlang", "abs", Int.of(-3)));
      ServerFrame ok = c.next(WAIT);
      assertTrue(ok.hasResult(), ok.toString());
      String[][] denied = {
          {"send_nosuspend", "2"}, {"!", "2"}, {"send", "2"}, {"send_after", "3"},
          {"start_timer", "3"}, {"exit", "2"}, {"get_cookie", "0"}, {"halt", "0"},
          {"hibernate", "3"}, {"apply", "3"}, {"spawn", "3"}, {"register", "2"}};
      long id = 10;
      for (String[] fa : denied) {
        Term[] args = argsFor(Integer.parseInt(fa[1]));
        c.send(GatewayServerTest.call(id++, "erlang", fa[0], args));
        ServerFrame f = c.next(WAIT);
        assertEquals(Error.Code.PERMISSION_DENIED, f.getError().getCode(),
            "erlang:" + fa[0] + "/" + fa[1] + ": " + f);
      }
    }
    try (RawBridge b = RawBridge.connect(gw.listenAddress(), bedB)) {
      b.send(Tuple.of(Atom.of("hello"), Int.of(1), Binary.of("b".getBytes())));
      assertEquals(Tuple.of(Atom.of("welcome"), Int.of(1)), b.nextNonPing(WAIT));
      Ref res = new Ref(Atom.of("b1@elsewhere"), 7, new int[] {1, 2, 3});
      b.send(Tuple.of(Atom.of("call"), Int.of(1), res, Atom.of("erlang"),
          Atom.of("send_nosuspend"), ErlList.of(Atom.of("init"), Tuple.of(Atom.of("stop"),
              Atom.of("stop")))));
      Term r = b.nextNonPing(WAIT);
      assertTrue(r.toString().contains("permission_denied"), r.toString());
      b.send(Tuple.of(Atom.of("call"), Int.of(2), res, Atom.of("erlang"), Atom.of("abs"),
          ErlList.of(Int.of(-4))));
      assertTrue(b.nextNonPing(WAIT).toString().contains("return"));
    }
    // the backend is up, and the probe process got nothing
    assertEquals("undefined", e1.evalOk("{dictionary, D} = process_info(whereis(kv_probe),"
        + " dictionary), proplists:get_value(got, D)."));
    assertTrue(e1.isAlive());
  }

  /** Plausible arguments of the given arity: the policy decides before they matter. */
  static Term[] argsFor(int arity) {
    Term[] pool = {Atom.of("kv_probe"), Tuple.of(Atom.of("stop"), Atom.of("stop")),
        Atom.of("init")};
    Term[] a = new Term[arity];
    for (int i = 0; i < arity; i++) {
      a[i] = arity == 3 && i == 0 ? Int.of(10) : pool[i % pool.length];
    }
    return a;
  }
}
