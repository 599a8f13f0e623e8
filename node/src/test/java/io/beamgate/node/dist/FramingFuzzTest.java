package io.beamgate.node.dist;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.beamgate.node.etf.DecodeLimits;
import io.beamgate.node.etf.EtfDecoder;
import io.beamgate.node.etf.EtfException;
import io.beamgate.node.term.Atom;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.DecoderException;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;

/**
 * Fuzzes what a connected peer's bytes go through: 4-byte framing (fed in odd-sized pieces),
 * then the distribution header with its atom cache, then the control message and payload.
 * Only the components' own exceptions may come out. The corpus replays under mvn verify.
 */
class FramingFuzzTest {
  private static final EtfDecoder DECODER = new EtfDecoder(
      DecodeLimits.DEFAULTS.withMaxDecompressedBytes(1 << 20).withMaxTermBytes(1 << 20));

  @FuzzTest(maxDuration = "30s")
  void framesAndHeaders(byte[] input) {
    DistFrameDecoder frames = new DistFrameDecoder(1 << 16);
    frames.connected();
    EmbeddedChannel ch = new EmbeddedChannel(frames);
    DistHeader header = new DistHeader();
    try {
      int step = input.length == 0 ? 1 : 1 + (input[0] & 7);
      for (int i = 0; i < input.length; i += step) {
        ch.writeInbound(Unpooled.wrappedBuffer(input, i, Math.min(step, input.length - i)));
        for (Object o; (o = ch.readInbound()) != null; ) {
          if (o instanceof ByteBuf f) {
            try {
              parse(header, f);
            } finally {
              f.release();
            }
          }
        }
      }
    } catch (DecoderException expected) {
      // an over-long frame: the connection would close
    } finally {
      try {
        ch.finishAndReleaseAll();
      } catch (DecoderException expected) {
        // the same, reported on close
      }
    }
  }

  private static void parse(DistHeader header, ByteBuf f) {
    if (f.readableBytes() < 2) {
      return;
    }
    ByteBuffer nio = f.nioBuffer();
    int first = nio.get() & 0xFF;
    try {
      if (first == 112) {
        ControlMessage.parse(DECODER.decode(nio));
      } else if (first == 131) {
        int kind = nio.get() & 0xFF;
        if (kind == DistHeader.FRAGMENT_START || kind == DistHeader.FRAGMENT_CONT) {
          nio.getLong();
          nio.getLong();
        }
        if (kind != DistHeader.FRAGMENT_CONT) {
          Atom[] refs = header.readAtomRefs(nio);
          ControlMessage.parse(DECODER.decodeAfterHeader(nio, refs));
        }
      }
    } catch (EtfException | DistProtocolException | BufferUnderflowException expected) {
      // what DistChannelHandler turns into "bad frame" and a closed connection
    }
  }
}
