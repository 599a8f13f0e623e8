package io.beamgate.node.etf;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.beamgate.node.term.Atom;
import io.beamgate.node.term.Binary;
import io.beamgate.node.term.ErlList;
import io.beamgate.node.term.ErlMap;
import io.beamgate.node.term.Term;
import io.beamgate.node.term.Tuple;
import java.nio.ByteBuffer;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Large binaries decoded from an input the caller gives up stay ranges of it; anything else is
 * copied, and a range behaves as the same bytes in a binary of their own.
 */
class SharedBinaryTest {
  private static final EtfDecoder DECODER = new EtfDecoder(DecodeLimits.DEFAULTS);

  private static byte[] random(int n, long seed) {
    byte[] b = new byte[n];
    new Random(seed).nextBytes(b);
    return b;
  }

  /** The body (no version byte) of {@code t}, behind {@code pad} bytes, in a heap buffer. */
  private static ByteBuffer body(Term t, int pad) {
    ByteArraySink s = new ByteArraySink(1024);
    for (int i = 0; i < pad; i++) {
      s.writeByte(0);
    }
    EtfEncoder.encodeBody(t, s);
    ByteBuffer b = ByteBuffer.wrap(s.toByteArray());
    b.position(pad);
    return b.slice();
  }

  @Test
  void aLargeBinaryOfAnOwnedInputIsARangeOfIt() throws Exception {
    byte[] bytes = random(EtfDecoder.SHARED_BINARY_MIN, 1);
    ByteBuffer in = body(Tuple.of(Atom.of("ok"), Binary.wrap(bytes)), 5);
    Term t = DECODER.decodeAfterHeader(in, new Atom[0], true);
    Binary b = (Binary) ((Tuple) t).get(1);
    assertSame(in.array(), b.array(), "no copy");
    assertEquals(EtfDecoder.SHARED_BINARY_MIN, b.size());
    assertArrayEquals(bytes, b.toByteArray());
    assertArrayEquals(bytes, b.unsafeArray(), "an array of exactly its bytes");
    // The same bytes in a binary of their own: equal, same hash (a map key found either way).
    Binary own = Binary.of(bytes);
    assertEquals(own, b);
    assertEquals(b, own);
    assertEquals(own.hashCode(), b.hashCode());
    ErlMap m = ErlMap.of(Map.of(own, Atom.of("found")));
    assertEquals(Atom.of("found"), m.get(b));
    // Encoded again: exactly the bytes it came from.
    assertArrayEquals(EtfEncoder.encode(own), EtfEncoder.encode(b));
    assertEquals(bytes[7], b.get(7));
    assertThrows(IndexOutOfBoundsException.class, () -> b.get(bytes.length));
  }

  @Test
  void otherwiseTheBinaryIsCopied() throws Exception {
    byte[] small = random(EtfDecoder.SHARED_BINARY_MIN - 1, 2);
    ByteBuffer in = body(Binary.wrap(small), 0);
    Binary b = (Binary) DECODER.decodeAfterHeader(in, new Atom[0], true);
    assertNotSame(in.array(), b.array(), "below the minimum: a copy");
    assertArrayEquals(small, b.unsafeArray());

    byte[] big = random(EtfDecoder.SHARED_BINARY_MIN, 3);
    ByteBuffer notOwned = body(Binary.wrap(big), 0);
    Binary c = (Binary) DECODER.decodeAfterHeader(notOwned, new Atom[0], false);
    assertNotSame(notOwned.array(), c.array(), "an input not given up: a copy");

    // A large binary in a much larger input would keep all of it alive: copied.
    byte[] other = random(3 * EtfDecoder.SHARED_BINARY_MIN, 4);
    ByteBuffer mostlyOther = body(ErlList.of(Binary.wrap(big), Binary.wrap(other)), 0);
    ErlList l = (ErlList) DECODER.decodeAfterHeader(mostlyOther, new Atom[0], true);
    assertNotSame(mostlyOther.array(), ((Binary) l.get(0)).array(), "under half: a copy");
    assertSame(mostlyOther.array(), ((Binary) l.get(1)).array(), "over half: a range");
    assertArrayEquals(other, ((Binary) l.get(1)).toByteArray());
  }

  @Test
  void aRangeOutsideItsArrayIsRefused() {
    byte[] a = new byte[10];
    assertThrows(IndexOutOfBoundsException.class, () -> Binary.wrapRange(a, 5, 6));
    assertThrows(IndexOutOfBoundsException.class, () -> Binary.wrapRange(a, -1, 2));
    assertThrows(IndexOutOfBoundsException.class, () -> Binary.wrapRange(a, 0, -1));
    assertEquals(10, Binary.wrapRange(a, 0, 10).size());
    assertEquals(0, Binary.wrapRange(a, 10, 0).size());
  }

  @Test
  void aTruncatedLargeBinaryIsRefusedAsBefore() {
    byte[] big = random(EtfDecoder.SHARED_BINARY_MIN, 5);
    ByteBuffer in = body(Binary.wrap(big), 0);
    ByteBuffer cut = ByteBuffer.wrap(in.array(), 0, in.limit() - 1).slice();
    EtfException e = assertThrows(EtfException.class,
        () -> DECODER.decodeAfterHeader(cut, new Atom[0], true));
    assertEquals(true, e.getMessage().contains("length"), e.getMessage());
  }
}
