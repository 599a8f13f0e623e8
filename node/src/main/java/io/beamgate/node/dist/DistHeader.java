package io.beamgate.node.dist;

import io.beamgate.node.etf.EtfDecoder;
import io.beamgate.node.etf.EtfException;
import io.beamgate.node.term.Atom;
import java.nio.ByteBuffer;

/**
 * The atom cache of one connection, and the atom-cache section of distribution headers (erts
 * "External Term Format", section Distribution Header): 8 segments of 256 entries; each header
 * names the atoms its terms refer to, adding new ones to the cache.
 */
final class DistHeader {
  static final int NORMAL = 68;
  static final int FRAGMENT_START = 69;
  static final int FRAGMENT_CONT = 70;
  private static final Atom[] NONE = new Atom[0];

  private final Atom[] cache = new Atom[2048];

  /** Reads NumberOfAtomCacheRefs, flags and refs; returns the atoms, by reference index. */
  Atom[] readAtomRefs(ByteBuffer b) throws EtfException {
    int n = b.get() & 0xFF;
    if (n == 0) {
      return NONE;
    }
    byte[] flags = new byte[n / 2 + 1];
    b.get(flags);
    int longHalf = half(flags, n);
    boolean longAtoms = (longHalf & 1) != 0;
    Atom[] refs = new Atom[n];
    // A bad entry fails only this message: the header is read to its end first, so every new
    // entry it defines still enters the cache, as the sender believes it did.
    EtfException bad = null;
    for (int i = 0; i < n; i++) {
      int h = half(flags, i);
      int segment = h & 0x07;
      int internal = b.get() & 0xFF;
      int slot = segment * 256 + internal;
      if ((h & 0x08) != 0) {
        int len = longAtoms ? (b.getShort() & 0xFFFF) : (b.get() & 0xFF);
        if (len > b.remaining()) {
          // Cannot be framed: the caller closes the connection.
          throw new java.nio.BufferUnderflowException();
        }
        byte[] text = new byte[len];
        b.get(text);
        try {
          cache[slot] = EtfDecoder.atomFromUtf8(text);
        } catch (EtfException e) {
          cache[slot] = null;
          bad = bad != null ? bad : new EtfException("entry " + slot + ": " + e.getMessage());
        }
      } else if (cache[slot] == null && bad == null) {
        bad = new EtfException("reference to empty entry " + slot);
      }
      refs[i] = cache[slot];
    }
    if (bad != null) {
      throw bad;
    }
    return refs;
  }

  /** Half-byte flag number {@code i}: even ones in the low half. */
  private static int half(byte[] flags, int i) {
    int v = flags[i / 2] & 0xFF;
    return (i % 2 == 0) ? v & 0x0F : v >>> 4;
  }
}
