package io.beamgate.security.audit;

import java.io.IOException;
import java.io.OutputStream;

/**
 * Standard output, when no audit file is configured. A stream cannot take back half a line,
 * so a failure there may leave one; a file is the way to audit that matters.
 */
final class StreamSink implements AuditSink {
  private final OutputStream out;

  StreamSink(OutputStream out) {
    this.out = out;
  }

  @Override
  public void append(byte[] line) throws IOException {
    out.write(line, 0, line.length);
    out.flush();
    // A PrintStream swallows IOExceptions and keeps an error flag for good: no recovery.
    if (out instanceof java.io.PrintStream p && p.checkError()) {
      throw new IOException("standard output cannot be written");
    }
  }

  @Override
  public boolean atomic() {
    return false;
  }

  @Override
  public String displaced() {
    return null;
  }

  @Override
  public void reopen() {
    // nothing to reopen
  }

  @Override
  public String describe() {
    return "standard output";
  }

  @Override
  public void close() throws IOException {
    out.flush(); // standard output is not ours to close
  }
}
