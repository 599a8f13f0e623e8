package io.beamgate.node.etf;

import io.beamgate.node.term.Atom;
import java.util.Arrays;

/**
 * A small, fixed-size, direct-mapped cache from an atom's encoded text to its {@link Atom}, so
 * the decoder skips charset decoding, validation and allocation for atoms it has seen (most
 * atoms on the wire repeat: node names, module and function names, tags).
 *
 * <p>Bounded on purpose: hostile input can only evict entries, never grow the cache, so it is
 * no atom table to exhaust. Shared across threads without locks: entries are immutable and
 * published through final fields, so a racy read sees a whole entry or none.
 */
final class AtomInterner {
  private static final int SLOTS = 4096; // a power of two
  static final int MAX_CACHED_BYTES = 255;

  private static final class Entry {
    final byte[] text;
    final boolean latin1;
    final Atom atom;

    Entry(byte[] text, boolean latin1, Atom atom) {
      this.text = text;
      this.latin1 = latin1;
      this.atom = atom;
    }
  }

  static final AtomInterner SHARED = new AtomInterner();

  private final Entry[] slots = new Entry[SLOTS];

  static int hash(byte[] a, int off, int len) {
    int h = len;
    for (int i = off, end = off + len; i < end; i++) {
      h = 31 * h + a[i];
    }
    return h ^ (h >>> 16);
  }

  /** The cached atom for {@code a[off, off+len)}, or null. */
  Atom get(int hash, byte[] a, int off, int len, boolean latin1) {
    Entry e = slots[hash & (SLOTS - 1)];
    if (e != null
        && e.latin1 == latin1
        && Arrays.equals(e.text, 0, e.text.length, a, off, off + len)) {
      return e.atom;
    }
    return null;
  }

  void put(int hash, byte[] a, int off, int len, boolean latin1, Atom atom) {
    if (len <= MAX_CACHED_BYTES) {
      slots[hash & (SLOTS - 1)] = new Entry(Arrays.copyOfRange(a, off, off + len), latin1, atom);
    }
  }
}
