package io.beamgate.security.config;

/** A configuration or policy file that cannot be used; the message names file, line and key. */
public class ConfigException extends Exception {
  public ConfigException(String message) {
    super(message);
  }
}
