package io.beamgate.node.interop;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.beamgate.node.LocalNode;
import io.beamgate.node.NodeConfig;
import io.beamgate.node.epmd.EpmdServer;
import io.beamgate.node.testing.ErlNode;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A visible beamgate node in a mesh of real erl nodes: {@code global} completes its connect
 * protocol with it, so {@code global:sync()} returns, names register and resolve among the erl
 * nodes, and erl nodes that learn of each other through it still form their mesh.
 */
class GlobalInteropTest {
  private static final String COOKIE = "global_cookie";
  private static final Duration T = Duration.ofSeconds(30);
  private static EpmdServer epmd;
  private static ErlNode a;
  private static ErlNode c;
  private static ErlNode d;
  private static LocalNode beamgate;

  @BeforeAll
  static void start() throws Exception {
    epmd = EpmdServer.start(EpmdServer.Config.loopback(0));
    a = ErlNode.start(ErlNode.uniqueName("ga"), COOKIE, epmd.port());
    c = ErlNode.start(ErlNode.uniqueName("gc"), COOKIE, epmd.port());
    d = ErlNode.start(ErlNode.uniqueName("gd"), COOKIE, epmd.port());
    beamgate = LocalNode.start(NodeConfig.builder(ErlNode.uniqueName("gbg")).cookie(COOKIE)
        .epmd("127.0.0.1", epmd.port()).build());
  }

  @AfterAll
  static void stop() {
    for (AutoCloseable x : new AutoCloseable[] {beamgate, a, c, d, epmd}) {
      try {
        if (x != null) {
          x.close();
        }
      } catch (Exception e) {
        // best effort
      }
    }
  }

  private static String timedSync(ErlNode n) throws Exception {
    return n.eval("{Us, R} = timer:tc(global, sync, []), {R, Us < 5000000}.", T);
  }

  @Test
  void globalSyncRegistrationAndMeshDiscoveryWorkWithTheBeamgateNodePresent() throws Exception {
    String bg = "'" + beamgate.name() + "'";
    // a meets beamgate first, then c meets a (a's global introduces c to beamgate); d meets
    // beamgate, then c (beamgate, like an erl node that knows nobody, introduces no one).
    assertEquals("{ok,pong}", a.eval("net_adm:ping(" + bg + ").", T));
    assertEquals("{ok,{ok,true}}", timedSync(a));
    assertEquals("{ok,pong}", c.eval("net_adm:ping('" + a.name() + "').", T));
    assertEquals("{ok,{ok,true}}", timedSync(c));
    assertEquals("{ok,{ok,true}}", timedSync(a));
    // c learns of beamgate from a and connects to it in the background; then it waits for it.
    assertEquals("{ok,true}", c.eval("(fun W(0) -> false; W(N) -> case lists:member(" + bg
        + ", nodes()) of true -> true; false -> timer:sleep(100), W(N - 1) end end)(100).", T));
    assertEquals("{ok,{ok,true}}", timedSync(c));
    assertEquals("{ok,pong}", d.eval("net_adm:ping(" + bg + ").", T));
    assertEquals("{ok,{ok,true}}", timedSync(d));
    assertEquals("{ok,pong}", d.eval("net_adm:ping('" + c.name() + "').", T));
    assertEquals("{ok,{ok,true}}", timedSync(d));
    assertEquals("{ok,{ok,true}}", timedSync(a));

    assertEquals("{ok,yes}", a.eval("global:register_name(gtest, self()).", T));
    for (ErlNode n : new ErlNode[] {c, d}) {
      assertEquals("{ok," + a.name() + "}",
          n.eval("global:sync(), node(global:whereis_name(gtest)).", T));
    }
    assertEquals("{ok,no}", c.eval("global:register_name(gtest, self()).", T));
    assertEquals("{ok,ok}", a.eval("global:unregister_name(gtest).", T));
    assertEquals("{ok,undefined}", d.eval("global:sync(), global:whereis_name(gtest).", T));
    assertEquals("{ok,true}", a.eval("global:set_lock({compat, self()}).", T));
    assertEquals("{ok,true}", a.eval("global:del_lock({compat, self()}).", T));
  }
}
