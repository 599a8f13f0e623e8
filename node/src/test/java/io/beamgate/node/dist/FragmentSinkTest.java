package io.beamgate.node.dist;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.beamgate.node.etf.ByteArraySink;
import io.beamgate.node.etf.EtfEncoder;
import io.beamgate.node.term.Atom;
import io.beamgate.node.term.Binary;
import io.beamgate.node.term.ErlFloat;
import io.beamgate.node.term.ErlList;
import io.beamgate.node.term.Int;
import io.beamgate.node.term.Term;
import io.beamgate.node.term.Tuple;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.UnpooledByteBufAllocator;
import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Large messages encoded straight into fragment frames: the frames carry exactly the body a
 * single encoding would, under the headers erts expects, whatever falls on a fragment's edge.
 */
class FragmentSinkTest {
  private static final UnpooledByteBufAllocator ALLOC = new UnpooledByteBufAllocator(false);

  /** Integers, floats, atoms and binaries of odd sizes: 2-, 4- and 8-byte fields everywhere. */
  private static Term mixed(long seed, int n) {
    Random r = new Random(seed);
    List<Term> items = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      switch (i % 5) {
        case 0 -> items.add(Int.of(r.nextLong()));
        case 1 -> items.add(new ErlFloat(r.nextDouble()));
        case 2 -> items.add(Atom.of("a" + r.nextInt(1000)));
        case 3 -> {
          byte[] b = new byte[r.nextInt(300)];
          r.nextBytes(b);
          items.add(Binary.wrap(b));
        }
        default -> items.add(Tuple.of(Int.of(r.nextInt()), Int.of(300 + r.nextInt(60000))));
      }
    }
    return ErlList.of(items);
  }

  private static byte[] body(Term... terms) {
    ByteArraySink s = new ByteArraySink(1024);
    for (Term t : terms) {
      EtfEncoder.encodeBody(t, s);
    }
    return s.toByteArray();
  }

  @Test
  void framesCarryTheSingleEncodingWhateverTheFragmentSize() {
    Term ctl = Tuple.of(Int.of(6), Atom.of("from"), Atom.of("to"));
    Term payload = mixed(7, 2000);
    byte[] expected = body(ctl, payload);
    // Every alignment of the edges against the terms' fields, at the smallest fragment size.
    for (int chunk = 1024; chunk < 1024 + 9; chunk++) {
      FragmentSink sink = new FragmentSink(ALLOC, chunk, 42, expected.length);
      EtfEncoder.encodeBody(ctl, sink);
      EtfEncoder.encodeBody(payload, sink);
      List<ByteBuf> frames = sink.finish();
      long count = (expected.length + chunk - 1) / chunk;
      assertEquals(count, frames.size(), "chunk " + chunk);
      ByteArrayOutputStream joined = new ByteArrayOutputStream();
      for (int i = 0; i < frames.size(); i++) {
        ByteBuf f = frames.get(i);
        assertEquals(f.readableBytes() - 4, f.readInt(), "length prefix");
        assertEquals(131, f.readUnsignedByte());
        boolean first = i == 0;
        assertEquals(first ? DistHeader.FRAGMENT_START : DistHeader.FRAGMENT_CONT,
            f.readUnsignedByte());
        assertEquals(42, f.readLong(), "sequence");
        assertEquals(count - i, f.readLong(), "fragment ids count down to 1");
        if (first) {
          assertEquals(0, f.readUnsignedByte(), "no atom cache references");
        }
        assertTrue(f.readableBytes() <= chunk && f.readableBytes() > 0, "at most one chunk");
        if (i < frames.size() - 1) {
          assertEquals(chunk, f.readableBytes(), "only the last fragment is short");
        }
        byte[] part = new byte[f.readableBytes()];
        f.readBytes(part);
        joined.writeBytes(part);
        f.release();
      }
      assertArrayEquals(expected, joined.toByteArray(), "chunk " + chunk);
    }
  }

  @Test
  void aBodyOfOtherSizeThanSaidIsRefusedAndReleased() {
    Term payload = mixed(3, 500);
    byte[] expected = body(payload);
    FragmentSink shorter = new FragmentSink(ALLOC, 1024, 1, expected.length + 1);
    EtfEncoder.encodeBody(payload, shorter);
    assertThrows(IllegalStateException.class, shorter::finish);
    FragmentSink longer = new FragmentSink(ALLOC, 1024, 1, expected.length - 1);
    assertThrows(IllegalStateException.class, () -> EtfEncoder.encodeBody(payload, longer));
    longer.release();
    assertThrows(IllegalArgumentException.class, () -> new FragmentSink(ALLOC, 1024, 1, 1024));
  }
}
