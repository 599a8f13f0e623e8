package io.beamgate.node.etf;

/**
 * Bounds the decoder enforces on untrusted input. Every field has a safe default
 * ({@link #DEFAULTS}); a violation is an {@link EtfException} naming the limit and the value.
 *
 * @param maxDepth deepest nesting of tuples, lists, maps and funs
 * @param maxTermBytes largest encoded term accepted (before decompression)
 * @param maxDecompressedBytes largest uncompressed size a compressed term (tag 80) may claim
 * @param maxBignumBytes largest number of digit bytes in SMALL_BIG / LARGE_BIG
 */
public record DecodeLimits(
    int maxDepth, long maxTermBytes, long maxDecompressedBytes, int maxBignumBytes) {
  /**
   * For terms from untrusted parties (internet clients, peer gateways): shallow terms and small
   * bignums only.
   */
  public static final DecodeLimits DEFAULTS =
      new DecodeLimits(1_000, 128L << 20, 64L << 20, 1_024);

  /**
   * For distribution connections with nodes of the trusted cluster: any term OTP produces
   * passes. Depth and bignum size are bounded only by the bytes present (each level and each
   * digit byte takes at least one byte of the frame, which the frame cap bounds); the decoder,
   * encoder, equality, hashing, ordering and printing of terms are all iterative, so depth
   * cannot overflow the stack.
   */
  public static final DecodeLimits DISTRIBUTION =
      new DecodeLimits(Integer.MAX_VALUE, 128L << 20, 64L << 20, Integer.MAX_VALUE);

  public DecodeLimits {
    if (maxDepth < 1) {
      throw new IllegalArgumentException("maxDepth: " + maxDepth + " (expected: >= 1)");
    }
    if (maxTermBytes < 1) {
      throw new IllegalArgumentException("maxTermBytes: " + maxTermBytes + " (expected: >= 1)");
    }
    if (maxDecompressedBytes < 0) {
      throw new IllegalArgumentException(
          "maxDecompressedBytes: " + maxDecompressedBytes + " (expected: >= 0)");
    }
    if (maxBignumBytes < 1) {
      throw new IllegalArgumentException(
          "maxBignumBytes: " + maxBignumBytes + " (expected: >= 1)");
    }
  }

  public DecodeLimits withMaxDepth(int v) {
    return new DecodeLimits(v, maxTermBytes, maxDecompressedBytes, maxBignumBytes);
  }

  public DecodeLimits withMaxTermBytes(long v) {
    return new DecodeLimits(maxDepth, v, maxDecompressedBytes, maxBignumBytes);
  }

  public DecodeLimits withMaxDecompressedBytes(long v) {
    return new DecodeLimits(maxDepth, maxTermBytes, v, maxBignumBytes);
  }

  public DecodeLimits withMaxBignumBytes(int v) {
    return new DecodeLimits(maxDepth, maxTermBytes, maxDecompressedBytes, v);
  }
}
