package io.beamgate.gateway.server;

import io.beamgate.gateway.bridge.BridgeSession;
import io.beamgate.node.etf.EtfDecoder;
import io.beamgate.node.etf.EtfEncoder;
import io.beamgate.node.term.Term;
import io.beamgate.gateway.transport.TlsContexts;
import io.beamgate.security.tls.TlsSettings;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.codec.LengthFieldBasedFrameDecoder;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslHandler;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A bare bridge-link peer for tests: TLS with ALPN beamgate-bridge/1, then length-prefixed ETF
 * terms, sent and received as they are, so tests can behave as no gateway would.
 */
public final class RawBridge implements AutoCloseable {
  private static final EventLoopGroup GROUP = new MultiThreadIoEventLoopGroup(1,
      NioIoHandler.newFactory());
  private final Channel channel;
  private final LinkedBlockingQueue<Term> terms = new LinkedBlockingQueue<>();

  private RawBridge(Channel channel) {
    this.channel = channel;
  }

  /** Connects with the certificate of {@code bed}'s gateway (gateway.pem, gateway.key). */
  public static RawBridge connect(InetSocketAddress addr, TestBed bed) throws Exception {
    SslContext ctx = TlsContexts.client(TlsSettings.of(bed.dir.resolve("gateway.pem"),
        bed.dir.resolve("gateway.key"), bed.dir.resolve("ca.pem")), TlsSettings.BRIDGE_ALPN);
    RawBridge[] self = new RawBridge[1];
    Channel ch = new Bootstrap().group(GROUP).channel(NioSocketChannel.class)
        .handler(new ChannelInitializer<SocketChannel>() {
          @Override
          protected void initChannel(SocketChannel c) {
            c.pipeline().addLast(ctx.newHandler(c.alloc(), "localhost", addr.getPort()))
                .addLast(new LengthFieldBasedFrameDecoder(64 << 20, 0, 4, 0, 4))
                .addLast(new SimpleChannelInboundHandler<ByteBuf>() {
                  @Override
                  protected void channelRead0(ChannelHandlerContext x, ByteBuf b)
                      throws Exception {
                    byte[] bytes = new byte[b.readableBytes()];
                    b.readBytes(bytes);
                    self[0].terms.add(EtfDecoder.withDefaults().decode(bytes));
                  }
                });
          }
        }).connect(addr).sync().channel();
    self[0] = new RawBridge(ch);
    ch.pipeline().get(SslHandler.class).handshakeFuture().sync();
    return self[0];
  }

  public void send(Term t) {
    sendRaw(EtfEncoder.encode(t));
  }

  /** Sends {@code body} behind its 4-byte length. */
  public void sendRaw(byte[] body) {
    ByteBuf b = channel.alloc().buffer(4 + body.length);
    b.writeInt(body.length).writeBytes(body);
    channel.writeAndFlush(b);
  }

  public Term next(Duration d) throws InterruptedException {
    return terms.poll(d.toMillis(), TimeUnit.MILLISECONDS);
  }

  /** The next term that is not a keepalive ping (answering none). */
  public Term nextNonPing(Duration d) throws InterruptedException {
    long end = System.nanoTime() + d.toNanos();
    Term t;
    do {
      t = terms.poll(Math.max(1, (end - System.nanoTime()) / 1_000_000), TimeUnit.MILLISECONDS);
    } while (t != null && t.equals(BridgeSession.PING));
    return t;
  }

  /** Stops (false) or resumes reading from the gateway. */
  public void reading(boolean on) {
    channel.config().setAutoRead(on);
    if (on) {
      channel.read();
    }
  }

  /** How many terms equal to {@code t} arrive within {@code d}, waiting for up to {@code n}. */
  public int count(Term t, int n, Duration d) throws InterruptedException {
    long end = System.nanoTime() + d.toNanos();
    int c = 0;
    while (c < n) {
      Term x = terms.poll(Math.max(1, (end - System.nanoTime()) / 1_000_000),
          TimeUnit.MILLISECONDS);
      if (x == null) {
        break;
      }
      if (x.equals(t)) {
        c++;
      }
    }
    return c;
  }

  public boolean awaitClosed(Duration d) {
    return channel.closeFuture().awaitUninterruptibly(d.toMillis());
  }

  public boolean isOpen() {
    return channel.isActive();
  }

  @Override
  public void close() {
    channel.close().awaitUninterruptibly(2000);
  }
}
