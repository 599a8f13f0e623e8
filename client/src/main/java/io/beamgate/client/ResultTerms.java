package io.beamgate.client;

import io.beamgate.gateway.proto.BitString;
import io.beamgate.gateway.proto.MapEntry;
import io.beamgate.gateway.proto.TermList;
import io.beamgate.gateway.proto.TermTuple;
import io.beamgate.node.term.Atom;
import io.beamgate.node.term.BitBinary;
import io.beamgate.node.term.Binary;
import io.beamgate.node.term.ErlFloat;
import io.beamgate.node.term.ErlList;
import io.beamgate.node.term.ErlMap;
import io.beamgate.node.term.Int;
import io.beamgate.node.term.Term;
import io.beamgate.node.term.Tuple;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Results from the gateway as node terms. Unlike the gateway's conversion of requests
 * ({@code TermProto.fromProto}), {@code opaque} is accepted: the node's term model cannot
 * rebuild a pid, reference, port or fun from its printed text, so an opaque term becomes
 * {@code {'$beamgate_opaque', "Text"}} ({@link BeamgateClient#opaqueText}). Depth is bounded by
 * the frame parser's recursion limit. Internal.
 */
final class ResultTerms {
  static final Atom OPAQUE_TAG = Atom.of("$beamgate_opaque");

  private ResultTerms() {}

  /** A result term that breaks the protocol's rules; {@code path} says where. */
  static final class Invalid extends Exception {
    private static final long serialVersionUID = 1L;

    Invalid(String path, String message) {
      super(path + ": " + message);
    }
  }

  static Term fromProto(io.beamgate.gateway.proto.Term t, String path) throws Invalid {
    switch (t.getKindCase()) {
      case ATOM: {
        String name = t.getAtom();
        if (name.codePointCount(0, name.length()) > Atom.MAX_LENGTH) {
          throw new Invalid(path, "atom longer than " + Atom.MAX_LENGTH + " characters");
        }
        return Atom.of(name);
      }
      case INT:
        return Int.of(t.getInt());
      case BIG_INT:
        if (t.getBigInt().isEmpty()) {
          throw new Invalid(path, "big_int with no bytes");
        }
        return Term.integer(new BigInteger(t.getBigInt().toByteArray()));
      case FLOAT:
        if (!Double.isFinite(t.getFloat())) {
          throw new Invalid(path, "float " + t.getFloat() + " (Erlang floats are finite)");
        }
        return new ErlFloat(t.getFloat());
      case BINARY:
        return Binary.wrap(t.getBinary().toByteArray());
      case CHARLIST:
        return charlist(t.getCharlist());
      case LIST: {
        TermList l = t.getList();
        List<Term> out = new ArrayList<>(l.getElementsCount());
        for (int i = 0; i < l.getElementsCount(); i++) {
          out.add(fromProto(l.getElements(i), path + "[" + i + "]"));
        }
        if (!l.hasTail()) {
          return ErlList.of(out);
        }
        if (out.isEmpty()) {
          throw new Invalid(path, "an improper list needs at least one element");
        }
        return ErlList.improper(out, fromProto(l.getTail(), path + "|tail"));
      }
      case TUPLE: {
        TermTuple tu = t.getTuple();
        Term[] out = new Term[tu.getElementsCount()];
        for (int i = 0; i < out.length; i++) {
          out[i] = fromProto(tu.getElements(i), path + "{" + i + "}");
        }
        return Tuple.of(out);
      }
      case MAP: {
        Map<Term, Term> out = new LinkedHashMap<>();
        List<MapEntry> entries = t.getMap().getEntriesList();
        for (int i = 0; i < entries.size(); i++) {
          Term k = fromProto(entries.get(i).getKey(), path + "#key[" + i + "]");
          Term v = fromProto(entries.get(i).getValue(), path + "#value[" + i + "]");
          if (out.put(k, v) != null) {
            throw new Invalid(path + "#key[" + i + "]", "duplicate map key");
          }
        }
        return ErlMap.of(out);
      }
      case BITSTRING: {
        BitString b = t.getBitstring();
        if (b.getData().isEmpty() || b.getBits() < 1 || b.getBits() > 7) {
          throw new Invalid(path, "bitstring of " + b.getData().size() + " bytes with "
              + b.getBits() + " bits in the last (expected: >= 1 byte, 1..7 bits)");
        }
        return BitBinary.wrap(b.getData().toByteArray(), b.getBits());
      }
      case OPAQUE:
        return Tuple.of(OPAQUE_TAG, charlist(t.getOpaque().getText()));
      case KIND_NOT_SET:
      default:
        throw new Invalid(path, "term with no value (or of a kind this client does not know)");
    }
  }

  private static ErlList charlist(String s) {
    List<Term> cps = new ArrayList<>(s.length());
    s.codePoints().forEach(cp -> cps.add(Int.of(cp)));
    return ErlList.of(cps);
  }
}
