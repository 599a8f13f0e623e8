package io.beamgate.node.epmd;

import java.io.IOException;

/** EPMD could not be reached, refused a request, or answered something malformed. */
public class EpmdException extends IOException {
  public EpmdException(String message) {
    super(message);
  }

  public EpmdException(String message, Throwable cause) {
    super(message, cause);
  }
}
