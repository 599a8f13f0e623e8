package io.beamgate.node.etf;

/**
 * Malformed or over-limit external term format data. Messages name the limit or the fault and
 * the value, in the form {@code "depth: 1001 (expected: <= 1000)"}.
 */
public class EtfException extends Exception {
  public EtfException(String message) {
    super(message);
  }

  public EtfException(String message, Throwable cause) {
    super(message, cause);
  }
}
