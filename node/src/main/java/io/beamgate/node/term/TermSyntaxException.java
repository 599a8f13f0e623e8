package io.beamgate.node.term;

/**
 * Erlang term text that does not parse. Unchecked: callers that take text from users catch it
 * and show {@link #getMessage()}, which names the 1-based column.
 */
public class TermSyntaxException extends IllegalArgumentException {
  private final int column;

  public TermSyntaxException(String message, int column) {
    super(message + " at column " + column);
    this.column = column;
  }

  /** 1-based column of the fault. */
  public int column() {
    return column;
  }
}
