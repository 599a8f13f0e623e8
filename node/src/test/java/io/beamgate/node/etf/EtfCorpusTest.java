package io.beamgate.node.etf;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.beamgate.node.term.Term;
import io.beamgate.node.testing.Erl;
import io.beamgate.node.testing.Escript;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Byte-exact agreement with real erlang:term_to_binary and binary_to_term, both ways, over a
 * generated corpus (node/src/test/resources/etf/etf_corpus.escript, fixed seeds).
 */
class EtfCorpusTest {
  private static final int COUNT = 3000;

  @TempDir Path dir;

  private void escript(String... args) throws Exception {
    new Escript(dir).run(args);
  }

  private static List<byte[]> read(Path f) throws IOException {
    return Escript.readRecords(f);
  }

  /** Decodes each of erl's encodings and re-encodes it in {@code minor}: the bytes must agree. */
  private void decodeAndReencode(String erlMinor, int minor) throws Exception {
    Path out = dir.resolve("erl-" + erlMinor + ".bin");
    escript("gen", "42", Integer.toString(COUNT), out.toString(), erlMinor);
    List<byte[]> corpus = read(out);
    assertTrue(corpus.size() > COUNT, "random terms and the edge cases");
    EtfDecoder dec = EtfDecoder.withDefaults();
    int funs = 0;
    for (byte[] bytes : corpus) {
      Term t = dec.decode(bytes);
      byte[] again = EtfEncoder.encode(t, minor);
      if (!Arrays.equals(bytes, again)) {
        throw new AssertionError("re-encoding differs for " + t + "\n erl:  "
            + HexFormat.of().formatHex(bytes) + "\n java: " + HexFormat.of().formatHex(again));
      }
      if (minor == 2) {
        assertEquals(again.length, EtfEncoder.encodedSize(t));
      }
      if (String.valueOf(t).contains("#Fun<")) {
        funs++;
        if (funs <= 20) {
          everyPrefixFails(dec, bytes);
        }
      }
    }
    assertTrue(funs > 0, "the corpus holds funs");
  }

  /** Every proper prefix of a whole encoding fails with EtfException, and nothing else. */
  static void everyPrefixFails(EtfDecoder dec, byte[] whole) {
    for (int len = 0; len < whole.length; len++) {
      java.nio.ByteBuffer prefix = java.nio.ByteBuffer.wrap(Arrays.copyOf(whole, len));
      try {
        dec.decode(prefix);
        throw new AssertionError("prefix " + len + " of " + whole.length + " decoded");
      } catch (EtfException expected) {
        // the only failure allowed
      }
    }
  }

  @Test
  void erlCorpusDecodesAndReencodesByteExactly() throws Exception {
    decodeAndReencode("2", 2);
  }

  @Test
  void erlCorpusInMinorVersion1ReencodesByteExactly() throws Exception {
    decodeAndReencode("1", 1);
  }

  @Test
  void plainTermToBinaryOfThisOtpReencodesByteExactly() throws Exception {
    Path m = dir.resolve("minor.bin");
    escript("default_minor", m.toString());
    decodeAndReencode("default", read(m).get(0)[0]);
  }

  private void javaToErlAndBack(int minor) throws Exception {
    RandomTerms gen = new RandomTerms(7);
    List<byte[]> mine = new ArrayList<>();
    for (int i = 0; i < COUNT; i++) {
      mine.add(EtfEncoder.encode(gen.term(4), minor));
    }
    Path in = dir.resolve("java.bin");
    Path back = dir.resolve("back.bin");
    Escript.writeRecords(in, mine);
    escript("reencode", in.toString(), back.toString(), Integer.toString(minor));
    List<byte[]> theirs = read(back);
    assertEquals(COUNT, theirs.size());
    EtfDecoder dec = EtfDecoder.withDefaults();
    for (int i = 0; i < COUNT; i++) {
      if (!Arrays.equals(mine.get(i), theirs.get(i))) {
        throw new AssertionError("erl re-encodes differently: " + dec.decode(mine.get(i))
            + "\n java: " + HexFormat.of().formatHex(mine.get(i))
            + "\n erl:  " + HexFormat.of().formatHex(theirs.get(i)));
      }
    }
  }

  @Test
  void javaEncodingsAreReadByErlAndReencodedIdentically() throws Exception {
    javaToErlAndBack(2);
  }

  @Test
  void javaMinorVersion1EncodingsAreReadByErlAndReencodedIdentically() throws Exception {
    javaToErlAndBack(1);
  }

  @Test
  void compressedTermsFromErlDecode() throws Exception {
    // term_to_binary(T, [compressed]) output, made by erl in the eval below.
    Path out = dir.resolve("z.bin");
    String r = Escript.runProcess(List.of(Erl.require(), "-noshell", "-eval",
        "T = {lists:seq(1, 5000), <<0:80000>>, \"hello\"}, B = term_to_binary(T, [compressed,"
            + " {minor_version, 2}]), P = term_to_binary(T, [{minor_version, 2}]),"
            + " file:write_file(\"" + out + "\", [<<(byte_size(B)):32>>, B, <<(byte_size(P)):32>>,"
            + " P]), halt()."), dir.resolve("erl.log"), 60, "erl -eval");
    assertTrue(r.startsWith("0\n"), r);
    List<byte[]> l = read(out);
    assertEquals(80, l.get(0)[1] & 0xFF, "compressed");
    EtfDecoder dec = EtfDecoder.withDefaults();
    assertArrayEquals(l.get(1), EtfEncoder.encode(dec.decode(l.get(0))));
  }
}
