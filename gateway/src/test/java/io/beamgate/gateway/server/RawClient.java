package io.beamgate.gateway.server;

import io.beamgate.gateway.proto.ClientFrame;
import io.beamgate.gateway.proto.ServerFrame;
import io.beamgate.gateway.protocol.FrameDecoder;
import io.beamgate.gateway.protocol.FrameEncoder;
import io.beamgate.gateway.transport.TlsContexts;
import io.beamgate.security.tls.TlsSettings;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslHandler;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A bare protocol client for tests: sends frames (or raw bytes) and hands back what the
 * gateway answers, in arrival order. Uses only the protocol's framing, not the client library,
 * so tests can send what a well-behaved client never would.
 */
public final class RawClient implements AutoCloseable {
  private static final EventLoopGroup GROUP = new MultiThreadIoEventLoopGroup(2,
      NioIoHandler.newFactory());
  private final Channel channel;
  private final LinkedBlockingQueue<ServerFrame> frames = new LinkedBlockingQueue<>();

  private RawClient(Channel channel) {
    this.channel = channel;
  }

  /** Connects with a client certificate; throws when the TLS handshake fails. */
  public static RawClient connect(InetSocketAddress addr, TestBed.Client c) throws Exception {
    SslContext ctx = TlsContexts.client(TlsSettings.of(c.cert(), c.key(), c.ca()));
    return connect(addr, ctx);
  }

  public static RawClient connect(InetSocketAddress addr, SslContext ctx) throws Exception {
    RawClient[] holder = new RawClient[1];
    Channel ch = new Bootstrap().group(GROUP).channel(NioSocketChannel.class)
        .handler(new ChannelInitializer<SocketChannel>() {
          @Override
          protected void initChannel(SocketChannel ch) {
            ch.pipeline().addLast(ctx.newHandler(ch.alloc(), "localhost", addr.getPort()))
                .addLast(new FrameDecoder<>(ServerFrame.parser(), 64 << 20, 300))
                .addLast(FrameEncoder.INSTANCE)
                .addLast(new SimpleChannelInboundHandler<ServerFrame>() {
                  @Override
                  protected void channelRead0(ChannelHandlerContext ctx, ServerFrame f) {
                    holder[0].frames.add(f);
                  }
                });
          }
        }).connect(addr).sync().channel();
    holder[0] = new RawClient(ch);
    ch.pipeline().get(SslHandler.class).handshakeFuture().sync();
    // TLS 1.3: the server judges the client certificate after the client's handshake ends;
    // a refusal arrives as an alert right after. Give it a moment to land.
    ch.eventLoop().submit(() -> { }).sync();
    return holder[0];
  }

  public void send(ClientFrame f) {
    channel.writeAndFlush(f).syncUninterruptibly();
  }

  /** Sends without waiting for the write (a client whose peer stopped reading). */
  public void sendAsync(ClientFrame f) {
    channel.writeAndFlush(f);
  }

  /** Stops (false) or resumes reading the gateway's answers. */
  public void reading(boolean on) {
    channel.config().setAutoRead(on);
    if (on) {
      channel.read();
    }
  }

  public void sendRaw(byte[] bytes) {
    channel.writeAndFlush(Unpooled.wrappedBuffer(bytes)).syncUninterruptibly();
  }

  /** The next frame, or null when none arrives within {@code d}. */
  public ServerFrame next(Duration d) throws InterruptedException {
    return frames.poll(d.toMillis(), TimeUnit.MILLISECONDS);
  }

  public ServerFrame next() throws InterruptedException {
    ServerFrame f = next(Duration.ofSeconds(10));
    if (f == null) {
      throw new AssertionError("no answer from the gateway within 10 s");
    }
    return f;
  }

  /** True once the connection is closed (waits up to {@code d}). */
  public boolean awaitClosed(Duration d) {
    return channel.closeFuture().awaitUninterruptibly(d.toMillis());
  }

  public boolean isOpen() {
    return channel.isActive();
  }

  @Override
  public void close() {
    channel.close().syncUninterruptibly();
  }
}
