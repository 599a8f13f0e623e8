package io.beamgate.node.etf;

import io.beamgate.node.term.Term;
import java.nio.ByteBuffer;

/** Decodes the external term format under {@link DecodeLimits}. Thread-safe. (Stub.) */
public final class EtfDecoder {
  public static final int VERSION = 131;
  private final DecodeLimits limits;

  public EtfDecoder(DecodeLimits limits) {
    this.limits = limits;
  }

  public static EtfDecoder withDefaults() {
    return new EtfDecoder(DecodeLimits.DEFAULTS);
  }

  public DecodeLimits limits() {
    return limits;
  }

  /**
   * Decodes one term that starts with the version byte (131) at {@code buf.position()}, and
   * advances the position past it. On failure the position is unspecified.
   */
  public Term decode(ByteBuffer buf) throws EtfException {
    throw new UnsupportedOperationException("stub");
  }

  /** Decodes a whole array holding exactly one term with its version byte. */
  public Term decode(byte[] bytes) throws EtfException {
    ByteBuffer buf = ByteBuffer.wrap(bytes);
    Term t = decode(buf);
    if (buf.hasRemaining()) {
      throw new EtfException("trailing bytes: " + buf.remaining() + " (expected: 0)");
    }
    return t;
  }
}
