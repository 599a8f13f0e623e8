package io.beamgate.node.etf;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.beamgate.node.term.Atom;
import io.beamgate.node.term.BigInt;
import io.beamgate.node.term.Binary;
import io.beamgate.node.term.ErlFloat;
import io.beamgate.node.term.ErlList;
import io.beamgate.node.term.Int;
import io.beamgate.node.term.Pid;
import io.beamgate.node.term.Port;
import io.beamgate.node.term.Ref;
import io.beamgate.node.term.Term;
import io.beamgate.node.term.Tuple;
import java.io.ByteArrayOutputStream;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.Random;
import java.util.zip.Deflater;
import org.junit.jupiter.api.Test;

/** Hostile and malformed input: every limit at and past its bound, lies, bombs, garbage. */
class EtfDecoderLimitsTest {
  private static final EtfDecoder DEFAULT = EtfDecoder.withDefaults();

  private static String fails(EtfDecoder d, byte[] b) {
    return assertThrows(EtfException.class, () -> d.decode(b)).getMessage();
  }

  private static byte[] bytes(int... v) {
    byte[] b = new byte[v.length];
    for (int i = 0; i < v.length; i++) {
      b[i] = (byte) v[i];
    }
    return b;
  }

  /** {@code depth} nested one-element lists around an atom, as [[[...[a]...]]]. */
  private static byte[] nestedLists(int depth) {
    ByteBuffer b = ByteBuffer.allocate(2 + depth * 6 + 4 + depth);
    b.put((byte) 131);
    for (int i = 0; i < depth; i++) {
      b.put((byte) 108).putInt(1);
    }
    b.put((byte) 119).put((byte) 1).put((byte) 'a');
    for (int i = 0; i < depth; i++) {
      b.put((byte) 106);
    }
    return Arrays.copyOf(b.array(), b.position());
  }

  @Test
  void depthAtAndPastTheLimit() throws Exception {
    EtfDecoder d = new EtfDecoder(DecodeLimits.DEFAULTS.withMaxDepth(50));
    assertInstanceOf(ErlList.class, d.decode(nestedLists(50)));
    assertEquals("depth: 51 (expected: <= 50)", fails(d, nestedLists(51)));
  }

  @Test
  void hundredThousandDeepNestingIsRefusedWithoutStackOverflow() {
    String m = fails(DEFAULT, nestedLists(100_000));
    assertTrue(m.startsWith("depth: 1001"), m);
  }

  @Test
  void hundredThousandDeepNestingDecodesIterativelyWhenAllowed() throws Exception {
    EtfDecoder d = new EtfDecoder(DecodeLimits.DEFAULTS.withMaxDepth(200_000));
    Term t = d.decode(nestedLists(100_000));
    // ...and encodes back without recursion either.
    assertArrayEquals(nestedLists(100_000), EtfEncoder.encode(t));
  }

  @Test
  void bignumAtAndPastTheLimit() throws Exception {
    EtfDecoder d = new EtfDecoder(DecodeLimits.DEFAULTS.withMaxBignumBytes(16));
    byte[] at = bytes(131, 110, 16, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16);
    assertInstanceOf(BigInt.class, d.decode(at));
    byte[] past = bytes(131, 110, 17, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
        17);
    assertEquals("bignum bytes: 17 (expected: <= 16)", fails(d, past));
    // A LARGE_BIG claiming 4 GiB of digits fails on the claim, allocating nothing.
    assertEquals("bignum bytes: 4294967295 (expected: <= 1024)",
        fails(DEFAULT, bytes(131, 111, 255, 255, 255, 255, 0)));
  }

  @Test
  void termSizeAtAndPastTheLimit() throws Exception {
    byte[] bin = new byte[1 + 1 + 4 + 100];
    bin[0] = (byte) 131;
    bin[1] = 109;
    ByteBuffer.wrap(bin, 2, 4).putInt(100);
    EtfDecoder at = new EtfDecoder(DecodeLimits.DEFAULTS.withMaxTermBytes(bin.length));
    assertEquals(100, ((Binary) at.decode(bin)).size());
    EtfDecoder past = new EtfDecoder(DecodeLimits.DEFAULTS.withMaxTermBytes(bin.length - 1));
    String m = fails(past, bin);
    assertTrue(m.contains("(expected: <= " + (bin.length - 1) + ")"), m);
  }

  private static byte[] compressed(byte[] body, long claimed) {
    Deflater def = new Deflater();
    def.setInput(body);
    def.finish();
    ByteArrayOutputStream z = new ByteArrayOutputStream();
    byte[] buf = new byte[65536];
    while (!def.finished()) {
      z.write(buf, 0, def.deflate(buf));
    }
    ByteBuffer b = ByteBuffer.allocate(6 + z.size());
    b.put((byte) 131).put((byte) 80).putInt((int) claimed).put(z.toByteArray());
    return b.array();
  }

  @Test
  void decompressedSizeAtAndPastTheLimit() throws Exception {
    byte[] body = new byte[1 + 4 + 1000];
    body[0] = 109;
    ByteBuffer.wrap(body, 1, 4).putInt(1000);
    EtfDecoder d = new EtfDecoder(DecodeLimits.DEFAULTS.withMaxDecompressedBytes(body.length));
    assertEquals(1000, ((Binary) d.decode(compressed(body, body.length))).size());
    EtfDecoder small =
        new EtfDecoder(DecodeLimits.DEFAULTS.withMaxDecompressedBytes(body.length - 1));
    assertEquals("decompressed size: 1005 (expected: <= 1004)",
        fails(small, compressed(body, body.length)));
  }

  @Test
  void zlibBombsAreRefused() {
    // Claims 4 GiB: refused on the claim.
    byte[] claim = compressed(new byte[10], 0xFFFFFFFFL);
    assertTrue(fails(DEFAULT, claim).startsWith("decompressed size: 4294967295"));
    // Claims 1 KiB but inflates to 50 MiB of zeros: stopped just past the claim.
    byte[] body = new byte[50 << 20];
    body[0] = 109;
    ByteBuffer.wrap(body, 1, 4).putInt(body.length - 5);
    String m = fails(DEFAULT, compressed(body, 1024));
    assertTrue(m.startsWith("decompressed size: more than 1024"), m);
    // Inflates to less than claimed.
    String less = fails(DEFAULT, compressed(bytes(106), 10));
    assertTrue(less.contains("ends after 1 of 10") || less.contains("(expected: 10"), less);
  }

  @Test
  void lyingLengthsFailBeforeAllocating() {
    assertTrue(fails(DEFAULT, bytes(131, 108, 255, 255, 255, 255, 106)).startsWith("length: "));
    assertTrue(fails(DEFAULT, bytes(131, 105, 255, 255, 255, 255)).startsWith("length: "));
    assertTrue(fails(DEFAULT, bytes(131, 116, 127, 255, 255, 255)).startsWith("length: "));
    assertTrue(fails(DEFAULT, bytes(131, 109, 127, 255, 255, 255, 1)).startsWith("length: "));
    assertTrue(fails(DEFAULT, bytes(131, 107, 255, 255, 1)).startsWith("length: "));
    assertTrue(fails(DEFAULT, bytes(131, 118, 255, 255, 97)).startsWith("length: "));
    assertTrue(fails(DEFAULT, bytes(131, 77, 127, 255, 255, 255, 3, 1)).startsWith("length: "));
  }

  @Test
  void atomsOverTheLimitAndInvalidUtf8() throws Exception {
    byte[] ok = new byte[4 + 255];
    ok[0] = (byte) 131;
    ok[1] = 118;
    ok[2] = 0;
    ok[3] = (byte) 255;
    Arrays.fill(ok, 4, ok.length, (byte) 'a');
    assertEquals(255, ((Atom) DEFAULT.decode(ok)).name().length());
    byte[] longer = new byte[4 + 256];
    longer[0] = (byte) 131;
    longer[1] = 118;
    longer[2] = 1;
    longer[3] = 0;
    Arrays.fill(longer, 4, longer.length, (byte) 'a');
    assertEquals("atom length: 256 characters (expected: <= 255)", fails(DEFAULT, longer));
    assertEquals("atom: invalid UTF-8", fails(DEFAULT, bytes(131, 119, 2, 0xC3, 0x28)));
    assertEquals("atom: invalid UTF-8", fails(DEFAULT, bytes(131, 119, 3, 0xED, 0xA0, 0x80)));
  }

  @Test
  void unknownAndUnagreedTags() {
    assertEquals("unknown tag: 200", fails(DEFAULT, bytes(131, 200)));
    assertTrue(fails(DEFAULT, bytes(131, 82, 0)).contains("atom cache"));
    assertTrue(fails(DEFAULT, bytes(131, 121, 0)).contains("LOCAL_EXT"));
    assertEquals("version byte: 130 (expected: 131)", fails(DEFAULT, bytes(130, 106)));
    assertTrue(fails(DEFAULT, bytes(131, 104, 1, 80, 0, 0, 0, 1)).contains("nested"));
  }

  @Test
  void nanAndInfinityAreRefused() {
    byte[] nan = ByteBuffer.allocate(10).put((byte) 131).put((byte) 70)
        .putLong(Double.doubleToRawLongBits(Double.NaN)).array();
    assertTrue(fails(DEFAULT, nan).contains("expected: finite"));
  }

  @Test
  void duplicateMapKeysAreRefused() {
    assertTrue(fails(DEFAULT, bytes(131, 116, 0, 0, 0, 2, 97, 1, 97, 2, 97, 1, 97, 3))
        .contains("duplicate key"));
  }

  @Test
  void everyPrefixOfValidTermsFailsCleanly() throws Exception {
    RandomTerms gen = new RandomTerms(99);
    for (int k = 0; k < 200; k++) {
      byte[] whole = EtfEncoder.encode(gen.term(3));
      for (int len = 0; len < whole.length; len++) {
        byte[] prefix = Arrays.copyOf(whole, len);
        assertThrows(EtfException.class, () -> DEFAULT.decode(ByteBuffer.wrap(prefix)),
            "prefix " + len + " of " + whole.length);
      }
      assertArrayEquals(whole, EtfEncoder.encode(DEFAULT.decode(whole)));
    }
  }

  @Test
  void randomAndMutatedInputOnlyEverGivesEtfException() {
    Random rnd = new Random(1234);
    RandomTerms gen = new RandomTerms(5);
    EtfDecoder d = new EtfDecoder(DecodeLimits.DEFAULTS.withMaxDecompressedBytes(1 << 20));
    for (int i = 0; i < 200_000; i++) {
      byte[] b;
      if (i % 2 == 0) {
        b = new byte[1 + rnd.nextInt(40)];
        rnd.nextBytes(b);
        b[0] = (byte) 131;
      } else {
        b = EtfEncoder.encode(gen.term(2));
        for (int m = 1 + rnd.nextInt(3); m > 0; m--) {
          b[rnd.nextInt(b.length)] = (byte) rnd.nextInt(256);
        }
      }
      try {
        d.decode(b);
      } catch (EtfException expected) {
        // the only failure allowed
      }
    }
  }

  @Test
  void legacyTagsDecode() throws Exception {
    // ATOM_EXT (Latin-1), SMALL_ATOM_EXT, FLOAT_EXT, PID_EXT, PORT_EXT, NEW_REFERENCE_EXT.
    assertEquals(Atom.of("\u00e9t\u00e9"), DEFAULT.decode(bytes(131, 100, 0, 3, 0xE9, 't', 0xE9)));
    assertEquals(Atom.of("ok"), DEFAULT.decode(bytes(131, 115, 2, 'o', 'k')));
    byte[] f = new byte[33];
    f[0] = (byte) 131;
    f[1] = 99;
    byte[] s = String.format("%.20e", 1.5).getBytes();
    System.arraycopy(s, 0, f, 2, s.length);
    assertEquals(new ErlFloat(1.5), DEFAULT.decode(f));
    assertEquals(new Pid(Atom.of("a@b"), 1, 2, 3),
        DEFAULT.decode(bytes(131, 103, 100, 0, 3, 'a', '@', 'b', 0, 0, 0, 1, 0, 0, 0, 2, 3)));
    assertEquals(new Port(Atom.of("a@b"), 7, 1),
        DEFAULT.decode(bytes(131, 102, 100, 0, 3, 'a', '@', 'b', 0, 0, 0, 7, 1)));
    assertEquals(new Ref(Atom.of("a@b"), 2, new int[] {1, 2}),
        DEFAULT.decode(bytes(131, 114, 0, 2, 100, 0, 3, 'a', '@', 'b', 2, 0, 0, 0, 1, 0, 0, 0,
            2)));
  }

  @Test
  void roundTripsEveryTag() throws Exception {
    Term[] samples = {
      Int.of(0), Int.of(255), Int.of(256), Int.of(-1), Int.of(Integer.MAX_VALUE),
      Int.of(Integer.MIN_VALUE), Int.of(Long.MAX_VALUE), Int.of(Long.MIN_VALUE),
      Term.integer(BigInteger.ONE.shiftLeft(3000).negate()), new ErlFloat(-0.0),
      new ErlFloat(Double.MIN_VALUE), Atom.of("ok"), Atom.of("\u65e5\u672c"), ErlList.NIL,
      Term.string("abc"), Term.string("\u65e5"), Term.list(Int.of(1), Term.number(2.5)),
      ErlList.improper(java.util.List.of(Int.of(1)), Atom.of("t")), Tuple.EMPTY,
      Tuple.of(Atom.OK, Binary.EMPTY), new Tuple(java.util.Collections.nCopies(300, Int.of(1))),
      io.beamgate.node.term.ErlMap.EMPTY, Term.binary("xyz"),
      io.beamgate.node.term.BitBinary.of(new byte[] {(byte) 0xF0}, 4),
      new Pid(Atom.of("n@h"), 1, 2, 3), new Port(Atom.of("n@h"), 5, 6),
      new Port(Atom.of("n@h"), 1L << 40, 6),
      new Ref(Atom.of("n@h"), 9, new int[] {1, 2, 3, 4, 5}),
      new io.beamgate.node.term.ExternalFun(Atom.of("lists"), Atom.of("map"), 2),
    };
    for (Term t : samples) {
      byte[] b = EtfEncoder.encode(t);
      assertEquals(t, DEFAULT.decode(b), t.toString());
      assertArrayEquals(b, EtfEncoder.encode(DEFAULT.decode(b)), t.toString());
    }
  }

  @Test
  void nestedContainersCannotEachClaimTheWholeInput() {
    // {{...}} where the inner tuple's claim only fits if the outer's elements were free.
    byte[] two = bytes(131, 105, 0, 0, 0, 7, 105, 0, 0, 0, 2, 106, 106);
    assertTrue(fails(DEFAULT, two).startsWith("length: "), fails(DEFAULT, two));
    // 1000 nested tuples, each claiming every byte after it (4 MiB of NILs): without
    // cumulative accounting this allocates 1000 x 4M slots. It must fail at once instead.
    int depth = 1000;
    int filler = 4 << 20;
    ByteBuffer b = ByteBuffer.allocate(1 + depth * 5 + filler);
    b.put((byte) 131);
    for (int i = 0; i < depth; i++) {
      b.put((byte) 105).putInt(b.capacity() - b.position() - 4);
    }
    while (b.hasRemaining()) {
      b.put((byte) 106);
    }
    long t0 = System.nanoTime();
    assertTrue(fails(DEFAULT, b.array()).startsWith("length: "));
    assertTrue(System.nanoTime() - t0 < 2_000_000_000L, "fails at once");
    // Maps and lists likewise: a list of one element whose head is a map claiming it all.
    assertTrue(fails(DEFAULT, bytes(131, 108, 0, 0, 0, 1, 116, 0, 0, 0, 2, 106, 106, 106, 106))
        .startsWith("length: "));
  }

  @Test
  void listTailChainsFlattenWithoutDepthOrQuadraticCopying() throws Exception {
    // [0 | [1 | [2 | ... []]]] written as 100 000 nested one-element LISTs in tail position.
    int n = 100_000;
    ByteBuffer b = ByteBuffer.allocate(2 + n * 7);
    b.put((byte) 131);
    for (int i = 0; i < n; i++) {
      b.put((byte) 108).putInt(1).put((byte) 97).put((byte) i);
    }
    b.put((byte) 106);
    ErlList l = (ErlList) DEFAULT.decode(Arrays.copyOf(b.array(), b.position()));
    assertEquals(n, l.size());
    assertTrue(l.isProper());
    assertEquals(Int.of(255), l.get(255));
    // An improper tail at the end of the chain stays.
    ErlList imp = (ErlList) DEFAULT.decode(bytes(131, 108, 0, 0, 0, 1, 97, 1, 108, 0, 0, 0, 1,
        97, 2, 100, 0, 1, 'x'));
    assertEquals(ErlList.improper(java.util.List.of(Int.of(1), Int.of(2)), Atom.of("x")), imp);
  }

  @Test
  void deepMapKeysGiveEtfExceptionNotStackOverflow() throws Exception {
    // #{ {{{...}}} => a } with a 300 000-deep key: hashing the key recurses (records), so it
    // is refused with EtfException when maxDepth allows the nesting at all.
    int depth = 300_000;
    ByteBuffer b = ByteBuffer.allocate(8 + depth * 2 + 4);
    b.put((byte) 131).put((byte) 116).putInt(1);
    for (int i = 0; i < depth; i++) {
      b.put((byte) 104).put((byte) 1);
    }
    b.put((byte) 106).put((byte) 97).put((byte) 1);
    byte[] in = Arrays.copyOf(b.array(), b.position());
    EtfDecoder deep = new EtfDecoder(DecodeLimits.DEFAULTS.withMaxDepth(depth + 1));
    try {
      assertInstanceOf(io.beamgate.node.term.ErlMap.class, deep.decode(in));
    } catch (EtfException e) {
      assertTrue(e.getMessage().startsWith("depth: "), e.getMessage());
    }
    assertEquals("depth: 1001 (expected: <= 1000)", fails(DEFAULT, in));
  }

  @Test
  void bitBinaryLengthsAsOtp() throws Exception {
    assertEquals(Binary.EMPTY, DEFAULT.decode(bytes(131, 77, 0, 0, 0, 0, 0)));
    assertEquals(Binary.of(new byte[] {5}), DEFAULT.decode(bytes(131, 77, 0, 0, 0, 1, 8, 5)));
    assertTrue(fails(DEFAULT, bytes(131, 77, 0, 0, 0, 1, 0, 5)).startsWith("bit binary: "));
    assertTrue(fails(DEFAULT, bytes(131, 77, 0, 0, 0, 0, 3)).startsWith("bit binary: "));
    assertTrue(fails(DEFAULT, bytes(131, 77, 0, 0, 0, 1, 9, 5)).startsWith("bit binary: "));
  }

  private static byte[] oldFloat(String text) {
    byte[] f = new byte[33];
    f[0] = (byte) 131;
    f[1] = 99;
    byte[] s = text.getBytes(java.nio.charset.StandardCharsets.US_ASCII);
    System.arraycopy(s, 0, f, 2, Math.min(31, s.length));
    return f;
  }

  @Test
  void floatExtTakesOnlyOtpSyntax() throws Exception {
    assertEquals(new ErlFloat(1.5), DEFAULT.decode(oldFloat("1.50000000000000000000e+00")));
    assertEquals(new ErlFloat(-0.0025), DEFAULT.decode(oldFloat("-2,5e-3")));
    for (String bad : new String[] {"1.5d", " 1.5", "1", "0x1p3", "NaN", "Infinity", "1.e5",
        ".5", "1.5e", "1.5e+", "", "1.5 "}) {
      assertTrue(fails(DEFAULT, oldFloat(bad)).startsWith("FLOAT_EXT: "), bad);
    }
    assertTrue(fails(DEFAULT, oldFloat("1.0e999")).contains("expected: finite"));
  }

  @Test
  void compressedInputCountsAgainstTermBytes() throws Exception {
    byte[] body = new byte[1 + 4 + 1000];
    body[0] = 109;
    ByteBuffer.wrap(body, 1, 4).putInt(1000);
    new java.util.Random(3).nextBytes(Arrays.copyOfRange(body, 5, body.length));
    for (int i = 5; i < body.length; i++) {
      body[i] = (byte) (i * 7919 >>> 3); // not very compressible
    }
    byte[] z = compressed(body, body.length);
    EtfDecoder at = new EtfDecoder(DecodeLimits.DEFAULTS.withMaxTermBytes(Math.max(z.length,
        body.length)));
    assertEquals(1000, ((Binary) at.decode(z)).size());
    EtfDecoder past = new EtfDecoder(DecodeLimits.DEFAULTS.withMaxTermBytes(z.length - 1)
        .withMaxDecompressedBytes(body.length));
    assertTrue(fails(past, z).startsWith("term size: "), fails(past, z));
  }

  @Test
  void directBuffersDecodeAlike() throws Exception {
    RandomTerms gen = new RandomTerms(11);
    for (int i = 0; i < 500; i++) {
      byte[] b = EtfEncoder.encode(gen.term(3));
      ByteBuffer direct = ByteBuffer.allocateDirect(b.length).put(b).flip();
      assertArrayEquals(b, EtfEncoder.encode(DEFAULT.decode(direct)));
      assertEquals(0, direct.remaining());
    }
  }

  @Test
  void minorVersion1WritesLatin1AtomsAsAtomExt() {
    assertArrayEquals(bytes(131, 100, 0, 2, 'o', 'k'), EtfEncoder.encode(Atom.of("ok"), 1));
    assertArrayEquals(bytes(131, 100, 0, 2, 0xE9, 't'), EtfEncoder.encode(Atom.of("\u00e9t"), 1));
    assertArrayEquals(bytes(131, 119, 3, 0xE6, 0x97, 0xA5),
        EtfEncoder.encode(Atom.of("\u65e5"), 1));
    assertArrayEquals(bytes(131, 119, 3, 0xC3, 0xA9, 't'), EtfEncoder.encode(Atom.of("\u00e9t")));
    assertThrows(IllegalArgumentException.class, () -> EtfEncoder.encode(Atom.OK, 0));
  }

  @Test
  void encoderHandlesHundredThousandDeepTermsBuiltInJava() {
    Term t = Atom.OK;
    for (int i = 0; i < 100_000; i++) {
      t = (i % 3 == 0) ? Tuple.of(t) : (i % 3 == 1) ? ErlList.of(t)
          : new io.beamgate.node.term.ErlMap(java.util.Map.of(Atom.OK, t));
    }
    byte[] b = EtfEncoder.encode(t);
    assertEquals(b.length, EtfEncoder.encodedSize(t));
  }

  /** A NEW_FUN_EXT with one free variable; atoms are {@code atom} (an encoded atom each). */
  private static byte[] fun(byte[] atom, byte[] freeVar) {
    ByteBuffer b = ByteBuffer.allocate(200);
    b.put((byte) 112).putInt(0).put((byte) 0);
    for (int i = 0; i < 16; i++) {
      b.put((byte) i);
    }
    b.putInt(3).putInt(1); // index, num free
    b.put(atom).put((byte) 97).put((byte) 3).put((byte) 98).putInt(-5); // module, old index/uniq
    b.put((byte) 88).put(atom).putInt(1).putInt(2).putInt(3); // pid
    b.put(freeVar);
    b.putInt(1, b.position() - 1);
    return Arrays.copyOf(b.array(), b.position());
  }

  private static byte[] withVersion(byte[] body) {
    byte[] v = new byte[body.length + 1];
    v[0] = (byte) 131;
    System.arraycopy(body, 0, v, 1, body.length);
    return v;
  }

  @Test
  void funsKeepTheirBytesAndHaveTheirInsidesChecked() throws Exception {
    byte[] m = bytes(119, 1, 'm');
    byte[] plain = withVersion(fun(m, m));
    io.beamgate.node.term.Fun f = (io.beamgate.node.term.Fun) DEFAULT.decode(plain);
    assertEquals(Atom.of("m"), f.module());
    assertEquals(3, f.oldIndex());
    assertEquals(-5, f.oldUniq());
    assertArrayEquals(plain, EtfEncoder.encode(f));
    EtfCorpusTest.everyPrefixFails(DEFAULT, plain);
    // Garbage in a free variable, or a size that disagrees with the fields, is refused.
    assertThrows(EtfException.class, () -> DEFAULT.decode(withVersion(fun(m, bytes(200)))));
    byte[] longer = withVersion(fun(m, bytes(106, 106)));
    assertTrue(fails(DEFAULT, longer).startsWith("fun size: "), fails(DEFAULT, longer));
    // A fun counts as a level of depth.
    EtfDecoder one = new EtfDecoder(DecodeLimits.DEFAULTS.withMaxDepth(1));
    assertEquals("depth: 2 (expected: <= 1)",
        fails(one, withVersion(fun(m, bytes(104, 1, 106)))));
  }

  @Test
  void funsAfterADistributionHeaderAreRebuiltWithoutAtomCacheReferences() throws Exception {
    byte[] viaCache = fun(bytes(82, 0), bytes(82, 0));
    Term t = DEFAULT.decodeAfterHeader(ByteBuffer.wrap(viaCache), new Atom[] {Atom.of("m")});
    byte[] plain = withVersion(fun(bytes(119, 1, 'm'), bytes(119, 1, 'm')));
    assertArrayEquals(plain, EtfEncoder.encode(t));
    assertEquals(DEFAULT.decode(plain), t);
  }
}
