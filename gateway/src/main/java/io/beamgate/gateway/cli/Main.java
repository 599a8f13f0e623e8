package io.beamgate.gateway.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code beamgate} command line. */
@Command(
    name = "beamgate",
    mixinStandardHelpOptions = true,
    versionProvider = VersionProvider.class,
    description = "A policy-enforcing mTLS gateway for Erlang/Elixir clusters.",
    subcommands = {
      CallCommand.class,
      DemoCommand.class,
      io.beamgate.certs.cli.CertsCommand.class,
      EpmdCommand.class,
      GatewayCommand.class,
      NodeCommand.class,
      // `beamgate generate-completion > /etc/bash_completion.d/beamgate`: bash and zsh
      // completion written by picocli from this very model, so it never goes stale.
      picocli.AutoComplete.GenerateCompletion.class,
      CommandLine.HelpCommand.class
    })
public final class Main implements Runnable {
  /** Exit code for bad usage, as sysexits' EX_USAGE. */
  public static final int EXIT_USAGE = 64;

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    spec.commandLine().usage(spec.commandLine().getOut());
  }

  /** The command line with beamgate's conventions (exit 64 on bad usage). */
  public static CommandLine commandLine() {
    CommandLine cl = new CommandLine(new Main());
    applyVersion(cl);
    cl.setParameterExceptionHandler((ex, args) -> {
      CommandLine bad = ex.getCommandLine();
      bad.getErr().println(bad.getCommandSpec().qualifiedName() + ": " + ex.getMessage());
      bad.usage(bad.getErr());
      return EXIT_USAGE;
    });
    return cl;
  }

  /** Every subcommand, from any module, prints beamgate's version on --version. */
  private static void applyVersion(CommandLine cl) {
    cl.getCommandSpec().versionProvider(new VersionProvider());
    cl.getSubcommands().values().forEach(Main::applyVersion);
  }

  public static void main(String[] args) {
    // One-shot commands print their own results: log warnings only. Long-running ones log what
    // they do. -Dbeamgate.log.level=... overrides; gateway run also takes --log-level.
    String level = "warn";
    if (args.length > 0 && (args[0].equals("epmd")
        || (args[0].equals("node") && args.length > 1 && args[1].equals("serve"))
        || (args[0].equals("gateway") && args.length > 1 && args[1].equals("run")))) {
      level = "info";
    }
    LogSetup.level(System.getProperty("beamgate.log.level", level));
    System.exit(commandLine().execute(args));
  }
}
