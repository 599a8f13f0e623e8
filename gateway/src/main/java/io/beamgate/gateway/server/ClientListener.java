package io.beamgate.gateway.server;

import io.beamgate.gateway.ops.GatewayMetrics;
import io.beamgate.gateway.proto.ClientFrame;
import io.beamgate.gateway.protocol.FrameDecoder;
import io.beamgate.gateway.protocol.FrameEncoder;
import io.beamgate.gateway.protocol.TermProto;
import io.beamgate.gateway.transport.TlsContexts;
import io.beamgate.security.audit.AuditRecord;
import io.beamgate.gateway.config.GatewayConfig;
import io.beamgate.security.identity.PeerIdentity;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.timeout.IdleStateHandler;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The client listener on {@code listen.port} and each accepted connection's pipeline:
 * {@code tls} → {@code alpn} ({@link TlsUp}) → {@code idle} → {@code frames} → {@code encoder}
 * → {@code client} ({@link ClientConnection}); or, past {@code limits.max_connections},
 * {@link FullRefusal}.
 */
final class ClientListener implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(ClientListener.class);

  /** What a new connection's handlers are made of. */
  interface Parts {
    /** The policy, TLS context and validator in force. */
    GatewayState state();

    void audit(AuditRecord r);

    /** The handler that reads the identity and ALPN when the handshake completes. */
    TlsUp tlsUp();

    /** What client connections see of the gateway. */
    ClientContext clients();

    /** A client offered only ALPN protocols this listener does not speak (AlpnGuard). */
    void alpnRefused(String peer, String why);

    /** PROXY protocol on this listener (OFF unless configured). */
    GatewayConfig.ProxyProtocol proxyProtocol();

    /** A connection refused by the PROXY protocol gate. */
    void proxyRefused(String peer, String why);
  }

  private final EventLoopGroup workers;
  private final boolean sharedWorkers;
  private final Channel channel;

  private ClientListener(EventLoopGroup workers, boolean sharedWorkers,
      Channel channel) {
    this.workers = workers;
    this.sharedWorkers = sharedWorkers;
    this.channel = channel;
  }

  /**
   * Listens on {@code addr}. With {@code workerThreads} 0 the connections share
   * {@code nodeLoops} (the cluster-side node's I/O threads, each connection placed by
   * {@link ClientLoops}): a request and its call to a backend then stay on one thread, with no
   * hand-off. Else a group of their own. Connections are accepted on one of the workers'
   * threads, not a thread of its own: no thread beyond the workers (issue 17: handshakes under
   * load, where every thread woken waits for a core).
   */
  static ClientListener bind(InetSocketAddress addr, GatewayConfig.Limits lim,
      int workerThreads, ClientLoops nodeLoops, GatewayMetrics metrics, Parts parts)
      throws IOException {
    boolean shared = workerThreads == 0;
    EventLoopGroup workers = shared ? nodeLoops
        : new MultiThreadIoEventLoopGroup(workerThreads, NioIoHandler.newFactory());
    AtomicInteger open = new AtomicInteger();
    AtomicInteger telling = new AtomicInteger(); // connections past the limit being told so
    RefusedLog refusedLog = new RefusedLog(log);
    int idleMillis = lim.idleTimeoutMillis();
    // the listening socket on the node's threads themselves: ClientLoops places (and counts)
    // accepted connections only
    ServerBootstrap b = new ServerBootstrap().group(shared ? nodeLoops.threads() : workers,
        workers)
        .channel(NioServerSocketChannel.class)
        .option(ChannelOption.SO_BACKLOG, 1024)
        .childOption(ChannelOption.TCP_NODELAY, true)
        .childOption(ChannelOption.WRITE_BUFFER_WATER_MARK,
            new WriteBufferWaterMark(lim.outputHighWater() / 4, lim.outputHighWater()))
        .childHandler(new ChannelInitializer<SocketChannel>() {
          @Override
          protected void initChannel(SocketChannel ch) {
            if (open.incrementAndGet() > lim.maxConnections()) {
              open.decrementAndGet();
              metrics.connection(false);
              String why = "the gateway is full: " + lim.maxConnections()
                  + " connections are open (limits.max_connections); try again later";
              FullRefusal.install(ch, parts.state(), telling, lim.maxConnections(), why);
              refusedLog.refused(ch.remoteAddress(), lim.maxConnections(), ch.eventLoop());
              parts.audit(AuditRecord.from(PeerIdentity.address(ch.remoteAddress()))
                  .decision(AuditRecord.Decision.DENIED)
                  .reason("limits.max_connections reached").outcome("closed").build());
              return;
            }
            metrics.connection(true);
            ch.closeFuture().addListener(f -> open.decrementAndGet());
            GatewayState st = parts.state();
            ch.pipeline()
                .addLast("alpn-guard", new io.beamgate.gateway.transport.AlpnGuard(
                    java.util.List.of(io.beamgate.security.tls.TlsSettings.ALPN,
                        io.beamgate.security.tls.TlsSettings.BRIDGE_ALPN,
                        io.beamgate.security.tls.TlsSettings.GRPC_ALPN), parts::alpnRefused))
                .addLast("tls", TlsContexts.handler(st.ssl(), ch.alloc(), st.tls()))
                .addLast("alpn", parts.tlsUp())
                .addLast("idle", new IdleStateHandler(0, 0, idleMillis, TimeUnit.MILLISECONDS))
                .addLast("frames", new FrameDecoder<>(ClientFrame.parser(),
                    lim.maxFrameBytes(), 2 * TermProto.DEFAULT_MAX_DEPTH + 8))
                .addLast("encoder", FrameEncoder.INSTANCE)
                .addLast("client", new ClientConnection(parts.clients()));
            ch.pipeline().get(io.netty.handler.ssl.SslHandler.class).handshakeFuture()
                .addListener(f -> ClientLoops.handshakeOver(ch));
            io.beamgate.gateway.transport.ProxyProtocolGate.install(ch.pipeline(),
                parts.proxyProtocol(), parts::proxyRefused);
            io.beamgate.gateway.transport.PeerReset.install(ch.pipeline());
          }
        });
    try {
      return new ClientListener(workers, shared, b.bind(addr).sync().channel());
    } catch (Exception e) {
      if (e instanceof InterruptedException) {
        Thread.currentThread().interrupt();
      }
      if (!shared) {
        workers.shutdownGracefully(0, 1, TimeUnit.SECONDS);
      }
      throw new IOException("cannot listen on " + addr + ": " + e.getMessage(), e);
    }
  }

  /** The thread that accepts connections: one of the workers'. */
  io.netty.channel.EventLoop acceptLoop() {
    return channel.eventLoop();
  }

  InetSocketAddress address() {
    return (InetSocketAddress) channel.localAddress();
  }

  boolean isActive() {
    return channel.isActive();
  }

  /** Stops accepting; the connections open stay. */
  void stopAccepting() {
    // From the accepting thread itself the close completes before the wait: no deadlock.
    channel.close().awaitUninterruptibly();
  }

  /** Stops accepting and stops the listener's threads (none when it shares the node's). */
  @Override
  public void close() {
    stopAccepting();
    if (!sharedWorkers) {
      workers.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly();
    }
  }
}
