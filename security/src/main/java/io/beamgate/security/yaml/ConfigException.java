package io.beamgate.security.yaml;

/** A configuration or policy file that cannot be used; the message names file, line and key. */
public class ConfigException extends Exception {
  private final java.util.List<String> problems;

  public ConfigException(String message) {
    super(message);
    this.problems = java.util.List.of(message);
  }

  /** Several problems found in one read of {@code file}, each naming its line and key. */
  public ConfigException(String file, java.util.List<String> problems) {
    super(problems.size() == 1 ? problems.get(0) : file + ": " + problems.size()
        + " problems:\n  " + String.join("\n  ", problems));
    this.problems = java.util.List.copyOf(problems);
  }

  /** Each problem on its own (one, unless the file had several). */
  public java.util.List<String> problems() {
    return problems;
  }
}
