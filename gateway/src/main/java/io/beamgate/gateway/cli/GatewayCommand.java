package io.beamgate.gateway.cli;

import io.beamgate.security.config.ConfigCheck;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code beamgate gateway}: the mTLS gateway. */
@Command(name = "gateway", mixinStandardHelpOptions = true,
    description = "The mTLS gateway in front of an Erlang cluster.",
    subcommands = {GatewayCommand.Check.class})
public final class GatewayCommand implements Runnable {
  @Spec CommandSpec spec;

  @Override
  public void run() {
    spec.commandLine().usage(spec.commandLine().getOut());
  }

  /** {@code beamgate gateway check --config FILE}. */
  @Command(name = "check", mixinStandardHelpOptions = true,
      description = {"Validate a gateway configuration and every file it names (TLS files, CRL,"
          + " cookie, policy) without starting anything, and print what the policy allows.",
          "Exit 0 when all is usable, 1 otherwise."})
  public static final class Check implements Callable<Integer> {
    @Option(names = "--config", required = true, paramLabel = "FILE",
        description = "The gateway configuration (YAML).")
    Path config;

    @Override
    public Integer call() {
      return ConfigCheck.run(config, System.out, System.err);
    }
  }
}
