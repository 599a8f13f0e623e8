package io.beamgate.security.policy;

/** A policy file that cannot be used; the message names the file, line and key. */
public class PolicyException extends io.beamgate.security.config.ConfigException {
  public PolicyException(String message) {
    super(message);
  }
}
