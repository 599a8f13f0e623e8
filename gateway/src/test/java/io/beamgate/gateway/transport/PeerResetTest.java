package io.beamgate.gateway.transport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import io.netty.channel.ChannelPromise;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.DecoderException;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A client that resets its connection: the channel is closed without the close going through
 * the TLS handler while the channel is open (which is when SslHandler writes close_notify),
 * and the failure still reaches the handlers after it. Real sockets: the reset is a real one.
 */
class PeerResetTest {
  EventLoopGroup group;

  /** Stands where the TLS handler is: for each close through it, was the channel open. */
  static final class Tls extends ChannelOutboundHandlerAdapter {
    final List<Boolean> closesWhileOpen = new CopyOnWriteArrayList<>();

    @Override
    public void close(ChannelHandlerContext ctx, ChannelPromise promise) throws Exception {
      closesWhileOpen.add(ctx.channel().isActive());
      super.close(ctx, promise);
    }
  }

  /** The handlers after TLS: records the failure and closes, as ClientConnection does. */
  static final class Last extends ChannelInboundHandlerAdapter {
    final CompletableFuture<Throwable> seen = new CompletableFuture<>();

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      seen.complete(cause);
      ctx.close();
    }
  }

  @BeforeEach
  void setUp() {
    group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
  }

  @AfterEach
  void tearDown() {
    group.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly();
  }

  /** Accepts one connection with [PeerReset?, tls, last], and resets it from the client. */
  Channel resetOne(boolean withPeerReset, Tls tls, Last last) throws Exception {
    CompletableFuture<Channel> accepted = new CompletableFuture<>();
    Channel server = new ServerBootstrap().group(group).channel(NioServerSocketChannel.class)
        .childHandler(new ChannelInitializer<SocketChannel>() {
          @Override
          protected void initChannel(SocketChannel ch) {
            ch.pipeline().addLast(tls, last);
            if (withPeerReset) {
              PeerReset.install(ch.pipeline());
            }
            accepted.complete(ch);
          }
        }).bind(new InetSocketAddress("127.0.0.1", 0)).sync().channel();
    try (Socket s = new Socket()) {
      s.connect(server.localAddress());
      Channel ch = accepted.get(10, TimeUnit.SECONDS);
      s.setSoLinger(true, 0); // close with a RST, as s_time's abrupt close ends up
      s.getOutputStream().write(1);
      ch.eventLoop().submit(() -> { }).get(); // the byte read or not: the reset comes next
      s.close();
      assertTrue(ch.closeFuture().await(10, TimeUnit.SECONDS), "closed");
      return ch;
    } finally {
      server.close().sync();
    }
  }

  @Test
  void aResetClosesBeforeTheTlsHandlerAndStillReachesTheOthers() throws Exception {
    Tls tls = new Tls();
    Last last = new Last();
    resetOne(true, tls, last);
    assertTrue(last.seen.get(10, TimeUnit.SECONDS) instanceof IOException);
    assertEquals(List.of(false), tls.closesWhileOpen,
        "the only close through the TLS handler came with the channel already closed");
  }

  @Test
  void withoutItTheCloseGoesThroughTheTlsHandlerWhileTheChannelIsOpen() throws Exception {
    Tls tls = new Tls();
    Last last = new Last();
    resetOne(false, tls, last);
    assertTrue(last.seen.get(10, TimeUnit.SECONDS) instanceof IOException);
    assertEquals(List.of(true), tls.closesWhileOpen, "the case it avoids");
  }

  @Test
  void otherFailuresAreLeftToTheHandlersAfterIt() {
    Tls tls = new Tls();
    List<Throwable> seen = new CopyOnWriteArrayList<>();
    EmbeddedChannel ch = new EmbeddedChannel(tls, new ChannelInboundHandlerAdapter() {
      @Override
      public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        seen.add(cause);
      }
    });
    PeerReset.install(ch.pipeline());
    DecoderException bad = new DecoderException("not TLS");
    ch.pipeline().fireExceptionCaught(bad);
    assertTrue(ch.isActive(), "not closed by PeerReset");
    assertEquals(List.of(bad), seen);
    assertEquals(List.of(), tls.closesWhileOpen);
    ch.finishAndReleaseAll();
  }
}
