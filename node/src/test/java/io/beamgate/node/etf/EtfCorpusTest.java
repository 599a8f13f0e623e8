package io.beamgate.node.etf;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.beamgate.node.term.Term;
import io.beamgate.node.testing.Erl;
import io.beamgate.node.testing.Escript;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Byte-exact agreement with real erlang:term_to_binary/1 and binary_to_term/1, both ways. */
class EtfCorpusTest {
  private static final int COUNT = 3000;

  @TempDir Path dir;

  private void escript(String... args) throws Exception {
    new Escript(dir).run(args);
  }

  private static List<byte[]> read(Path f) throws IOException {
    return Escript.readRecords(f);
  }

  @Test
  void erlCorpusDecodesAndReencodesByteExactly() throws Exception {
    Path out = dir.resolve("erl.bin");
    escript("gen", "42", Integer.toString(COUNT), out.toString());
    List<byte[]> corpus = read(out);
    assertTrue(corpus.size() > COUNT, "random terms and the edge cases");
    EtfDecoder dec = EtfDecoder.withDefaults();
    int funs = 0;
    for (byte[] bytes : corpus) {
      Term t = dec.decode(bytes);
      byte[] again = EtfEncoder.encode(t);
      if (!java.util.Arrays.equals(bytes, again)) {
        throw new AssertionError("re-encoding differs for " + t + "\n erl:  "
            + HexFormat.of().formatHex(bytes) + "\n java: " + HexFormat.of().formatHex(again));
      }
      funs += String.valueOf(t).contains("#Fun<") ? 1 : 0;
    }
    assertTrue(funs > 0, "the corpus holds funs");
  }

  @Test
  void javaEncodingsAreReadByErlAndReencodedIdentically() throws Exception {
    RandomTerms gen = new RandomTerms(7);
    List<byte[]> mine = new ArrayList<>();
    for (int i = 0; i < COUNT; i++) {
      mine.add(EtfEncoder.encode(gen.term(4)));
    }
    Path in = dir.resolve("java.bin");
    Path back = dir.resolve("back.bin");
    Escript.writeRecords(in, mine);
    escript("reencode", in.toString(), back.toString());
    List<byte[]> theirs = read(back);
    assertEquals(COUNT, theirs.size());
    EtfDecoder dec = EtfDecoder.withDefaults();
    for (int i = 0; i < COUNT; i++) {
      if (!java.util.Arrays.equals(mine.get(i), theirs.get(i))) {
        throw new AssertionError("erl re-encodes differently: " + dec.decode(mine.get(i))
            + "\n java: " + HexFormat.of().formatHex(mine.get(i))
            + "\n erl:  " + HexFormat.of().formatHex(theirs.get(i)));
      }
    }
  }

  @Test
  void compressedTermsFromErlDecode() throws Exception {
    // term_to_binary(T, [compressed]) output, made by erl in the eval below.
    Path out = dir.resolve("z.bin");
    Process p = new ProcessBuilder(Erl.require(), "-noshell", "-eval",
        "T = {lists:seq(1, 5000), <<0:80000>>, \"hello\"}, B = term_to_binary(T, [compressed,"
            + " {minor_version, 2}]), P = term_to_binary(T, [{minor_version, 2}]),"
            + " file:write_file(\"" + out + "\", [<<(byte_size(B)):32>>, B, <<(byte_size(P)):32>>,"
            + " P]), halt().").redirectErrorStream(true).start();
    assertTrue(p.waitFor(60, TimeUnit.SECONDS));
    List<byte[]> l = read(out);
    assertEquals(80, l.get(0)[1] & 0xFF, "compressed");
    EtfDecoder dec = EtfDecoder.withDefaults();
    assertArrayEquals(l.get(1), EtfEncoder.encode(dec.decode(l.get(0))));
  }
}
