package io.beamgate.node.dist;

/** The distribution handshake failed; the message says why, and never contains the cookie. */
public class HandshakeException extends Exception {
  /** Why, in a form tests and callers can act on. */
  public enum Reason {
    WRONG_COOKIE,
    NOT_ALLOWED,
    SIMULTANEOUS_LOST,
    ALREADY_CONNECTED,
    MISSING_FLAGS,
    BAD_NAME,
    PROTOCOL,
    TIMEOUT,
    CONNECTION
  }

  private final Reason reason;

  public HandshakeException(Reason reason, String message) {
    super(message);
    this.reason = reason;
  }

  public Reason reason() {
    return reason;
  }
}
