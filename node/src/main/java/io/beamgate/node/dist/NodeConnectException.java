package io.beamgate.node.dist;

import java.io.IOException;

/** A connection to a node could not be set up; the message says why, for an operator. */
public class NodeConnectException extends IOException {
  private final HandshakeException.Reason reason;

  public NodeConnectException(HandshakeException.Reason reason, String message) {
    super(message);
    this.reason = reason;
  }

  public HandshakeException.Reason reason() {
    return reason;
  }
}
