package io.beamgate.gateway.protocol;

import io.netty.handler.codec.DecoderException;

/** A frame that cannot be accepted: the connection that sent it is answered and closed. */
public final class FrameException extends DecoderException {
  public enum Kind {
    /** Longer than the maximum frame size. */
    TOO_LARGE,
    /** Not a varint length followed by a message that parses. */
    MALFORMED
  }

  private final Kind kind;

  public FrameException(Kind kind, String message) {
    super(message);
    this.kind = kind;
  }

  public Kind kind() {
    return kind;
  }
}
