package io.beamgate.gateway.cli;

import io.beamgate.gateway.config.ConfigReference;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/**
 * {@code beamgate gateway config-reference}: every configuration key with its type, default,
 * bounds and meaning, as the Markdown table docs/admin-guide.md section 4 holds.
 */
@Command(name = "config-reference", mixinStandardHelpOptions = true,
    description = "Print every configuration key (type, default, bounds, meaning) as the"
        + " admin guide's Markdown reference table.")
final class ConfigReferenceCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Override
  public Integer call() {
    spec.commandLine().getOut().print(ConfigReference.markdown());
    spec.commandLine().getOut().flush();
    return 0;
  }
}
