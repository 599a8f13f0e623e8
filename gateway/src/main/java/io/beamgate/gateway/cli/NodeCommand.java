package io.beamgate.gateway.cli;

import io.beamgate.node.LocalNode;
import io.beamgate.node.dist.NodeConnectException;
import io.beamgate.node.rpc.Rpc;
import io.beamgate.node.rpc.RpcException;
import io.beamgate.node.term.ErlList;
import io.beamgate.node.term.Term;
import io.beamgate.node.term.TermText;
import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code beamgate node}: act as an Erlang node. */
@Command(name = "node", mixinStandardHelpOptions = true,
    versionProvider = VersionProvider.class,
    description = "Act as an Erlang node: ping or call other nodes, or serve as one.",
    subcommands = {NodeCommand.Ping.class, NodeCommand.Call.class, NodeServeCommand.class})
public final class NodeCommand implements Runnable {
  @picocli.CommandLine.Spec picocli.CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    spec.commandLine().usage(spec.commandLine().getOut());
  }

  /** {@code beamgate node ping TARGET}. */
  @Command(name = "ping", mixinStandardHelpOptions = true,
      versionProvider = VersionProvider.class,
      description = "Ping a node as net_adm:ping/1 does: prints pong (exit 0) or pang and why (exit 1).")
  public static final class Ping implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "TARGET", description = "Node to ping (name or name@host).")
    String target;

    @Mixin NodeOptions options;

    @Option(names = "--timeout", paramLabel = "MS", defaultValue = "5000",
        description = "How long to wait, in milliseconds (default: ${DEFAULT-VALUE}).")
    long timeoutMs;

    @Override
    public Integer call() {
      Duration timeout = Duration.ofMillis(timeoutMs);
      String node = options.target(target);
      try (LocalNode self = options.startClient(timeout)) {
        try {
          self.connect(node, timeout);
        } catch (NodeConnectException e) {
          System.out.println("pang");
          System.err.println("beamgate node ping: " + node + ": " + e.getMessage());
          return 1;
        }
        if (self.ping(node, timeout)) {
          System.out.println("pong");
          return 0;
        }
        System.out.println("pang");
        System.err.println("beamgate node ping: " + node + " did not answer is_auth");
        return 1;
      } catch (IOException | IllegalArgumentException e) {
        System.out.println("pang");
        System.err.println("beamgate node ping: " + e.getMessage());
        return 1;
      }
    }
  }

  /** {@code beamgate node call TARGET MODULE FUNCTION '[ARGS]'}. */
  @Command(name = "call", mixinStandardHelpOptions = true,
      versionProvider = VersionProvider.class,
      description = {"Call MODULE:FUNCTION(ARGS...) on a node through rpc (like erl_call -a).",
          "Prints the result as an Erlang term (exit 0); {badrpc, Reason} for a remote error"
              + " (exit 2); connection or authentication failures explain themselves (exit 1)."})
  public static final class Call implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "TARGET", description = "Node to call (name or name@host).")
    String target;

    @Parameters(index = "1", paramLabel = "MODULE")
    String module;

    @Parameters(index = "2", paramLabel = "FUNCTION")
    String function;

    @Parameters(index = "3", paramLabel = "ARGS", defaultValue = "[]", arity = "0..1",
        description = "Arguments as an Erlang list, e.g. '[1, <<\"a\">>, #{k => v}]' (default: []).")
    String args;

    @Mixin NodeOptions options;

    @Option(names = "--timeout", paramLabel = "MS", defaultValue = "10000",
        description = "Call timeout in milliseconds (default: ${DEFAULT-VALUE}).")
    long timeoutMs;

    @Option(names = "--syntax", paramLabel = "S", defaultValue = "auto",
        description = "Term syntax of ARGS and of the result: erlang, elixir, or auto (elixir"
        + " when MODULE is an Elixir alias such as MyApp.KV).")
    String syntax;

    /** In Elixir syntax, or Erlang's for what Elixir has no literal for (a pid, say). */
    static String text(Term t) {
      try {
        return io.beamgate.node.term.ElixirText.format(t);
      } catch (IllegalArgumentException e) {
        return TermText.format(t);
      }
    }

    @Override
    public Integer call() {
      boolean elixir = syntax.equals("elixir")
          || syntax.equals("auto") && io.beamgate.node.term.ElixirText.isAlias(module);
      if (!syntax.equals("elixir") && !syntax.equals("erlang") && !syntax.equals("auto")) {
        System.err.println("beamgate node call: --syntax " + syntax
            + " (expected: erlang, elixir or auto)");
        return Main.EXIT_USAGE;
      }
      Term parsed;
      String mod = module;
      String fun = function;
      try {
        if (elixir) {
          mod = io.beamgate.node.term.ElixirText.moduleName(module);
          fun = function.startsWith(":") ? ((io.beamgate.node.term.Atom)
              io.beamgate.node.term.ElixirText.parse(function)).name() : function;
        }
        parsed = elixir ? io.beamgate.node.term.ElixirText.parse(args) : TermText.parse(args);
      } catch (Exception e) {
        System.err.println("beamgate node call: ARGS: " + e.getMessage());
        return Main.EXIT_USAGE;
      }
      if (!(parsed instanceof ErlList list) || !list.isProper()) {
        System.err.println("beamgate node call: ARGS must be a proper list, e.g. '[1, 2]'");
        return Main.EXIT_USAGE;
      }
      Duration timeout = Duration.ofMillis(timeoutMs);
      String node = options.target(target);
      try (LocalNode self = options.startClient(timeout)) {
        Term result = Rpc.call(self, node, mod, fun, list.elements(), timeout);
        System.out.println(elixir ? text(result) : TermText.format(result));
        return 0;
      } catch (RpcException e) {
        if (e.kind() == RpcException.Kind.NOT_CONNECTED) {
          System.err.println("beamgate node call: " + e.getMessage());
          return 1;
        }
        System.out.println(elixir ? text(e.badrpc()) : TermText.format(e.badrpc()));
        if (e.kind() != RpcException.Kind.BADRPC) {
          System.err.println("beamgate node call: " + e.getMessage());
        }
        return 2;
      } catch (IOException | IllegalArgumentException e) {
        System.err.println("beamgate node call: " + e.getMessage());
        return 1;
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return 1;
      }
    }
  }
}
