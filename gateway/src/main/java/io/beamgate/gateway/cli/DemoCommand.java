package io.beamgate.gateway.cli;

import io.beamgate.node.Cookie;
import io.beamgate.node.LocalNode;
import io.beamgate.node.Mailbox;
import io.beamgate.node.NodeConfig;
import io.beamgate.node.NodeName;
import io.beamgate.node.epmd.EpmdClient;
import io.beamgate.node.epmd.EpmdServer;
import io.beamgate.node.epmd.NodeEntry;
import io.beamgate.node.rpc.Rpc;
import io.beamgate.node.rpc.RpcException;
import io.beamgate.node.rpc.RpcServer;
import io.beamgate.node.term.Atom;
import io.beamgate.node.term.Binary;
import io.beamgate.node.term.Int;
import io.beamgate.node.term.Term;
import io.beamgate.node.term.TermText;
import io.beamgate.node.term.Tuple;
import java.io.PrintStream;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import picocli.CommandLine.Command;

/**
 * {@code beamgate demo}: the main job on an embedded default. For now: an embedded EPMD and two
 * Java nodes that find each other, shake hands, and exchange messages and RPCs — no Erlang
 * installation needed.
 */
@Command(name = "demo", mixinStandardHelpOptions = true,
    versionProvider = VersionProvider.class,
    description = "Run a self-contained demo: embedded EPMD, two Java nodes, a handshake and RPCs.")
public final class DemoCommand implements Callable<Integer> {
  private PrintStream out;

  private void say(String who, String what) {
    out.printf("[%-5s] %s%n", who, what);
  }

  @Override
  public Integer call() throws Exception {
    out = System.out;
    long t0 = System.nanoTime();
    out.println("beamgate demo: an embedded EPMD and two Java nodes speaking the Erlang"
        + " distribution protocol");
    out.println();
    Duration timeout = Duration.ofSeconds(5);
    // A throwaway cookie: the demo's nodes only talk to each other.
    byte[] rnd = new byte[12];
    new SecureRandom().nextBytes(rnd);
    Cookie cookie = Cookie.of(HexFormat.of().formatHex(rnd));
    ExecutorService workers = Executors.newFixedThreadPool(2);
    try (EpmdServer epmd = EpmdServer.start(EpmdServer.Config.loopback(0))) {
      say("epmd", "embedded EPMD listening on 127.0.0.1:" + epmd.port());
      String host = "127.0.0.1";
      try (LocalNode alpha = LocalNode.start(config("alpha", host, cookie, epmd.port()));
          LocalNode beta = LocalNode.start(config("beta", host, cookie, epmd.port()))) {
        say("alpha", "node " + alpha.name() + " up, distribution port " + alpha.port()
            + ", creation " + Integer.toUnsignedString(alpha.creation()));
        say("beta", "node " + beta.name() + " up, distribution port " + beta.port()
            + ", creation " + Integer.toUnsignedString(beta.creation()));
        List<NodeEntry> names = new EpmdClient(host, epmd.port(), timeout).names();
        StringBuilder sb = new StringBuilder();
        for (NodeEntry e : names) {
          sb.append(sb.length() == 0 ? "" : ", ").append(e.alive()).append(" at port ")
              .append(e.port());
        }
        say("epmd", "NAMES answers: " + sb);

        RpcServer rpc = RpcServer.start(alpha, workers);
        rpc.register("demo", "add", 2, args -> Term.integer(
            Term.bigIntegerValue(args.get(0)).add(Term.bigIntegerValue(args.get(1)))));
        rpc.register("demo", "greet", 1, args -> Term.binary("hello, "
            + ((Binary) args.get(0)).utf8()));
        say("alpha", "RPC server (rex) offers demo:add/2 and demo:greet/1");

        boolean pong = beta.ping(alpha.name(), timeout);
        say("beta", "net_adm:ping('" + alpha.name() + "') -> " + (pong ? "pong" : "pang"));
        if (!pong) {
          return 1;
        }
        say("beta", "connected to " + beta.connectedNodes()
            + " after the handshake (version 6, MD5 cookie challenge)");

        call(beta, alpha.name(), "demo", "add", List.of(Int.of(40), Int.of(2)), timeout);
        call(beta, alpha.name(), "demo", "greet", List.of(Term.binary("world")), timeout);
        call(beta, alpha.name(), "demo", "add", List.of(
            Term.integer(new java.math.BigInteger("123456789012345678901234567890")),
            Int.of(1)), timeout);
        call(beta, alpha.name(), "os", "cmd", List.of(Term.string("id")), timeout);

        try (Mailbox echo = alpha.createMailbox("echo");
            Mailbox me = beta.createMailbox()) {
          Term msg = Tuple.of(me.self(), Atom.of("hello"), Term.list(Int.of(1), Int.of(2)));
          me.send("echo", alpha.name(), msg);
          Term got = echo.receive(timeout);
          say("alpha", "echo received " + TermText.format(got));
          if (got instanceof Tuple t && t.get(0) instanceof io.beamgate.node.term.Pid from) {
            echo.send(from, Tuple.of(Atom.of("reply"), t.get(1)));
          }
          say("beta", "got back " + TermText.format(me.receive(timeout)));
        }
      }
    } finally {
      workers.shutdownNow();
    }
    out.println();
    out.printf("demo complete in %d ms. Next: `beamgate node ping NAME` against a real erl node.%n",
        (System.nanoTime() - t0) / 1_000_000);
    return 0;
  }

  private void call(LocalNode from, String to, String m, String f, List<Term> args,
      Duration timeout) throws InterruptedException {
    String what = "rpc:call('" + to + "', " + m + ", " + f + ", "
        + TermText.format(Term.list(args.toArray(Term[]::new))) + ")";
    try {
      say("beta", what + " -> " + TermText.format(Rpc.call(from, to, m, f, args, timeout)));
    } catch (RpcException e) {
      say("beta", what + " -> " + TermText.format(e.badrpc()));
    }
  }

  private static NodeConfig config(String alive, String host, Cookie cookie, int epmdPort)
      throws java.io.IOException {
    return NodeConfig.builder(new NodeName(alive, host)).cookie(cookie)
        .epmd("127.0.0.1", epmdPort)
        .listen(java.net.InetAddress.getLoopbackAddress(), 0)
        .build();
  }
}
