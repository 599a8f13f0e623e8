package io.beamgate.gateway.cli;

import io.beamgate.client.BeamgateClient;
import io.beamgate.client.ClientConfig;
import io.beamgate.client.GatewayException;
import io.beamgate.client.Pong;
import io.beamgate.node.term.ErlList;
import io.beamgate.node.term.Term;
import io.beamgate.node.term.Atom;
import io.beamgate.node.term.ElixirText;
import io.beamgate.node.term.TermText;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code beamgate call --gateway HOST:PORT --cert C --key K --ca CA MODULE FUNCTION '[ARGS]'}:
 * one call through a gateway, with an exit code per kind of failure.
 */
@Command(name = "call", mixinStandardHelpOptions = true,
    versionProvider = VersionProvider.class,
    description = {"Call MODULE:FUNCTION(ARGS...) on the cluster behind a beamgate gateway, over"
        + " mutual TLS, and print the result as an Erlang term.",
        "With --ping, ask the gateway who it thinks you are instead."},
    exitCodeListHeading = "%nExit codes (a one-line explanation goes to stderr):%n",
    exitCodeList = {
        "0:the result is on stdout (with --ping: the gateway answered)",
        "1:internal error (the gateway's, a protocol error, or this tool's)",
        "64:bad usage (options, ARGS not an Erlang list)",
        "65:permission denied by the gateway's policy",
        "66:invalid argument (a refused term; the path says where)",
        "67:bad RPC: the function raised or does not exist; {badrpc, Reason} is on stdout",
        "68:timeout: no answer in time (the call may still have run)",
        "69:unavailable: no backend up, the audit log down, outcome unknown, or the gateway"
            + " closing",
        "70:connection or TLS failure (unreachable, certificate refused or untrusted)",
        "71:resource exhausted: a rate, concurrency or size limit, or the gateway full"
            + " (retry later, or send less)"})
public final class CallCommand implements Callable<Integer> {
  public static final int EXIT_INTERNAL = 1;
  public static final int EXIT_DENIED = 65;
  public static final int EXIT_INVALID = 66;
  public static final int EXIT_BADRPC = 67;
  public static final int EXIT_TIMEOUT = 68;
  public static final int EXIT_UNAVAILABLE = 69;
  public static final int EXIT_CONNECTION = 70;
  public static final int EXIT_EXHAUSTED = 71;

  @Spec CommandSpec spec;

  @Option(names = "--gateway", required = true, paramLabel = "HOST:PORT",
      description = "The gateway's address; its certificate must name HOST.")
  String gateway;

  @Option(names = "--cert", required = true, paramLabel = "FILE",
      description = "Your certificate chain (PEM).")
  Path cert;

  @Option(names = "--key", required = true, paramLabel = "FILE",
      description = "Your private key (PKCS#8 PEM, owner-only).")
  Path key;

  @Option(names = "--ca", required = true, paramLabel = "FILE",
      description = "The CAs that issue the gateway's certificate (PEM).")
  Path ca;

  @Option(names = "--timeout", paramLabel = "MS", defaultValue = "10000",
      description = "Call timeout in milliseconds (default: ${DEFAULT-VALUE}).")
  long timeoutMs;

  @Option(names = "--connect-timeout", paramLabel = "MS", defaultValue = "5000",
      description = "TCP connect and TLS handshake timeout, each, in milliseconds"
          + " (default: ${DEFAULT-VALUE}).")
  long connectTimeoutMs;

  @Option(names = "--max-frame-bytes", paramLabel = "N", defaultValue = "1048576",
      description = "Largest frame sent or accepted (default: ${DEFAULT-VALUE}).")
  int maxFrameBytes;

  @Option(names = "--tls-provider", paramLabel = "P", defaultValue = "AUTO",
      description = "TLS implementation: ${COMPLETION-CANDIDATES} (default: ${DEFAULT-VALUE}).")
  ClientConfig.TlsProvider tlsProvider;

  @Option(names = "--ping", description = "Ping the gateway instead of calling: prints the"
      + " protocol version, the gateway's version and your identity as it sees it.")
  boolean ping;

  @Option(names = "--syntax", paramLabel = "S", defaultValue = "auto",
      description = "Term syntax of ARGS and of the result: erlang, elixir, or auto (the"
      + " default: elixir when MODULE is an Elixir alias such as MyApp.KV, else erlang)."
      + " In Elixir syntax \"text\" is a binary, 'text' a charlist, :a an atom, MyApp.KV"
      + " the module 'Elixir.MyApp.KV'.")
  String syntax;

  @Parameters(index = "0", arity = "0..1", paramLabel = "MODULE")
  String module;

  @Parameters(index = "1", arity = "0..1", paramLabel = "FUNCTION")
  String function;

  @Parameters(index = "2", arity = "0..1", paramLabel = "ARGS", defaultValue = "[]",
      description = "Arguments as an Erlang list, e.g. '[1, <<\"k\">>, {a, b}]' (default: []).")
  String args;

  @Override
  public Integer call() {
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    try {
      return run(out, err);
    } finally {
      out.flush();
      err.flush();
    }
  }

  private int run(PrintWriter out, PrintWriter err) {
    if (ping && module != null) {
      return usage(err, "--ping takes no MODULE, FUNCTION or ARGS");
    }
    if (!ping && (module == null || function == null)) {
      return usage(err, "MODULE and FUNCTION are required (or --ping)");
    }
    if (timeoutMs < 1 || connectTimeoutMs < 1) {
      return usage(err, "--timeout and --connect-timeout must be at least 1 ms");
    }
    boolean elixir;
    switch (syntax) {
      case "erlang" -> elixir = false;
      case "elixir" -> elixir = true;
      case "auto" -> elixir = module != null && ElixirText.isAlias(module);
      default -> {
        return usage(err, "--syntax " + syntax + " (expected: erlang, elixir or auto)");
      }
    }
    ErlList list = null;
    String mod = module;
    String fun = function;
    if (!ping) {
      Term parsed;
      try {
        if (elixir) {
          mod = ElixirText.moduleName(module);
          fun = function.startsWith(":") ? ((Atom) ElixirText.parse(function)).name()
              : function;
        }
        parsed = elixir ? ElixirText.parse(args) : TermText.parse(args);
      } catch (RuntimeException e) {
        return usage(err, "ARGS: " + e.getMessage());
      }
      if (!(parsed instanceof ErlList l) || !l.isProper()) {
        return usage(err, "ARGS must be a proper list, e.g. '[1, 2]'");
      }
      list = l;
    }
    ClientConfig config;
    try {
      config = ClientConfig.builder().gateway(gateway).tls(cert, key, ca)
          .tlsProvider(tlsProvider).connectTimeout(Duration.ofMillis(connectTimeoutMs))
          .callTimeout(Duration.ofMillis(timeoutMs)).maxFrameBytes(maxFrameBytes)
          // One request: fail it at once if the connection drops, rather than wait to retry.
          .waitForConnection(false).build();
    } catch (IllegalArgumentException e) {
      return usage(err, e.getMessage());
    }
    try (BeamgateClient client = BeamgateClient.connect(config)) {
      if (ping) {
        Pong p = client.blocking().ping();
        out.println("pong protocol=" + p.protocol() + " server=" + p.server() + " principal="
            + p.principal());
        return 0;
      }
      Term result = client.blocking().call(mod, fun, list.elements());
      out.println(elixir ? formatElixir(result) : TermText.format(result));
      return 0;
    } catch (GatewayException e) {
      return failed(out, err, e);
    }
  }

  /** In Elixir syntax, or in Erlang's for what Elixir has no literal for (a pid, say). */
  private static String formatElixir(Term t) {
    try {
      return ElixirText.format(t);
    } catch (IllegalArgumentException e) {
      return TermText.format(t);
    }
  }

  private int usage(PrintWriter err, String message) {
    err.println("beamgate call: " + message);
    err.println("Try 'beamgate call --help' for more information.");
    return Main.EXIT_USAGE;
  }

  private static int failed(PrintWriter out, PrintWriter err, GatewayException e) {
    int exit = exitCode(e.code());
    if (e.code() == GatewayException.Code.BAD_RPC && e.erlang().isPresent()) {
      out.println(e.erlang().get());
    }
    err.println("beamgate call: " + label(exit) + ": " + e.getMessage());
    return exit;
  }

  /** The exit code for each kind of failure (the table in --help and docs/client-guide.md). */
  public static int exitCode(GatewayException.Code code) {
    switch (code) {
      case PERMISSION_DENIED:
        return EXIT_DENIED;
      case INVALID_ARGUMENT:
        return EXIT_INVALID;
      case BAD_RPC:
        return EXIT_BADRPC;
      case TIMEOUT:
        return EXIT_TIMEOUT;
      case UNAVAILABLE:
      case OUTCOME_UNKNOWN:
      case CLOSING:
        return EXIT_UNAVAILABLE;
      case CONNECTION:
      case TLS:
      case CLOSED:
        return EXIT_CONNECTION;
      case RESOURCE_EXHAUSTED:
      case FRAME_TOO_LARGE:
        return EXIT_EXHAUSTED;
      case PROTOCOL_ERROR:
      case CANCELLED:
      case INTERNAL:
      case UNKNOWN:
      default:
        return EXIT_INTERNAL;
    }
  }

  private static String label(int exit) {
    switch (exit) {
      case EXIT_DENIED:
        return "denied";
      case EXIT_INVALID:
        return "invalid argument";
      case EXIT_BADRPC:
        return "bad rpc";
      case EXIT_TIMEOUT:
        return "timeout";
      case EXIT_UNAVAILABLE:
        return "unavailable";
      case EXIT_CONNECTION:
        return "connection failed";
      case EXIT_EXHAUSTED:
        return "resource exhausted";
      default:
        return "internal error";
    }
  }
}
