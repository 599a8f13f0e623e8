package io.beamgate.security.policy;

import java.util.List;

/**
 * A policy file that cannot be used. {@link #problems()} holds every error found in one read,
 * each {@code file:line: key: message}; the message is the one error, or a count and the list,
 * one per line, as {@code gateway run} and reload show it.
 */
public class PolicyException extends io.beamgate.security.yaml.ConfigException {
  private final List<String> problems;
  private final List<String> warnings;

  public PolicyException(String message) {
    this(null, List.of(message), List.of());
  }

  /** Every error in {@code file}, and the warnings found while reading it. */
  public PolicyException(String file, List<String> problems, List<String> warnings) {
    super(message(file, problems));
    this.problems = List.copyOf(problems);
    this.warnings = List.copyOf(warnings);
  }

  private static String message(String file, List<String> problems) {
    if (problems.size() == 1) {
      return problems.get(0);
    }
    return (file == null ? "" : file + ": ") + problems.size() + " problems:\n  "
        + String.join("\n  ", problems);
  }

  /** Every error found, in file order, each on its own. */
  public List<String> problems() {
    return problems;
  }

  /** Warnings found while reading (the file was not usable, but these hold too). */
  public List<String> warnings() {
    return warnings;
  }
}
