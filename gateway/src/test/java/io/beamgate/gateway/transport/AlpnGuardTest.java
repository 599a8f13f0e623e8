package io.beamgate.gateway.transport;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLParameters;
import org.junit.jupiter.api.Test;

/**
 * {@link AlpnGuard} on an {@link EmbeddedChannel}, fed ClientHellos that a JDK client engine
 * writes: whole, one byte at a time, and claiming lengths at and past the bound.
 */
class AlpnGuardTest {
  static final List<String> SPOKEN = List.of("beamgate/1", "beamgate-bridge/1", "h2");
  final List<String> refusals = new ArrayList<>();

  /** The first TLS record a JDK client sends: its ClientHello. */
  static byte[] clientHello(String... alpn) throws Exception {
    SSLEngine e = SSLContext.getDefault().createSSLEngine("localhost", 443);
    e.setUseClientMode(true);
    SSLParameters p = e.getSSLParameters();
    if (alpn.length > 0) {
      p.setApplicationProtocols(alpn);
    }
    e.setSSLParameters(p);
    ByteBuffer out = ByteBuffer.allocate(e.getSession().getPacketBufferSize());
    e.wrap(ByteBuffer.allocate(0), out);
    out.flip();
    byte[] b = new byte[out.remaining()];
    out.get(b);
    return b;
  }

  EmbeddedChannel channel() {
    return new EmbeddedChannel(new AlpnGuard(SPOKEN, (peer, why) -> refusals.add(why)));
  }

  static byte[] drain(EmbeddedChannel ch, boolean outbound) {
    ByteBuf all = Unpooled.buffer();
    for (Object m; (m = outbound ? ch.readOutbound() : ch.readInbound()) != null; ) {
      all.writeBytes((ByteBuf) m);
      ((ByteBuf) m).release();
    }
    byte[] b = ByteBufUtil.getBytes(all);
    all.release();
    return b;
  }

  @Test
  void aHelloOfferingOnlyUnknownProtocolsGetsTheAlertAndIsClosed() throws Exception {
    EmbeddedChannel ch = channel();
    ch.writeInbound(Unpooled.wrappedBuffer(clientHello("foo", "http/1.1")));
    assertArrayEquals(new byte[] {0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 120}, drain(ch, true));
    assertFalse(ch.isOpen());
    assertEquals(List.of("no application protocol in common: the client offered [foo,"
        + " http/1.1] (expected one of [beamgate/1, beamgate-bridge/1, h2])"), refusals);
    assertEquals(0, drain(ch, false).length);
    ch.finishAndReleaseAll();
  }

  @Test
  void aHelloOfferingOneKnownProtocolPassesUnchangedEvenByteByByte() throws Exception {
    byte[] hello = clientHello("foo", "h2");
    EmbeddedChannel ch = channel();
    for (byte b : hello) {
      ch.writeInbound(Unpooled.wrappedBuffer(new byte[] {b}));
    }
    assertArrayEquals(hello, drain(ch, false));
    assertNull(ch.pipeline().get(AlpnGuard.class));
    assertTrue(ch.isOpen());
    assertTrue(refusals.isEmpty());
    assertFalse(ch.finishAndReleaseAll());
  }

  @Test
  void aHelloWithoutAlpnPasses() throws Exception {
    byte[] hello = clientHello();
    EmbeddedChannel ch = channel();
    ch.writeInbound(Unpooled.wrappedBuffer(hello));
    assertArrayEquals(hello, drain(ch, false));
    assertTrue(refusals.isEmpty());
    ch.finishAndReleaseAll();
  }

  @Test
  void theOfferIsReadFromTheHelloBody() throws Exception {
    byte[] rec = clientHello("a", "bb", "h2");
    ByteBuf body = Unpooled.wrappedBuffer(rec, 5 + 4, rec.length - 9); // record, handshake
    assertEquals(List.of("a", "bb", "h2"), AlpnGuard.offered(body));
    assertNull(AlpnGuard.offered(Unpooled.wrappedBuffer(new byte[10])));
    body.release();
  }

  /** A record of 4 bytes: the header of a ClientHello claiming {@code length} bytes. */
  static byte[] helloHeader(int length) {
    return new byte[] {0x16, 0x03, 0x01, 0x00, 0x04, 0x01, (byte) (length >> 16),
        (byte) (length >> 8), (byte) length};
  }

  @Test
  void aHelloClaimingMoreThanTheBoundIsClosedBeforeAnythingIsAllocated() {
    EmbeddedChannel at = new EmbeddedChannel(new AlpnGuard(SPOKEN, 1000, (p, w) -> { }));
    at.writeInbound(Unpooled.wrappedBuffer(helloHeader(1000)));
    assertTrue(at.isOpen(), "at the bound: waits for the rest");
    at.finishAndReleaseAll();

    EmbeddedChannel past = new EmbeddedChannel(new AlpnGuard(SPOKEN, 1000, (p, w) -> { }));
    assertThrows(io.netty.handler.codec.TooLongFrameException.class,
        () -> past.writeInbound(Unpooled.wrappedBuffer(helloHeader(1001))));
    assertFalse(past.isOpen());
    past.finishAndReleaseAll();
  }

  @Test
  void theBoundIsChecked() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> new AlpnGuard(SPOKEN, 0, (p, w) -> { }));
    assertEquals("maxClientHelloBytes: 0 (expected: 1..16777215)", e.getMessage());
    assertEquals(32 * 1024, AlpnGuard.MAX_CLIENT_HELLO_BYTES);
  }
}
