package io.beamgate.node.fuzz;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.beamgate.node.Cookie;
import io.beamgate.node.dist.DistFlags;
import io.beamgate.node.dist.Handshake;
import io.beamgate.node.dist.HandshakeException;
import io.beamgate.node.etf.DecodeLimits;
import io.beamgate.node.etf.EtfDecoder;
import io.beamgate.node.etf.EtfEncoder;
import io.beamgate.node.etf.EtfException;
import io.beamgate.node.term.Term;
import io.beamgate.node.term.TermSyntaxException;
import io.beamgate.node.term.TermText;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * Coverage-guided fuzz tests (Jazzer). Under {@code mvn verify} each replays its corpus in
 * src/test/resources/io/beamgate/node/fuzz/DecoderFuzzTestInputs/; run with
 * {@code JAZZER_FUZZ=1 mvn -pl node test -Dtest=DecoderFuzzTest} to fuzz and grow it.
 * The property in each: hostile input ends in the component's own exception, never another
 * one, and whatever decodes re-encodes to a term that decodes the same.
 */
class DecoderFuzzTest {
  private static final EtfDecoder DECODER = new EtfDecoder(
      DecodeLimits.DEFAULTS.withMaxDecompressedBytes(1 << 20).withMaxTermBytes(1 << 20));

  @FuzzTest(maxDuration = "30s")
  void termDecoder(byte[] input) throws EtfException {
    byte[] data = new byte[input.length + 1];
    data[0] = (byte) 131;
    System.arraycopy(input, 0, data, 1, input.length);
    Term t;
    try {
      t = DECODER.decode(ByteBuffer.wrap(data));
    } catch (EtfException expected) {
      return;
    }
    byte[] again = EtfEncoder.encode(t);
    assertArrayEquals(again, EtfEncoder.encode(DECODER.decode(again)));
  }

  @FuzzTest(maxDuration = "30s")
  void handshakeAcceptor(byte[] input) {
    Handshake hs = Handshake.acceptor("b@h", DistFlags.OFFERED, 1, Cookie.of("c"),
        name -> Handshake.Status.OK);
    ByteBuffer b = ByteBuffer.wrap(input);
    try {
      while (b.remaining() >= 2) {
        int len = Math.min(b.getShort() & 0x3FF, b.remaining());
        byte[] msg = new byte[len];
        b.get(msg);
        hs.receive(msg);
      }
    } catch (HandshakeException expected) {
      // the only failure allowed
    }
  }

  @FuzzTest(maxDuration = "30s")
  void termText(byte[] input) {
    String text = new String(input, StandardCharsets.UTF_8);
    try {
      Term t = TermText.parse(text);
      if (!t.equals(TermText.parse(TermText.format(t)))) {
        throw new AssertionError("print and parse disagree on " + text);
      }
    } catch (TermSyntaxException expected) {
      // the only failure allowed
    }
  }
}
