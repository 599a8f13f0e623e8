package io.beamgate.security.identity;

/** A certificate whose names cannot serve as an identity; the message says why. */
public class IdentityException extends Exception {
  public IdentityException(String message) {
    super(message);
  }
}
