package io.beamgate.bench;

import io.beamgate.gateway.proto.Call;
import io.beamgate.gateway.proto.ClientFrame;
import io.beamgate.gateway.proto.Term;
import io.beamgate.gateway.protocol.FrameEncoder;
import io.beamgate.gateway.transport.TlsContexts;
import io.beamgate.security.tls.TlsSettings;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslHandler;
import java.net.InetSocketAddress;
import java.nio.file.Path;

/**
 * A client that never reads: after its TLS handshake it stops reading from its socket and sends
 * {@code fr_backend:blob(Id, Size)} calls (answers of {@code Size} bytes) that it will never
 * take. It shows what such a client costs the gateway and the other clients.
 */
final class FaultNonReader implements AutoCloseable {
  private static final EventLoopGroup GROUP =
      new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
  private final Channel channel;

  FaultNonReader(int port, Path cert, Path key, Path ca) throws Exception {
    SslContext ctx = TlsContexts.client(TlsSettings.of(cert, key, ca));
    channel = new Bootstrap().group(GROUP).channel(NioSocketChannel.class)
        .handler(new ChannelInitializer<SocketChannel>() {
          @Override
          protected void initChannel(SocketChannel ch) {
            ch.pipeline().addLast(ctx.newHandler(ch.alloc(), "localhost", port))
                .addLast(FrameEncoder.INSTANCE);
          }
        }).connect(new InetSocketAddress("127.0.0.1", port)).sync().channel();
    channel.pipeline().get(SslHandler.class).handshakeFuture().sync();
    channel.config().setAutoRead(false);
  }

  /** Sends {@code count} calls numbered from {@code firstId}, without waiting for writes. */
  void send(long firstId, int count, int size) {
    for (int i = 0; i < count; i++) {
      long id = firstId + i;
      Call c = Call.newBuilder().setModule("fr_backend").setFunction("blob")
          .addArgs(Term.newBuilder().setInt(id)).addArgs(Term.newBuilder().setInt(size))
          .setTimeoutMs(10_000).build();
      channel.write(ClientFrame.newBuilder().setId(i + 1).setCall(c).build());
    }
    channel.flush();
  }

  boolean isOpen() {
    return channel.isActive();
  }

  @Override
  public void close() {
    channel.close().syncUninterruptibly();
  }
}
