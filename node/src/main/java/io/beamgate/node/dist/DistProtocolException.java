package io.beamgate.node.dist;

/** A peer broke the distribution protocol after the handshake; the connection is closed. */
public class DistProtocolException extends Exception {
  public DistProtocolException(String message) {
    super(message);
  }
}
