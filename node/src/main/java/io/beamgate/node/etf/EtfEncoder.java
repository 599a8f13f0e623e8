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

  /** The term with its version byte (131), as {@code term_to_binary/1} gives. */
  public static byte[] encode(Term t) {
    ByteArraySink sink = new ByteArraySink(64);
    encode(t, sink);
    return sink.toByteArray();
  }

  /** Writes the version byte (131) and the term. */
  public static void encode(Term t, ByteSink out) {
    out.writeByte(VERSION);
    encodeBody(t, out);
  }

  /** The number of bytes {@link #encode(Term, ByteSink)} writes for {@code t}. */
  public static long encodedSize(Term t) {
    long[] n = new long[1];
    encode(t, new ByteSink() {
      @Override
      public void writeByte(int b) {
        n[0]++;
      }

      @Override
      public void writeShort(int v) {
        n[0] += 2;
      }

      @Override
      public void writeInt(int v) {
        n[0] += 4;
      }

      @Override
      public void writeLong(long v) {
        n[0] += 8;
      }

      @Override
      public void writeBytes(byte[] src, int offset, int length) {
        n[0] += length;
      }
    });
    return n[0];
  }

  /** Writes the term without a version byte. */
  public static void encodeBody(Term root, ByteSink out) {
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
      writeOne(t, out, stack);
    }
  }

  private static void writeOne(Term t, ByteSink out, ArrayDeque<Object> stack) {
    if (t instanceof Atom a) {
      writeAtom(a, out);
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
      out.writeBytes(b.unsafeArray(), 0, b.size());
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
      writeAtom(p.node(), out);
      out.writeInt(p.id());
      out.writeInt(p.serial());
      out.writeInt(p.creation());
    } else if (t instanceof Ref r) {
      out.writeByte(NEWER_REFERENCE);
      out.writeShort(r.idCount());
      writeAtom(r.node(), out);
      out.writeInt(r.creation());
      for (int i = 0; i < r.idCount(); i++) {
        out.writeInt(r.id(i));
      }
    } else if (t instanceof Port p) {
      if ((p.id() >>> 28) == 0) {
        // OTP 25 writes NEW_PORT while the id fits in 28 bits, as its port numbers do.
        out.writeByte(NEW_PORT);
        writeAtom(p.node(), out);
        out.writeInt((int) p.id());
      } else {
        out.writeByte(V4_PORT);
        writeAtom(p.node(), out);
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
      writeAtom(f.module(), out);
      writeAtom(f.function(), out);
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
    String name = a.name();
    byte[] b = isAscii(name) ? name.getBytes(StandardCharsets.ISO_8859_1)
        : name.getBytes(StandardCharsets.UTF_8);
    if (b.length < 256) {
      out.writeByte(SMALL_ATOM_UTF8);
      out.writeByte(b.length);
    } else {
      out.writeByte(ATOM_UTF8);
      out.writeShort(b.length);
    }
    out.writeBytes(b, 0, b.length);
  }

  private static boolean isAscii(String s) {
    for (int i = 0; i < s.length(); i++) {
      if (s.charAt(i) >= 0x80) {
        return false;
      }
    }
    return true;
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
