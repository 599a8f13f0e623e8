package io.beamgate.gateway.config;

import java.net.InetAddress;
import java.net.UnknownHostException;

/**
 * An address or a block of addresses ({@code 10.0.0.7}, {@code 10.0.0.0/24},
 * {@code fd00::/8}), written as literals only: a host name is never resolved while reading a
 * file, since a trust decision must not depend on DNS.
 */
public record Cidr(byte[] network, int prefix) {
  /**
   * Parses {@code ADDRESS} or {@code ADDRESS/PREFIX}.
   *
   * @throws IllegalArgumentException saying what is wrong and what is expected
   */
  public static Cidr parse(String text) {
    String t = text.trim();
    int slash = t.indexOf('/');
    String addr = slash < 0 ? t : t.substring(0, slash);
    // four dotted parts (InetAddress would also take "10.1" for 10.0.0.1), or IPv6
    if (!addr.matches("[0-9]{1,3}(\\.[0-9]{1,3}){3}")
        && !addr.matches("[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*")) {
      throw new IllegalArgumentException("'" + text + "' (expected: an IPv4 or IPv6 address"
          + " literal, optionally /PREFIX, e.g. 10.0.0.0/24; host names are not resolved)");
    }
    byte[] bytes;
    try {
      bytes = InetAddress.getByName(addr).getAddress();
    } catch (UnknownHostException e) {
      throw new IllegalArgumentException("'" + text + "' (expected: an address literal)");
    }
    int max = bytes.length * 8;
    int prefix = max;
    if (slash >= 0) {
      try {
        prefix = Integer.parseInt(t.substring(slash + 1));
      } catch (NumberFormatException e) {
        prefix = -1;
      }
      if (prefix < 0 || prefix > max) {
        throw new IllegalArgumentException("'" + text + "' prefix (expected: 0.." + max + ")");
      }
    }
    return new Cidr(mask(bytes, prefix), prefix);
  }

  private static byte[] mask(byte[] b, int prefix) {
    byte[] out = b.clone();
    for (int i = 0; i < out.length; i++) {
      int bits = Math.max(0, Math.min(8, prefix - 8 * i));
      out[i] &= (byte) (0xff << (8 - bits));
    }
    return out;
  }

  /** Whether {@code a} is in this block (an IPv4-mapped IPv6 address counts as IPv4). */
  public boolean contains(InetAddress a) {
    byte[] b = a.getAddress();
    if (b.length == 16 && network.length == 4 && isV4Mapped(b)) {
      b = java.util.Arrays.copyOfRange(b, 12, 16);
    }
    return b.length == network.length && java.util.Arrays.equals(mask(b, prefix), network);
  }

  private static boolean isV4Mapped(byte[] b) {
    for (int i = 0; i < 10; i++) {
      if (b[i] != 0) {
        return false;
      }
    }
    return b[10] == (byte) 0xff && b[11] == (byte) 0xff;
  }

  @Override
  public String toString() {
    try {
      return InetAddress.getByAddress(network).getHostAddress() + "/" + prefix;
    } catch (UnknownHostException e) {
      throw new IllegalStateException(e);
    }
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Cidr c && c.prefix == prefix && java.util.Arrays.equals(c.network, network);
  }

  @Override
  public int hashCode() {
    return java.util.Arrays.hashCode(network) * 31 + prefix;
  }
}
