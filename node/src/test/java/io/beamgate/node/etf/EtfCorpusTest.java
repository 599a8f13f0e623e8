package io.beamgate.node.etf;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.beamgate.node.term.Term;
import io.beamgate.node.testing.Erl;
import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
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

  private Path script() throws IOException {
    Path p = dir.resolve("etf_corpus.escript");
    try (InputStream in = getClass().getResourceAsStream("/etf/etf_corpus.escript")) {
      Files.write(p, in.readAllBytes());
    }
    return p;
  }

  private void escript(String... args) throws Exception {
    List<String> cmd = new ArrayList<>(List.of(Erl.require("escript"), script().toString()));
    cmd.addAll(List.of(args));
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes());
    if (!p.waitFor(120, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new AssertionError("escript timed out");
    }
    assertEquals(0, p.exitValue(), "escript " + String.join(" ", args) + ": " + out);
  }

  private static List<byte[]> read(Path f) throws IOException {
    ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(f));
    List<byte[]> l = new ArrayList<>();
    while (b.hasRemaining()) {
      byte[] t = new byte[b.getInt()];
      b.get(t);
      l.add(t);
    }
    return l;
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
    ByteArrayOutputStream file = new ByteArrayOutputStream();
    DataOutputStream out = new DataOutputStream(file);
    for (int i = 0; i < COUNT; i++) {
      byte[] b = EtfEncoder.encode(gen.term(4));
      mine.add(b);
      out.writeInt(b.length);
      out.write(b);
    }
    Path in = dir.resolve("java.bin");
    Path back = dir.resolve("back.bin");
    Files.write(in, file.toByteArray());
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
