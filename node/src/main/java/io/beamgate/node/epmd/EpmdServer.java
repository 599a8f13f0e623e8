package io.beamgate.node.epmd;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.LengthFieldBasedFrameDecoder;
import io.netty.handler.timeout.ReadTimeoutHandler;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An EPMD server in Java, speaking the same protocol as OTP's {@code epmd}, so that beamgate and
 * real {@code erl} nodes can find each other where Erlang is not installed. Binds to loopback by
 * default. A registration lives as long as the registering connection.
 */
public final class EpmdServer implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(EpmdServer.class);

  /**
   * Limits and addresses of the server.
   *
   * @param address address to bind (loopback by default)
   * @param port port to bind (0 picks a free one)
   * @param maxNodes most registrations held at once
   * @param requestTimeout how long a connection may stay silent before its first request
   */
  public record Config(InetAddress address, int port, int maxNodes, Duration requestTimeout) {
    public Config {
      if (port < 0 || port > 65535) {
        throw new IllegalArgumentException("port: " + port + " (expected: 0..65535)");
      }
      if (maxNodes < 1) {
        throw new IllegalArgumentException("maxNodes: " + maxNodes + " (expected: >= 1)");
      }
    }

    public static Config loopback(int port) {
      return new Config(InetAddress.getLoopbackAddress(), port, 1024, Duration.ofSeconds(10));
    }
  }

  private final Config config;
  private final EventLoopGroup group;
  private final Channel serverChannel;
  private final Map<String, Registered> nodes = new ConcurrentHashMap<>();
  private final AtomicInteger creation = new AtomicInteger(new SecureRandom().nextInt() | 4);

  private record Registered(NodeEntry entry, Channel channel) {}

  private EpmdServer(Config config, EventLoopGroup group, Channel serverChannel) {
    this.config = config;
    this.group = group;
    this.serverChannel = serverChannel;
  }

  /** Binds and starts the server; fails if the address is taken. */
  public static EpmdServer start(Config config) throws EpmdException {
    EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    EpmdServer[] self = new EpmdServer[1];
    try {
      ServerBootstrap b = new ServerBootstrap()
          .group(group)
          .channel(NioServerSocketChannel.class)
          .childHandler(new ChannelInitializer<SocketChannel>() {
            @Override
            protected void initChannel(SocketChannel ch) {
              ch.pipeline()
                  .addLast("timeout", new ReadTimeoutHandler(
                      config.requestTimeout().toMillis(), TimeUnit.MILLISECONDS))
                  .addLast("frame", new LengthFieldBasedFrameDecoder(65535, 0, 2, 0, 2))
                  .addLast("epmd", self[0].new Handler());
            }
          });
      Channel ch = b.bind(new InetSocketAddress(config.address(), config.port())).sync().channel();
      self[0] = new EpmdServer(config, group, ch);
      log.info("embedded epmd listening on {}", ch.localAddress());
      return self[0];
    } catch (Exception e) {
      group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
      if (e instanceof InterruptedException) {
        Thread.currentThread().interrupt();
      }
      throw new EpmdException("cannot start epmd on " + config.address().getHostAddress() + ":"
          + config.port() + ": " + e.getMessage(), e);
    }
  }

  public int port() {
    return ((InetSocketAddress) serverChannel.localAddress()).getPort();
  }

  public InetSocketAddress address() {
    return (InetSocketAddress) serverChannel.localAddress();
  }

  /** The registered nodes, in no order. */
  public List<NodeEntry> registered() {
    List<NodeEntry> l = new ArrayList<>();
    nodes.values().forEach(r -> l.add(r.entry()));
    return l;
  }

  @Override
  public void close() {
    serverChannel.close().awaitUninterruptibly(2, TimeUnit.SECONDS);
    group.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly(3, TimeUnit.SECONDS);
  }

  private final class Handler extends SimpleChannelInboundHandler<ByteBuf> {
    private String registeredName;

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, ByteBuf req) {
      if (registeredName != null) {
        // A registering connection carries nothing further; OTP's epmd ignores extra data too.
        return;
      }
      if (!req.isReadable()) {
        ctx.close();
        return;
      }
      int tag = req.readUnsignedByte();
      switch (tag) {
        case EpmdProtocol.ALIVE2_REQ -> alive2(ctx, req);
        case EpmdProtocol.PORT_PLEASE2_REQ -> portPlease(ctx, req);
        case EpmdProtocol.NAMES_REQ, EpmdProtocol.DUMP_REQ -> names(ctx, tag);
        case EpmdProtocol.KILL_REQ, EpmdProtocol.STOP_REQ -> {
          // Only a local operator may stop epmd; the embedded one is stopped by its owner.
          log.info("refusing epmd {} request from {}", tag == EpmdProtocol.KILL_REQ ? "kill"
              : "stop", ctx.channel().remoteAddress());
          ctx.writeAndFlush(ctx.alloc().buffer(2).writeBytes("NO".getBytes(StandardCharsets.US_ASCII)))
              .addListener(ChannelFutureListener.CLOSE);
        }
        default -> {
          log.debug("unknown epmd request {} from {}", tag, ctx.channel().remoteAddress());
          ctx.close();
        }
      }
    }

    private void alive2(ChannelHandlerContext ctx, ByteBuf req) {
      if (req.readableBytes() < 12) {
        ctx.close();
        return;
      }
      int port = req.readUnsignedShort();
      int type = req.readUnsignedByte();
      int proto = req.readUnsignedByte();
      int hi = req.readUnsignedShort();
      int lo = req.readUnsignedShort();
      int nlen = req.readUnsignedShort();
      if (nlen < 1 || nlen > EpmdProtocol.MAX_NAME_BYTES || req.readableBytes() < nlen + 2
          || port == 0) {
        reply(ctx, hi, 1, 0);
        return;
      }
      String name = req.readCharSequence(nlen, StandardCharsets.UTF_8).toString();
      NodeEntry entry = new NodeEntry(name, port, type == EpmdProtocol.NODE_TYPE_HIDDEN, proto,
          hi, lo);
      if (nodes.size() >= config.maxNodes()) {
        log.warn("epmd: refusing '{}': {} nodes registered (expected: < {})", name, nodes.size(),
            config.maxNodes());
        reply(ctx, hi, 1, 0);
        return;
      }
      Registered r = new Registered(entry, ctx.channel());
      if (nodes.putIfAbsent(name, r) != null) {
        log.info("epmd: refusing '{}': name already registered", name);
        reply(ctx, hi, 1, 0);
        return;
      }
      registeredName = name;
      // The registration stays for as long as this connection: no read timeout any more.
      ctx.pipeline().remove("timeout");
      ctx.channel().closeFuture().addListener(f -> {
        nodes.remove(name, r);
        log.debug("epmd: '{}' unregistered", name);
      });
      int c = creation.updateAndGet(v -> (v + 1) == 0 ? 4 : v + 1);
      log.debug("epmd: registered '{}' at port {}", name, port);
      reply(ctx, hi, 0, hi >= 6 ? c : 1 + Integer.remainderUnsigned(c, 3));
    }

    private void reply(ChannelHandlerContext ctx, int highestVersion, int result, int creation) {
      ByteBuf out = ctx.alloc().buffer(6);
      if (highestVersion >= 6) {
        out.writeByte(EpmdProtocol.ALIVE2_X_RESP).writeByte(result).writeInt(creation);
      } else {
        out.writeByte(EpmdProtocol.ALIVE2_RESP).writeByte(result).writeShort(creation);
      }
      if (result != 0) {
        ctx.writeAndFlush(out).addListener(ChannelFutureListener.CLOSE);
      } else {
        ctx.writeAndFlush(out);
      }
    }

    private void portPlease(ChannelHandlerContext ctx, ByteBuf req) {
      String name = req.readCharSequence(req.readableBytes(), StandardCharsets.UTF_8).toString();
      Registered r = nodes.get(name);
      ByteBuf out = ctx.alloc().buffer();
      out.writeByte(EpmdProtocol.PORT2_RESP);
      if (r == null) {
        out.writeByte(1);
      } else {
        NodeEntry e = r.entry();
        byte[] n = e.alive().getBytes(StandardCharsets.UTF_8);
        out.writeByte(0).writeShort(e.port())
            .writeByte(e.hidden() ? EpmdProtocol.NODE_TYPE_HIDDEN : EpmdProtocol.NODE_TYPE_NORMAL)
            .writeByte(e.protocol()).writeShort(e.highestVersion()).writeShort(e.lowestVersion())
            .writeShort(n.length).writeBytes(n).writeShort(0);
      }
      ctx.writeAndFlush(out).addListener(ChannelFutureListener.CLOSE);
    }

    private void names(ChannelHandlerContext ctx, int tag) {
      StringBuilder sb = new StringBuilder();
      for (Registered r : nodes.values()) {
        if (tag == EpmdProtocol.DUMP_REQ) {
          sb.append("active name     <").append(r.entry().alive()).append("> at port ")
              .append(r.entry().port()).append('\n');
        } else {
          sb.append("name ").append(r.entry().alive()).append(" at port ")
              .append(r.entry().port()).append('\n');
        }
      }
      ByteBuf out = ctx.alloc().buffer();
      out.writeInt(port());
      out.writeCharSequence(sb, StandardCharsets.UTF_8);
      ctx.writeAndFlush(out).addListener(ChannelFutureListener.CLOSE);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      log.debug("epmd connection {} closed: {}", ctx.channel().remoteAddress(), cause.toString());
      ctx.close();
    }
  }
}
