package io.beamgate.gateway.cli;

import io.beamgate.node.Cookie;
import io.beamgate.node.LocalNode;
import io.beamgate.node.NodeConfig;
import io.beamgate.node.NodeName;
import io.beamgate.node.epmd.EpmdClient;
import io.beamgate.node.rpc.Echo;
import io.beamgate.node.rpc.RpcServer;
import java.io.IOException;
import java.net.InetAddress;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code beamgate node serve}: a standalone Java node with the echo mailbox. */
@Command(name = "serve", mixinStandardHelpOptions = true,
    versionProvider = VersionProvider.class,
    description = {"Run a Java node that erl can ping, hosting the diagnostics mailbox"
        + " beamgate_echo:", "gen_server:call({beamgate_echo, Node}, T) replies T;"
        + " {From, Ref, T} is answered with From ! {Ref, T}.",
        "It answers rpc:call, erl_call and rpc:sbcast as an OTP node that runs no code would,"
        + " and, unless --hidden, global's protocol (global:sync() returns)."})
public final class NodeServeCommand implements Callable<Integer> {
  static final class Name {
    @Option(names = "--sname", paramLabel = "NAME", required = true,
        description = "Short node name (alive or alive@host).")
    String sname;

    @Option(names = "--name", paramLabel = "NAME", required = true,
        description = "Long node name (alive@host.domain or alive@address).")
    String name;
  }

  @ArgGroup(exclusive = true, multiplicity = "1")
  Name name;

  @ArgGroup(exclusive = true, multiplicity = "0..1")
  CookieOptions cookie;

  @Option(names = "--hidden", description = "Run as a hidden node.")
  boolean hidden;

  @Option(names = "--epmd-port", paramLabel = "P",
      description = "Port of the local EPMD (default: $ERL_EPMD_PORT or 4369).")
  Integer epmdPort;

  @Option(names = "--listen", paramLabel = "ADDRESS",
      description = "Address for distribution connections (default: all interfaces, as erl).")
  String listen;

  @Override
  public Integer call() throws InterruptedException {
    boolean longNames = name.name != null;
    try {
      Cookie c = CookieOptions.read(cookie);
      NodeConfig cfg = NodeConfig.builder(NodeName.of(longNames ? name.name : name.sname,
              longNames))
          .cookie(c).hidden(hidden)
          .epmdPort(epmdPort != null ? epmdPort : EpmdClient.defaultPort())
          .listen(listen == null ? null : InetAddress.getByName(listen), 0)
          .build();
      LocalNode node = LocalNode.start(cfg);
      node.createMailbox(Echo.NAME, new Echo());
      // rex, as every OTP node has it: rpc:call, erl_call and rpc:sbcast get OTP's answers
      // (a function this node does not run is undef, never a hang).
      ExecutorService workers = Executors.newFixedThreadPool(2, r -> {
        Thread t = new Thread(r, "beamgate-rex");
        t.setDaemon(true);
        return t;
      });
      RpcServer.start(node, workers);
      System.out.println(node.name() + " serving (distribution port " + node.port()
          + "); beamgate_echo registered. Stop with Ctrl-C.");
      CountDownLatch stop = new CountDownLatch(1);
      Runtime.getRuntime().addShutdownHook(new Thread(() -> {
        node.close();
        stop.countDown();
      }));
      stop.await();
      return 0;
    } catch (IOException | IllegalArgumentException e) {
      System.err.println("beamgate node serve: " + e.getMessage());
      return 1;
    }
  }
}
