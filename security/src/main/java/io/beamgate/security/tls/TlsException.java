package io.beamgate.security.tls;

import java.io.IOException;

/** A TLS context cannot be made from the given files; the message names the file and why. */
public class TlsException extends IOException {
  public TlsException(String message) {
    super(message);
  }

  public TlsException(String message, Throwable cause) {
    super(message, cause);
  }
}
