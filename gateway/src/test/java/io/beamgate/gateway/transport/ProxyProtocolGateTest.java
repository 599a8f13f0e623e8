package io.beamgate.gateway.transport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.beamgate.gateway.config.Cidr;
import io.beamgate.gateway.config.GatewayConfig;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The gate on an EmbeddedChannel, fed one byte at a time. */
class ProxyProtocolGateTest {
  static final GatewayConfig.ProxyProtocol FROM_LB =
      new GatewayConfig.ProxyProtocol(List.of(Cidr.parse("10.0.0.2")));
  final List<String> refused = new ArrayList<>();

  /** An EmbeddedChannel whose remote address is {@code remote}. */
  static final class From extends EmbeddedChannel {
    private final SocketAddress remote;

    From(SocketAddress remote) {
      super(false, false);
      this.remote = remote;
    }

    @Override
    protected SocketAddress remoteAddress0() {
      return remote;
    }
  }

  EmbeddedChannel channel(String remote) throws Exception {
    EmbeddedChannel ch = new From(new InetSocketAddress(java.net.InetAddress.getByName(remote),
        40000));
    ch.pipeline().addLast(new ProxyProtocolGate(FROM_LB, (p, why) -> refused.add(p + " " + why)));
    ch.register();
    return ch;
  }

  static void feedByteByByte(EmbeddedChannel ch, byte[] bytes) {
    for (byte b : bytes) {
      if (!ch.isOpen()) {
        return; // refused: the rest is never read
      }
      ch.writeInbound(Unpooled.wrappedBuffer(new byte[] {b}));
    }
  }

  static String readAll(EmbeddedChannel ch) {
    StringBuilder sb = new StringBuilder();
    ByteBuf b;
    while ((b = ch.readInbound()) != null) {
      sb.append(b.toString(StandardCharsets.ISO_8859_1));
      b.release();
    }
    return sb.toString();
  }

  @Test
  void aV1HeaderFromTheBalancerNamesTheClientAndTheRestPassesOn() throws Exception {
    EmbeddedChannel ch = channel("10.0.0.2");
    feedByteByByte(ch, "PROXY TCP4 203.0.113.7 10.0.0.9 51234 9443\r\nhello"
        .getBytes(StandardCharsets.ISO_8859_1));
    assertEquals("hello", readAll(ch));
    assertEquals("203.0.113.7:51234", ProxyProtocolGate.peer(ch));
    assertTrue(refused.isEmpty());
    assertNull(ch.pipeline().get(ProxyProtocolGate.class), "the gate leaves the pipeline");
    assertFalse(ch.finish());
  }

  @Test
  void aV2HeaderFromTheBalancerNamesTheClient() throws Exception {
    EmbeddedChannel ch = channel("10.0.0.2");
    ByteBuf h = Unpooled.buffer();
    h.writeBytes("\r\n\r\n\0\r\nQUIT\n".getBytes(StandardCharsets.ISO_8859_1));
    h.writeByte(0x21).writeByte(0x11).writeShort(12); // v2 PROXY, TCP over IPv4, 12 bytes
    h.writeBytes(new byte[] {(byte) 198, 51, 100, 9}).writeBytes(new byte[] {10, 0, 0, 9});
    h.writeShort(61000).writeShort(9443);
    h.writeBytes("tls".getBytes(StandardCharsets.ISO_8859_1));
    byte[] bytes = new byte[h.readableBytes()];
    h.readBytes(bytes);
    h.release();
    feedByteByByte(ch, bytes);
    assertEquals("tls", readAll(ch));
    assertEquals("198.51.100.9:61000", ProxyProtocolGate.peer(ch));
    assertFalse(ch.finish());
  }

  @Test
  void aHeaderFromAnUnlistedAddressIsRefused() throws Exception {
    EmbeddedChannel ch = channel("192.0.2.1");
    feedByteByByte(ch, "PROXY TCP4 203.0.113.7 10.0.0.9 51234 9443\r\n"
        .getBytes(StandardCharsets.ISO_8859_1));
    assertFalse(ch.isOpen());
    assertEquals("", readAll(ch));
    assertEquals(1, refused.size());
    assertTrue(refused.get(0).startsWith("192.0.2.1:40000 proxy protocol: a PROXY V1 header"),
        refused.get(0));
  }

  @Test
  void noHeaderFromTheBalancerIsRefusedAndNoHeaderFromOthersPassesUntouched()
      throws Exception {
    byte[] hello = new byte[] {0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, (byte) 0xfc,
        0x03, 0x03, 1, 2, 3, 4, 5, 6, 7};
    EmbeddedChannel lb = channel("10.0.0.2");
    feedByteByByte(lb, hello);
    assertFalse(lb.isOpen());
    assertTrue(refused.get(0).contains("no PROXY header"), refused.toString());
    EmbeddedChannel direct = channel("192.0.2.1");
    direct.writeInbound(Unpooled.wrappedBuffer(hello, 0, 3)); // a short read: still undecided
    direct.writeInbound(Unpooled.wrappedBuffer(hello, 3, hello.length - 3));
    assertEquals(new String(hello, StandardCharsets.ISO_8859_1), readAll(direct));
    assertEquals("192.0.2.1:40000", ProxyProtocolGate.peer(direct));
    assertEquals(1, refused.size());
    assertFalse(direct.finish());
  }

  @Test
  void aMalformedHeaderFromTheBalancerIsRefused() throws Exception {
    EmbeddedChannel ch = channel("10.0.0.2");
    feedByteByByte(ch, "PROXY TCP4 not-an-address 10.0.0.9 1 2\r\n"
        .getBytes(StandardCharsets.ISO_8859_1));
    assertFalse(ch.isOpen());
    assertTrue(refused.get(0).contains("malformed PROXY header"), refused.toString());
  }
}
