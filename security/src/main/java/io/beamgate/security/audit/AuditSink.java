package io.beamgate.security.audit;

import java.io.IOException;

/** Where audit lines go. Not thread-safe: {@link AuditLog} calls it under its lock. */
interface AuditSink extends AutoCloseable {
  /**
   * Appends one whole line, or nothing: on an IOException the line is not in the sink (a
   * sink that cannot promise this says so in {@link #atomic()}).
   */
  void append(byte[] line) throws IOException;

  /** Whether {@link #append} never leaves part of a line behind. */
  boolean atomic();

  /**
   * Why the sink no longer writes where it should (its file was deleted, or renamed away by a
   * log rotation), or null. Called about once a second: must be cheap.
   */
  String displaced();

  /** Closes and opens the destination again (after a rotation). */
  void reopen() throws IOException;

  /** For logs: the file's path, or "standard output". */
  String describe();

  @Override
  void close() throws IOException;
}
