package io.beamgate.gateway.protocol;

import com.google.protobuf.ByteString;
import com.google.protobuf.UnsafeByteOperations;
import io.beamgate.gateway.proto.BitString;
import io.beamgate.gateway.proto.MapEntry;
import io.beamgate.gateway.proto.Opaque;
import io.beamgate.gateway.proto.TermList;
import io.beamgate.gateway.proto.TermMap;
import io.beamgate.gateway.proto.TermTuple;
import io.beamgate.node.term.Atom;
import io.beamgate.node.term.BigInt;
import io.beamgate.node.term.BitBinary;
import io.beamgate.node.term.Binary;
import io.beamgate.node.term.ErlFloat;
import io.beamgate.node.term.ErlList;
import io.beamgate.node.term.ErlMap;
import io.beamgate.node.term.Int;
import io.beamgate.node.term.Term;
import io.beamgate.node.term.TermText;
import io.beamgate.node.term.Tuple;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Converts between the node's terms and the client protocol's {@code beamgate.v1.Term}. From
 * the wire every refusal names where the term is (the same path syntax as the term guard:
 * {@code args[1]{0}[2]|tail#{key}}); pids, references, ports and funs cannot be expressed,
 * and {@code opaque} is refused. To the wire, those are sent as {@code opaque} text. Both
 * directions bound nesting, so no input can exhaust the stack.
 */
public final class TermProto {
  /** Deepest nesting converted by default (protobuf itself stops parsing at 100 levels). */
  public static final int DEFAULT_MAX_DEPTH = 48;

  private TermProto() {}

  /** A term from a client could not be converted. */
  public static final class Rejected extends Exception {
    private final String path;

    public Rejected(String path, String message) {
      super(message);
      this.path = path;
    }

    /** Where the term is, for example {@code args[0]{1}}. */
    public String path() {
      return path;
    }
  }

  /** The node term for a client's term; {@code path} names it in errors. */
  public static Term fromProto(io.beamgate.gateway.proto.Term t, String path, int maxDepth)
      throws Rejected {
    if (maxDepth < 1) {
      throw new Rejected(path, "nesting deeper than allowed");
    }
    switch (t.getKindCase()) {
      case ATOM: {
        String name = t.getAtom();
        if (name.codePointCount(0, name.length()) > Atom.MAX_LENGTH) {
          throw new Rejected(path, "atom longer than " + Atom.MAX_LENGTH + " characters");
        }
        return Atom.of(name);
      }
      case INT:
        return Int.of(t.getInt());
      case BIG_INT: {
        if (t.getBigInt().isEmpty()) {
          throw new Rejected(path, "big_int with no bytes");
        }
        if (t.getBigInt().size() > 1024) {
          throw new Rejected(path, "big_int of " + t.getBigInt().size()
              + " bytes (expected: <= 1024)");
        }
        BigInteger v = new BigInteger(t.getBigInt().toByteArray());
        return v.bitLength() < 64 ? Int.of(v.longValue()) : new BigInt(v);
      }
      case FLOAT:
        if (!Double.isFinite(t.getFloat())) {
          throw new Rejected(path, "float " + t.getFloat() + " (Erlang floats are finite)");
        }
        return new ErlFloat(t.getFloat());
      case BINARY:
        return Binary.wrap(t.getBinary().toByteArray());
      case CHARLIST: {
        String s = t.getCharlist();
        List<Term> cps = new ArrayList<>(s.length());
        s.codePoints().forEach(cp -> cps.add(Int.of(cp)));
        return ErlList.of(cps);
      }
      case LIST: {
        TermList l = t.getList();
        List<Term> out = new ArrayList<>(l.getElementsCount());
        for (int i = 0; i < l.getElementsCount(); i++) {
          out.add(fromProto(l.getElements(i), path + "[" + i + "]", maxDepth - 1));
        }
        if (!l.hasTail()) {
          return ErlList.of(out);
        }
        if (out.isEmpty()) {
          throw new Rejected(path, "an improper list needs at least one element");
        }
        return ErlList.improper(out, fromProto(l.getTail(), path + "|tail", maxDepth - 1));
      }
      case TUPLE: {
        TermTuple tu = t.getTuple();
        Term[] out = new Term[tu.getElementsCount()];
        for (int i = 0; i < out.length; i++) {
          out[i] = fromProto(tu.getElements(i), path + "{" + i + "}", maxDepth - 1);
        }
        return Tuple.of(out);
      }
      case MAP: {
        TermMap m = t.getMap();
        Map<Term, Term> out = new LinkedHashMap<>();
        for (int i = 0; i < m.getEntriesCount(); i++) {
          MapEntry e = m.getEntries(i);
          Term k = fromProto(e.getKey(), path + "#key[" + i + "]", maxDepth - 1);
          Term v = fromProto(e.getValue(), path + "#{" + abbreviate(TermText.format(k)) + "}",
              maxDepth - 1);
          if (out.put(k, v) != null) {
            throw new Rejected(path + "#key[" + i + "]", "duplicate map key "
                + abbreviate(TermText.format(k)));
          }
        }
        return ErlMap.of(out);
      }
      case BITSTRING: {
        BitString b = t.getBitstring();
        if (b.getData().isEmpty() || b.getBits() < 1 || b.getBits() > 7) {
          throw new Rejected(path, "bitstring of " + b.getData().size() + " bytes with "
              + b.getBits() + " bits in the last (expected: >= 1 byte, 1..7 bits)");
        }
        return BitBinary.wrap(b.getData().toByteArray(), b.getBits());
      }
      case OPAQUE:
        throw new Rejected(path, "pids, references, ports and funs are not accepted ("
            + abbreviate(t.getOpaque().getText()) + ")");
      case KIND_NOT_SET:
      default:
        throw new Rejected(path, "term with no value (or of a kind this gateway does not know)");
    }
  }

  /** A term has no protocol form within the depth bound. */
  public static final class TooDeep extends Exception {
    public TooDeep(int maxDepth) {
      super("term nested deeper than " + maxDepth + " levels");
    }
  }

  /** The protocol form of a node term (pids, references, ports and funs become opaque). */
  public static io.beamgate.gateway.proto.Term toProto(Term t, int maxDepth) throws TooDeep {
    return toProto(t, maxDepth, maxDepth);
  }

  private static io.beamgate.gateway.proto.Term toProto(Term t, int left, int max)
      throws TooDeep {
    if (left < 1) {
      throw new TooDeep(max);
    }
    io.beamgate.gateway.proto.Term.Builder b = io.beamgate.gateway.proto.Term.newBuilder();
    if (t instanceof Atom a) {
      b.setAtom(a.name());
    } else if (t instanceof Int i) {
      b.setInt(i.value());
    } else if (t instanceof BigInt bi) {
      b.setBigInt(ByteString.copyFrom(bi.value().toByteArray()));
    } else if (t instanceof ErlFloat f) {
      b.setFloat(f.value());
    } else if (t instanceof Binary bin) {
      // A Binary's array is never written to (its contract), so the message may share it.
      b.setBinary(UnsafeByteOperations.unsafeWrap(bin.array(), bin.arrayOffset(), bin.size()));
    } else if (t instanceof BitBinary bb) {
      b.setBitstring(BitString.newBuilder()
          .setData(ByteString.copyFrom(bb.unsafeArray())).setBits(bb.lastBits()));
    } else if (t instanceof ErlList l) {
      if (isCharlist(l)) {
        StringBuilder sb = new StringBuilder(l.size());
        for (Term e : l.elements()) {
          sb.appendCodePoint((int) ((Int) e).value());
        }
        b.setCharlist(sb.toString());
      } else {
        TermList.Builder lb = TermList.newBuilder();
        for (Term e : l.elements()) {
          lb.addElements(toProto(e, left - 1, max));
        }
        if (!l.isProper()) {
          lb.setTail(toProto(l.tail(), left - 1, max));
        }
        b.setList(lb);
      }
    } else if (t instanceof Tuple tu) {
      TermTuple.Builder tb = TermTuple.newBuilder();
      for (Term e : tu.elements()) {
        tb.addElements(toProto(e, left - 1, max));
      }
      b.setTuple(tb);
    } else if (t instanceof ErlMap m) {
      TermMap.Builder mb = TermMap.newBuilder();
      for (Map.Entry<Term, Term> e : m.entries().entrySet()) {
        mb.addEntries(MapEntry.newBuilder().setKey(toProto(e.getKey(), left - 1, max))
            .setValue(toProto(e.getValue(), left - 1, max)));
      }
      b.setMap(mb);
    } else {
      b.setOpaque(Opaque.newBuilder().setText(TermText.format(t)));
    }
    return b.build();
  }

  /**
   * A non-empty proper list of printable code points (as io_lib:printable_unicode_list):
   * sent as a string. Surrogates cannot be, and are sent as a list.
   */
  static boolean isCharlist(ErlList l) {
    if (!l.isPrintableCodePoints()) {
      return false;
    }
    for (Term e : l.elements()) {
      long c = ((Int) e).value();
      boolean printable = (c >= 32 && c < 127) || (c >= 160 && c < 0xD800)
          || (c > 0xDFFF && c < 0xFFFE) || (c > 0xFFFF && c <= 0x10FFFF)
          || c == '\n' || c == '\r' || c == '\t' || c == 0x0B || c == '\b' || c == '\f'
          || c == 27 || c == 7;
      if (!printable) {
        return false;
      }
    }
    return true;
  }

  private static String abbreviate(String s) {
    return s.length() > 40 ? s.substring(0, 40) + "..." : s;
  }
}
