package io.beamgate.node.dist;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Frames come out whole and in order whatever the reads they arrive in: small reads merged
 * behind a partial frame, large ones (at least {@link DistFrameDecoder#COMPOSITE_MIN}) kept as
 * components, and both mixed, with frames spanning two, three or many reads; ticks and an
 * oversized frame between them.
 */
class FrameCumulationTest {
  @Test
  void framesSurviveAnySplitOfTheStream() {
    Random r = new Random(11);
    for (int trial = 0; trial < 40; trial++) {
      List<byte[]> sent = new ArrayList<>();
      ByteArrayOutputStream stream = new ByteArrayOutputStream();
      for (int i = 0; i < 60; i++) {
        int kind = r.nextInt(10);
        int len = kind < 5 ? 1 + r.nextInt(200)
            : kind < 8 ? 60_000 + r.nextInt(10_000) : 200_000 + r.nextInt(100_000);
        byte[] body = new byte[len];
        r.nextBytes(body);
        sent.add(body);
        stream.writeBytes(ByteBuffer.allocate(4).putInt(len).array());
        stream.writeBytes(body);
        if (r.nextInt(8) == 0) {
          stream.writeBytes(new byte[4]); // a tick
        }
      }
      byte[] all = stream.toByteArray();
      DistFrameDecoder frames = new DistFrameDecoder(1 << 20);
      frames.connected();
      EmbeddedChannel ch = new EmbeddedChannel(frames);
      List<byte[]> got = new ArrayList<>();
      for (int at = 0; at < all.length; ) {
        // Reads from a byte to a megabyte: small ones merge, large ones become components.
        int n = switch (r.nextInt(4)) {
          case 0 -> 1 + r.nextInt(16);
          case 1 -> 1 + r.nextInt(5000);
          case 2 -> DistFrameDecoder.COMPOSITE_MIN + r.nextInt(200_000);
          default -> 1 + r.nextInt(1 << 20);
        };
        n = Math.min(n, all.length - at);
        ByteBuf read = Unpooled.directBuffer(n);
        read.writeBytes(all, at, n);
        at += n;
        ch.writeInbound(read);
        for (Object o; (o = ch.readInbound()) != null; ) {
          if (o == DistFrameDecoder.TICK) {
            continue;
          }
          ByteBuf f = (ByteBuf) o;
          ByteBuffer nio = f.nioBuffer(f.readerIndex(), f.readableBytes());
          byte[] b = new byte[nio.remaining()];
          nio.get(b);
          got.add(b);
          f.release();
        }
      }
      assertEquals(sent.size(), got.size(), "trial " + trial);
      for (int i = 0; i < sent.size(); i++) {
        assertArrayEquals(sent.get(i), got.get(i), "trial " + trial + ", frame " + i);
      }
      assertEquals(false, ch.finishAndReleaseAll());
    }
  }

  @Test
  void anOversizedFrameAmongLargeReadsCostsOnlyItself() {
    DistFrameDecoder frames = new DistFrameDecoder(100_000);
    frames.connected();
    EmbeddedChannel ch = new EmbeddedChannel(frames);
    ByteBuf s = Unpooled.buffer();
    s.writeInt(150_000).writeBytes(new byte[150_000]); // past the cap: skipped
    s.writeInt(90_000).writeBytes(new byte[90_000]);   // at most the cap: whole
    ch.writeInbound(s.readRetainedSlice(70_000));
    ch.writeInbound(s.readRetainedSlice(s.readableBytes()));
    s.release();
    Object first = ch.readInbound();
    assertEquals(DistFrameDecoder.Oversized.class, first.getClass());
    ((DistFrameDecoder.Oversized) first).prefix().release();
    ByteBuf f = ch.readInbound();
    assertEquals(90_000, f.readableBytes());
    f.release();
    assertSame(null, ch.readInbound());
    ch.finishAndReleaseAll();
  }
}
