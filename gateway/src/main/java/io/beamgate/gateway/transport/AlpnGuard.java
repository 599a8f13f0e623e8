package io.beamgate.gateway.transport;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.ssl.SslClientHelloHandler;
import io.netty.util.concurrent.Future;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BiConsumer;

/**
 * Refuses, before the TLS handshake goes on, a client whose ALPN offer names only protocols
 * this listener does not speak: it is answered with the fatal alert no_application_protocol
 * (RFC 7301, section 3.2) and closed, instead of being served the native protocol it did not
 * ask for. A client that offers no ALPN at all passes (it is served {@code beamgate/1}, as
 * before ALPN was enforced), and so does anything that is not a ClientHello (the TLS handler
 * after this one refuses it).
 *
 * <p>Why here and not in the TLS engine: Netty's OpenSSL (BoringSSL) contexts cannot be told to
 * fail on a missing match (only the JDK's can), and the gateway runs on both. Reading the offer
 * from the ClientHello gives one behaviour for both providers, and the audit record can say
 * what the client offered. The ClientHello is read before the client is authenticated, so it
 * is bounded ({@link #MAX_CLIENT_HELLO_BYTES}): Netty allocates the length a ClientHello claims
 * once it has the header, and its own bound is 16 MiB.
 */
public final class AlpnGuard extends SslClientHelloHandler<Void> {
  /** A plaintext TLS record: alert, TLS 1.2 record version, length 2, fatal (2), 120. */
  private static final byte[] NO_APPLICATION_PROTOCOL = {0x15, 0x03, 0x03, 0x00, 0x02, 0x02,
      0x78};
  /**
   * Set on a connection this guard refused: the TLS handler after it then fails the handshake
   * (the connection closes under it), and that failure is the same refusal, not a second one.
   */
  public static final io.netty.util.AttributeKey<Boolean> REFUSED =
      io.netty.util.AttributeKey.valueOf("beamgate.alpn.refused");

  /** The ALPN extension's type (RFC 7301, section 3.1). */
  private static final int ALPN_EXTENSION = 16;

  /**
   * The longest ClientHello read, as the JDK's own default (jdk.tls.maxHandshakeMessageSize):
   * a real one is a few KiB, post-quantum key shares included. A longer one closes the
   * connection (and is audited as a failed handshake).
   */
  public static final int MAX_CLIENT_HELLO_BYTES = 32 * 1024;

  private final List<String> spoken;
  private final BiConsumer<String, String> refused;
  // Set once the client is refused: what it sends after is dropped, not looked at again.
  private boolean closing;

  /** As below, with ClientHellos of at most {@link #MAX_CLIENT_HELLO_BYTES}. */
  public AlpnGuard(List<String> spoken, BiConsumer<String, String> refused) {
    this(spoken, MAX_CLIENT_HELLO_BYTES, refused);
  }

  /**
   * @param spoken the protocols this listener speaks
   * @param maxClientHelloBytes the longest ClientHello read (1..16 MiB)
   * @param refused told (peer address, why) for each client refused
   */
  public AlpnGuard(List<String> spoken, int maxClientHelloBytes,
      BiConsumer<String, String> refused) {
    super(checkMax(maxClientHelloBytes));
    this.spoken = List.copyOf(spoken);
    this.refused = refused;
  }

  private static int checkMax(int max) {
    if (max < 1 || max > MAX_CLIENT_HELLO_LENGTH) {
      throw new IllegalArgumentException("maxClientHelloBytes: " + max + " (expected: 1.."
          + MAX_CLIENT_HELLO_LENGTH + ")");
    }
    return max;
  }

  @Override
  protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out)
      throws Exception {
    if (closing) {
      in.skipBytes(in.readableBytes());
      return;
    }
    super.decode(ctx, in, out);
  }

  @Override
  protected Future<Void> lookup(ChannelHandlerContext ctx, ByteBuf clientHello) {
    List<String> offered = clientHello == null ? null : offered(clientHello);
    if (offered == null || offered.stream().anyMatch(spoken::contains)) {
      return ctx.executor().newSucceededFuture(null);
    }
    return ctx.executor().newFailedFuture(new Refusal("no application protocol in common:"
        + " the client offered " + offered + " (expected one of " + spoken + ")"));
  }

  @Override
  protected void onLookupComplete(ChannelHandlerContext ctx, Future<Void> future) {
    if (future.isSuccess()) {
      ctx.pipeline().remove(this); // the ClientHello's bytes go on to the TLS handler
      return;
    }
    closing = true;
    ctx.channel().attr(REFUSED).set(Boolean.TRUE);
    String peer = ProxyProtocolGate.peer(ctx.channel()); // the client's, behind a balancer
    refused.accept(peer, future.cause().getMessage());
    ctx.writeAndFlush(Unpooled.wrappedBuffer(NO_APPLICATION_PROTOCOL))
        .addListener(ChannelFutureListener.CLOSE);
  }

  /**
   * The protocols a ClientHello offers by ALPN, in its order; null when it has no ALPN
   * extension (or is too short to say). {@code hello} is the ClientHello's body, from its
   * legacy_version on (RFC 8446, section 4.1.2); it is read, not consumed.
   */
  static List<String> offered(ByteBuf hello) {
    int at = hello.readerIndex();
    int end = hello.writerIndex();
    at += 2 + 32; // legacy_version, random
    if (at + 1 > end) {
      return null;
    }
    at += 1 + hello.getUnsignedByte(at); // legacy_session_id
    if (at + 2 > end) {
      return null;
    }
    at += 2 + hello.getUnsignedShort(at); // cipher_suites
    if (at + 1 > end) {
      return null;
    }
    at += 1 + hello.getUnsignedByte(at); // legacy_compression_methods
    if (at + 2 > end) {
      return null;
    }
    int extEnd = Math.min(end, at + 2 + hello.getUnsignedShort(at));
    at += 2;
    while (at + 4 <= extEnd) {
      int type = hello.getUnsignedShort(at);
      int len = hello.getUnsignedShort(at + 2);
      at += 4;
      if (at + len > extEnd) {
        return null;
      }
      if (type == ALPN_EXTENSION) {
        return protocolNames(hello, at, at + len);
      }
      at += len;
    }
    return null;
  }

  /** ProtocolNameList: a 2-byte length, then names of a 1-byte length each. */
  private static List<String> protocolNames(ByteBuf b, int at, int end) {
    List<String> names = new ArrayList<>();
    if (at + 2 > end) {
      return names;
    }
    int listEnd = Math.min(end, at + 2 + b.getUnsignedShort(at));
    at += 2;
    while (at < listEnd) {
      int n = b.getUnsignedByte(at);
      at += 1;
      if (at + n > listEnd) {
        break;
      }
      // Printable for logs and audit: a name is opaque bytes on the wire.
      names.add(b.toString(at, n, StandardCharsets.US_ASCII).replaceAll("[^\\x20-\\x7e]", "?"));
      at += n;
    }
    return names;
  }

  /** Why a client was refused; carries no stack (it is an answer, not a fault). */
  static final class Refusal extends Exception {
    Refusal(String message) {
      super(message, null, false, false);
    }
  }
}
