package io.beamgate.node.etf;

import io.beamgate.node.term.Term;

/** Encodes terms in the external term format as OTP 25+ does. Thread-safe. (Stub.) */
public final class EtfEncoder {
  private EtfEncoder() {}

  /** The term with its version byte (131), as {@code term_to_binary/1} gives. */
  public static byte[] encode(Term t) {
    ByteArraySink sink = new ByteArraySink(64);
    encode(t, sink);
    return sink.toByteArray();
  }

  /** Writes the version byte (131) and the term. */
  public static void encode(Term t, ByteSink out) {
    throw new UnsupportedOperationException("stub");
  }
}
