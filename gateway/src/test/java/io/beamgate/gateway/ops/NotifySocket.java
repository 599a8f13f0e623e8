package io.beamgate.gateway.ops;

import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.epoll.EpollDomainDatagramChannel;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.unix.DomainDatagramPacket;
import io.netty.channel.unix.DomainSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/** A fake systemd notify socket: binds a Unix datagram socket and keeps what arrives. */
public final class NotifySocket implements AutoCloseable {
  private final EventLoopGroup loop =
      new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
  private final BlockingQueue<String> messages = new LinkedBlockingQueue<>();
  private final Channel channel;
  public final String address;

  /** Bound at {@code path}, or in the abstract namespace as {@code @name} when path is null. */
  public NotifySocket(Path path, String abstractName) throws InterruptedException {
    address = path != null ? path.toString() : "@" + abstractName;
    String bind = path != null ? path.toString() : "\0" + abstractName;
    EpollDomainDatagramChannel ch = new EpollDomainDatagramChannel();
    ch.pipeline().addLast(new SimpleChannelInboundHandler<DomainDatagramPacket>() {
      @Override
      protected void channelRead0(ChannelHandlerContext ctx, DomainDatagramPacket p) {
        messages.add(p.content().toString(StandardCharsets.UTF_8));
      }
    });
    loop.register(ch).sync();
    ch.bind(new DomainSocketAddress(bind)).sync();
    channel = ch;
  }

  /** The next datagram, or null after {@code wait}. */
  public String next(Duration wait) throws InterruptedException {
    return messages.poll(wait.toMillis(), TimeUnit.MILLISECONDS);
  }

  /** Datagrams until one contains {@code word}; fails after {@code wait}. */
  public String await(String word, Duration wait) throws InterruptedException {
    long end = System.nanoTime() + wait.toNanos();
    StringBuilder seen = new StringBuilder();
    while (System.nanoTime() < end) {
      String m = next(Duration.ofMillis(100));
      if (m != null) {
        seen.append('[').append(m.replace('\n', ' ')).append("] ");
        if (m.contains(word)) {
          return m;
        }
      }
    }
    throw new AssertionError("no " + word + " within " + wait + "; received: " + seen);
  }

  @Override
  public void close() {
    channel.close().awaitUninterruptibly();
    loop.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly();
  }
}
