package io.beamgate.node.etf;

import static io.beamgate.node.etf.EtfTags.*;

import io.beamgate.node.term.Atom;
import io.beamgate.node.term.BigInt;
import io.beamgate.node.term.Binary;
import io.beamgate.node.term.BitBinary;
import io.beamgate.node.term.ErlFloat;
import io.beamgate.node.term.ErlList;
import io.beamgate.node.term.ErlMap;
import io.beamgate.node.term.ExternalFun;
import io.beamgate.node.term.Fun;
import io.beamgate.node.term.Int;
import io.beamgate.node.term.Pid;
import io.beamgate.node.term.Port;
import io.beamgate.node.term.Ref;
import io.beamgate.node.term.Term;
import io.beamgate.node.term.Tuple;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * Encodes terms in the external term format, choosing tags as OTP 25's
 * {@code term_to_binary/1} does, so a decoded term re-encodes byte-exactly. Iterative: a deeply
 * nested term cannot overflow the stack. Thread-safe.
 */
public final class EtfEncoder {
  private EtfEncoder() {}

  /**
   * The default minor version: 2, UTF-8 atoms, as the distribution protocol (DFLAG_UTF8_ATOMS)
   * and OTP 26+'s {@code term_to_binary/1} write them.
   */
  public static final int MINOR_VERSION = 2;

  /** The term with its version byte (131), as {@code term_to_binary(T, [{minor_version, 2}])}. */
  public static byte[] encode(Term t) {
    return encode(t, MINOR_VERSION);
  }

  /**
   * The term as {@code term_to_binary(T, [{minor_version, M}])} gives it. Minor version 1 (OTP
   * 25's default for {@code term_to_binary/1}) writes atoms that are Latin-1 as ATOM_EXT, the
   * rest as UTF-8; 2 writes every atom as UTF-8. (0, with FLOAT_EXT, is not supported.)
   */
  public static byte[] encode(Term t, int minorVersion) {
    ByteArraySink sink = new ByteArraySink(64);
    encode(t, sink, minorVersion);
    return sink.toByteArray();
  }

  /** Writes the version byte (131) and the term. */
  public static void encode(Term t, ByteSink out) {
    encode(t, out, MINOR_VERSION);
  }

  /** Writes the version byte (131) and the term in the given minor version (1 or 2). */
  public static void encode(Term t, ByteSink out, int minorVersion) {
    boolean utf8Atoms = utf8Atoms(minorVersion);
    out.writeByte(VERSION);
    encodeBody(t, out, utf8Atoms);
  }

  private static boolean utf8Atoms(int minorVersion) {
    if (minorVersion != 1 && minorVersion != 2) {
      throw new IllegalArgumentException("minor version: " + minorVersion + " (expected: 1 or 2)");
    }
    return minorVersion == 2;
  }

  /**
   * The number of bytes {@link #encode(Term, ByteSink)} writes for {@code t}, by a walk that
   * only adds up sizes: nothing is written or copied (the guard, the result cap and the
   * distribution's buffer sizing ask it for every term they pass on).
   */
  public static long encodedSize(Term t) {
    return 1 + bodySize(t, Long.MAX_VALUE);
  }

  /**
   * As {@link #encodedSize}, but stops adding once the size is over {@code limit}: a value over
   * {@code limit} means "more than limit" (a huge term is not walked to its end to refuse it).
   */
  public static long encodedSizeAtMost(Term t, long limit) {
    return 1 + bodySize(t, limit - 1);
  }

  private static long bodySize(Term root, long limit) {
    long n = 0;
    ArrayDeque<Term> stack = new ArrayDeque<>();
    Term t = root;
    while (true) {
      if (t instanceof Tuple tu) {
        int k = tu.arity();
        n += k < 256 ? 2 : 5;
        n += children(tu.elements(), stack);
      } else if (t instanceof ErlList l) {
        List<Term> el = l.elements();
        if (el.isEmpty()) {
          n += 1;
        } else if (l.isProper() && el.size() <= 65535 && isByteString(el)) {
          n += 3L + el.size();
        } else {
          n += 5 + children(el, stack);
          Term tail = l.tail();
          if (l.isProper()) {
            n += 1; // NIL
          } else if (tail instanceof Tuple || tail instanceof ErlMap) {
            stack.push(tail);
          } else {
            n += leafSize(tail); // canonical: an improper tail is never a list
          }
        }
      } else if (t instanceof ErlMap m) {
        n += 5;
        for (Map.Entry<Term, Term> e : m.entries().entrySet()) {
          stack.push(e.getValue());
          stack.push(e.getKey());
        }
      } else {
        n += leafSize(t);
      }
      if (n > limit || stack.isEmpty()) {
        return n;
      }
      t = stack.pop();
    }
  }

  /**
   * Adds up the leaves among {@code elements} at once and pushes the rest (tuples, lists,
   * maps) to be walked: a list of small tuples costs a push per tuple, not per element.
   */
  private static long children(List<Term> elements, ArrayDeque<Term> stack) {
    long n = 0;
    for (int j = elements.size() - 1; j >= 0; j--) {
      Term c = elements.get(j);
      if (c instanceof Tuple || c instanceof ErlList || c instanceof ErlMap) {
        stack.push(c);
      } else {
        n += leafSize(c);
      }
    }
    return n;
  }

  /** The encoded size of a term that holds no other terms to walk. */
  private static long leafSize(Term t) {
    if (t instanceof Atom a) {
      return atomSize(a);
    } else if (t instanceof Int i) {
      return intSize(i.value());
    } else if (t instanceof Binary b) {
      return 5L + b.size();
    } else if (t instanceof ErlFloat) {
      return 9;
    } else if (t instanceof BigInt b) {
      int k = (b.value().abs().bitLength() + 7) / 8;
      return k < 256 ? 3L + k : 6L + k;
    } else if (t instanceof Pid p) {
      return 1 + atomSize(p.node()) + 12;
    } else if (t instanceof Ref r) {
      return 1 + 2 + atomSize(r.node()) + 4 + 4L * r.idCount();
    } else if (t instanceof Port p) {
      return 1 + atomSize(p.node()) + ((p.id() >>> 28) == 0 ? 4 : 8) + 4;
    } else if (t instanceof BitBinary b) {
      return 6L + b.unsafeArray().length;
    } else if (t instanceof Fun f) {
      return f.unsafeEncoded().length;
    } else if (t instanceof ExternalFun f) {
      return 1 + atomSize(f.module()) + atomSize(f.function()) + intSize(f.arity());
    }
    throw new IllegalArgumentException("cannot encode " + t.getClass());
  }

  /** SMALL_ATOM_UTF8 or ATOM_UTF8 with the name's UTF-8 bytes, as {@link #writeAtom}. */
  private static int atomSize(Atom a) {
    int len = AtomBytes.of(a).utf8.length;
    return len < 256 ? 2 + len : 3 + len;
  }

  /** As {@link #writeInt} writes {@code v}. */
  private static int intSize(long v) {
    if (v >= 0 && v <= 255) {
      return 2;
    } else if (v >= Integer.MIN_VALUE && v <= Integer.MAX_VALUE) {
      return 5;
    }
    long mag = v < 0 ? -v : v;
    return 3 + (64 - Long.numberOfLeadingZeros(mag) + 7) / 8;
  }

  /** Writes the term without a version byte (UTF-8 atoms, as on the distribution wire). */
  public static void encodeBody(Term root, ByteSink out) {
    encodeBody(root, out, true);
  }

  private static void encodeBody(Term root, ByteSink out, boolean utf8) {
    // Work items: a Term to write, or an Iterator of terms still to write (list/tuple/map
    // elements), or a trailing term (an improper list tail) wrapped in Tail.
    ArrayDeque<Object> stack = new ArrayDeque<>();
    stack.push(root);
    while (!stack.isEmpty()) {
      Object top = stack.peek();
      Term t;
      if (top instanceof Iterator<?> it) {
        if (!it.hasNext()) {
          stack.pop();
          continue;
        }
        t = (Term) it.next();
      } else {
        stack.pop();
        t = (Term) top;
      }
      writeOne(t, out, stack, utf8);
    }
  }

  private static void writeOne(Term t, ByteSink out, ArrayDeque<Object> stack,
      boolean utf8) {
    if (t instanceof Atom a) {
      writeAtom(a, out, utf8);
    } else if (t instanceof Int i) {
      writeInt(i.value(), out);
    } else if (t instanceof Tuple tu) {
      int n = tu.arity();
      if (n < 256) {
        out.writeByte(SMALL_TUPLE);
        out.writeByte(n);
      } else {
        out.writeByte(LARGE_TUPLE);
        out.writeInt(n);
      }
      if (n > 0) {
        stack.push(tu.elements().iterator());
      }
    } else if (t instanceof ErlList l) {
      writeList(l, out, stack);
    } else if (t instanceof Binary b) {
      out.writeByte(BINARY);
      out.writeInt(b.size());
      out.writeBytes(b.array(), b.arrayOffset(), b.size());
    } else if (t instanceof ErlMap m) {
      out.writeByte(MAP);
      out.writeInt(m.size());
      if (m.size() > 0) {
        stack.push(new MapIterator(m.entries()));
      }
    } else if (t instanceof ErlFloat f) {
      out.writeByte(NEW_FLOAT);
      out.writeLong(Double.doubleToRawLongBits(f.value()));
    } else if (t instanceof BigInt b) {
      writeBig(b.value(), out);
    } else if (t instanceof Pid p) {
      out.writeByte(NEW_PID);
      writeAtom(p.node(), out, utf8);
      out.writeInt(p.id());
      out.writeInt(p.serial());
      out.writeInt(p.creation());
    } else if (t instanceof Ref r) {
      out.writeByte(NEWER_REFERENCE);
      out.writeShort(r.idCount());
      writeAtom(r.node(), out, utf8);
      out.writeInt(r.creation());
      for (int i = 0; i < r.idCount(); i++) {
        out.writeInt(r.id(i));
      }
    } else if (t instanceof Port p) {
      if ((p.id() >>> 28) == 0) {
        // OTP 25 writes NEW_PORT while the id fits in 28 bits, as its port numbers do.
        out.writeByte(NEW_PORT);
        writeAtom(p.node(), out, utf8);
        out.writeInt((int) p.id());
      } else {
        out.writeByte(V4_PORT);
        writeAtom(p.node(), out, utf8);
        out.writeLong(p.id());
      }
      out.writeInt(p.creation());
    } else if (t instanceof BitBinary b) {
      byte[] a = b.unsafeArray();
      out.writeByte(BIT_BINARY);
      out.writeInt(a.length);
      out.writeByte(b.lastBits());
      out.writeBytes(a, 0, a.length);
    } else if (t instanceof Fun f) {
      byte[] e = f.unsafeEncoded();
      out.writeBytes(e, 0, e.length);
    } else if (t instanceof ExternalFun f) {
      out.writeByte(EXPORT);
      writeAtom(f.module(), out, utf8);
      writeAtom(f.function(), out, utf8);
      writeInt(f.arity(), out);
    } else {
      throw new IllegalArgumentException("cannot encode " + t.getClass());
    }
  }

  private static void writeList(ErlList l, ByteSink out, ArrayDeque<Object> stack) {
    List<Term> el = l.elements();
    if (el.isEmpty()) {
      out.writeByte(NIL);
      return;
    }
    if (l.isProper() && el.size() <= 65535 && isByteString(el)) {
      out.writeByte(STRING);
      out.writeShort(el.size());
      byte[] b = new byte[el.size()];
      for (int i = 0; i < b.length; i++) {
        b[i] = (byte) ((Int) el.get(i)).value();
      }
      out.writeBytes(b, 0, b.length);
      return;
    }
    out.writeByte(LIST);
    out.writeInt(el.size());
    // Elements, then the tail (NIL for a proper list).
    stack.push(List.of(l.tail()).iterator());
    stack.push(el.iterator());
  }

  private static boolean isByteString(List<Term> el) {
    for (Term t : el) {
      if (!(t instanceof Int i) || i.value() < 0 || i.value() > 255) {
        return false;
      }
    }
    return true;
  }

  static void writeAtom(Atom a, ByteSink out) {
    writeAtom(a, out, true);
  }

  /**
   * SMALL_ATOM_UTF8 under 256 bytes, else ATOM_UTF8; with {@code utf8} false (minor version
   * 1), ATOM_EXT for an atom whose characters are all Latin-1, as OTP's enc_atom.
   */
  static void writeAtom(Atom a, ByteSink out, boolean utf8) {
    AtomBytes ab = AtomBytes.of(a);
    if (!utf8 && ab.latin1 != null) {
      out.writeByte(ATOM);
      out.writeShort(ab.latin1.length);
      out.writeBytes(ab.latin1, 0, ab.latin1.length);
      return;
    }
    byte[] b = ab.utf8;
    if (b.length < 256) {
      out.writeByte(SMALL_ATOM_UTF8);
      out.writeByte(b.length);
    } else {
      out.writeByte(ATOM_UTF8);
      out.writeShort(b.length);
    }
    out.writeBytes(b, 0, b.length);
  }

  /**
   * An atom's encoded text, kept in a small direct-mapped cache (atoms repeat: node names,
   * modules, tags), so the hot path neither scans nor re-encodes the name. Bounded; entries are
   * immutable, so racy sharing between threads is safe.
   */
  private static final class AtomBytes {
    private static final int SLOTS = 4096;
    private static final AtomBytes[] CACHE = new AtomBytes[SLOTS];

    final String name;
    final byte[] utf8;
    final byte[] latin1; // null when some character is outside Latin-1

    private AtomBytes(String name) {
      this.name = name;
      boolean ascii = true;
      boolean isLatin1 = true;
      for (int i = 0; i < name.length(); i++) {
        char c = name.charAt(i);
        ascii &= c < 0x80;
        isLatin1 &= c < 0x100;
      }
      this.utf8 = name.getBytes(ascii ? StandardCharsets.ISO_8859_1 : StandardCharsets.UTF_8);
      this.latin1 = ascii ? utf8 : isLatin1 ? name.getBytes(StandardCharsets.ISO_8859_1) : null;
    }

    static AtomBytes of(Atom a) {
      String name = a.name();
      int h = name.hashCode();
      int slot = (h ^ (h >>> 16)) & (SLOTS - 1);
      AtomBytes e = CACHE[slot];
      if (e != null && (e.name == name || e.name.equals(name))) {
        return e;
      }
      e = new AtomBytes(name);
      CACHE[slot] = e;
      return e;
    }
  }

  private static void writeInt(long v, ByteSink out) {
    if (v >= 0 && v <= 255) {
      out.writeByte(SMALL_INTEGER);
      out.writeByte((int) v);
    } else if (v >= Integer.MIN_VALUE && v <= Integer.MAX_VALUE) {
      out.writeByte(INTEGER);
      out.writeInt((int) v);
    } else {
      // SMALL_BIG: sign byte, then the magnitude's bytes, least significant first.
      boolean neg = v < 0;
      long mag = neg ? -v : v; // Long.MIN_VALUE stays negative: treated as unsigned below
      int n = (64 - Long.numberOfLeadingZeros(mag) + 7) / 8;
      out.writeByte(SMALL_BIG);
      out.writeByte(n);
      out.writeByte(neg ? 1 : 0);
      for (int i = 0; i < n; i++) {
        out.writeByte((int) (mag >>> (8 * i)));
      }
    }
  }

  private static void writeBig(BigInteger v, ByteSink out) {
    BigInteger mag = v.abs();
    byte[] be = mag.toByteArray(); // big-endian, possibly with a leading zero
    int start = be[0] == 0 ? 1 : 0;
    int n = be.length - start;
    if (n < 256) {
      out.writeByte(SMALL_BIG);
      out.writeByte(n);
    } else {
      out.writeByte(LARGE_BIG);
      out.writeInt(n);
    }
    out.writeByte(v.signum() < 0 ? 1 : 0);
    byte[] le = new byte[n];
    for (int i = 0; i < n; i++) {
      le[i] = be[be.length - 1 - i];
    }
    out.writeBytes(le, 0, n);
  }

  /** Iterates a map's keys and values alternately. */
  private static final class MapIterator implements Iterator<Term> {
    private final Iterator<Map.Entry<Term, Term>> entries;
    private Term pendingValue;

    MapIterator(Map<Term, Term> m) {
      this.entries = m.entrySet().iterator();
    }

    @Override
    public boolean hasNext() {
      return pendingValue != null || entries.hasNext();
    }

    @Override
    public Term next() {
      if (pendingValue != null) {
        Term v = pendingValue;
        pendingValue = null;
        return v;
      }
      Map.Entry<Term, Term> e = entries.next();
      pendingValue = e.getValue();
      return e.getKey();
    }
  }
}
