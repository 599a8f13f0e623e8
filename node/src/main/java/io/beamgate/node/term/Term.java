package io.beamgate.node.term;

import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * An Erlang term: an immutable value as it travels in the external term format.
 *
 * <p>Subtypes are records or final classes, so terms can be taken apart with {@code switch}
 * patterns. {@code toString()} prints Erlang term text that {@code erl} reads back (see
 * {@link TermText}).
 */
public sealed interface Term
    permits Atom, Int, BigInt, ErlFloat, ErlList, Tuple, ErlMap, Binary, BitBinary, Pid, Port, Ref,
        Fun, ExternalFun {

  static Atom atom(String name) {
    return Atom.of(name);
  }

  /** An integer; use {@link #integer(BigInteger)} for values of any size. */
  static Int integer(long value) {
    return new Int(value);
  }

  /** An integer of any size: an {@link Int} when it fits in a long, else a {@link BigInt}. */
  static Term integer(BigInteger value) {
    return value.bitLength() < 64 ? new Int(value.longValue()) : new BigInt(value);
  }

  static ErlFloat number(double value) {
    return new ErlFloat(value);
  }

  static Tuple tuple(Term... elements) {
    return Tuple.of(elements);
  }

  static ErlList list(Term... elements) {
    return ErlList.of(elements);
  }

  /** A UTF-8 binary, as {@code <<"text"/utf8>>} makes. */
  static Binary binary(String utf8) {
    return Binary.wrap(utf8.getBytes(StandardCharsets.UTF_8));
  }

  static Binary binary(byte[] bytes) {
    return Binary.of(bytes);
  }

  /** An Erlang string: a list of Unicode code points. */
  static ErlList string(String text) {
    return ErlList.of(text.codePoints().mapToObj(cp -> (Term) new Int(cp)).toArray(Term[]::new));
  }

  /** The integer value of an {@link Int} or {@link BigInt}. */
  static BigInteger bigIntegerValue(Term t) {
    if (t instanceof Int i) {
      return BigInteger.valueOf(i.value());
    }
    if (t instanceof BigInt b) {
      return b.value();
    }
    throw new IllegalArgumentException("not an integer: " + t);
  }

  /** Internal helper for array-carrying records. */
  static int[] copy(int[] a) {
    return Arrays.copyOf(a, a.length);
  }
}
