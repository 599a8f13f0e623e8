package io.beamgate.gateway.bridge;

import io.beamgate.node.Cookie;
import io.beamgate.node.LocalNode;
import io.beamgate.node.NodeConfig;
import io.beamgate.gateway.config.GatewayConfig;
import io.beamgate.security.identity.PrincipalMatcher;
import io.beamgate.gateway.transport.PeerIdentities;
import io.beamgate.gateway.transport.TlsContexts;
import io.beamgate.security.identity.IdentityException;
import io.beamgate.security.identity.PeerIdentity;
import io.beamgate.security.tls.TlsException;
import io.beamgate.security.tls.TlsSettings;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import java.io.IOException;
import java.net.InetAddress;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A link this gateway opens to another cluster's gateway. The other cluster appears in this
 * one as the node {@code node_name}, which this gateway runs: it registers with this cluster's
 * EPMD and accepts this cluster's nodes (with this cluster's cookie) only while the link is up.
 * When the link goes down, every connection to that node is closed, so this cluster sees the
 * node go down ({@code nodedown}, {@code noconnection}); the link is retried with a doubling,
 * capped, jittered wait.
 */
public final class BridgeLink implements BridgeHandler.Side, AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(BridgeLink.class);

  private final BridgeContext gw;
  private final GatewayConfig.Bridge cfg;
  private final PrincipalMatcher expect;
  private final LocalNode exposed;
  private final BridgeHub hub;
  private volatile SslContext ssl;
  private volatile TlsSettings tls;
  private volatile int generation = 1; // of the gateway's files the TLS context was made from
  private volatile BridgeSession session;
  private volatile Channel channel;
  private volatile boolean closed;
  private volatile String lastError = "not connected yet";
  private int attempts;

  private BridgeLink(BridgeContext gw, GatewayConfig.Bridge cfg, LocalNode exposed,
      SslContext ssl, TlsSettings tls) {
    this.gw = gw;
    this.cfg = cfg;
    this.expect = PrincipalMatcher.parse(cfg.expect());
    this.exposed = exposed;
    this.ssl = ssl;
    this.tls = tls;
    exposed.gatewayDoor().acceptGate(n -> session != null);
    this.hub = new BridgeHub(exposed, true);
  }

  public static BridgeLink start(BridgeContext gw, GatewayConfig.Bridge cfg, GatewayConfig.Cluster c,
      Cookie cookie, TlsSettings tls) throws IOException, TlsException {
    SslContext ssl = TlsContexts.client(tls, TlsSettings.BRIDGE_ALPN);
    // One I/O thread serves the node and the link alike: what arrives on one goes out on the
    // other without a hand-off between threads.
    NodeConfig.Builder nb = NodeConfig.builder(cfg.nodeName()).cookie(cookie).ioThreads(1)
        .hidden(!cfg.visible())
        .epmdPort(c.epmdPort())
        .netTickTime(java.time.Duration.ofSeconds(c.netTicktimeSeconds()));
    nb.listen(c.listenAddress() == null ? null : InetAddress.getByName(c.listenAddress()),
        cfg.listenPort());
    LocalNode exposed = LocalNode.start(nb.build());
    BridgeLink l = new BridgeLink(gw, cfg, exposed, ssl, tls);
    log.info("bridge {}: {} stands for the cluster behind {}:{} (expected identity {});"
        + " connecting", cfg.name(), cfg.nodeName(), cfg.host(), cfg.port(), cfg.expect());
    l.connect();
    return l;
  }

  public String name() {
    return cfg.name();
  }

  public boolean up() {
    return session != null;
  }

  public LocalNode exposedNode() {
    return exposed;
  }

  /** Bytes queued for the other gateway (0 while the link is down). */
  public long queuedBytes() {
    BridgeSession s = session;
    return s == null ? 0 : s.queuedBytes();
  }

  public Map<String, Object> status() {
    BridgeSession s = session;
    return s == null
        ? Map.of("link", cfg.name(), "node", cfg.nodeName(), "up", false, "error", lastError)
        : Map.of("link", cfg.name(), "node", cfg.nodeName(), "up", true, "session",
            s.status());
  }

  private void connect() {
    if (closed) {
      return;
    }
    // The TLS files in force now: a reload may have replaced the certificate, key, CAs or CRL.
    BridgeContext.TlsInForce st = gw.tlsInForce();
    if (st.generation() != generation) {
      try {
        ssl = TlsContexts.client(st.tls(), TlsSettings.BRIDGE_ALPN);
        tls = st.tls();
        generation = st.generation();
      } catch (TlsException e) {
        lastError = "TLS files: " + e.getMessage();
        log.warn("bridge {}: {}; keeping the previous ones", cfg.name(), lastError);
      }
    }
    SslContext ssl = this.ssl;
    TlsSettings tls = this.tls;
    BridgeHandler handler = new BridgeHandler(gw, this, true, cfg.name(), cfg.nodeName());
    Bootstrap b = new Bootstrap()
        .group(exposed.gatewayDoor().ioThreads(io.netty.channel.EventLoopGroup.class))
        .channel(NioSocketChannel.class)
        .option(ChannelOption.TCP_NODELAY, true)
        .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, 10_000)
        .option(ChannelOption.WRITE_BUFFER_WATER_MARK, new WriteBufferWaterMark(
            gw.bridgeSettings().maxQueueBytes() / 2, gw.bridgeSettings().maxQueueBytes()))
        .handler(new ChannelInitializer<SocketChannel>() {
          @Override
          protected void initChannel(SocketChannel ch) {
            // The certificate must be valid for the host connected to (as any TLS client
            // checks), and its principal must match `expect`.
            io.netty.handler.ssl.SslHandler sh = ssl.newHandler(ch.alloc(), cfg.host(),
                cfg.port());
            sh.setHandshakeTimeoutMillis(tls.handshakeTimeout().toMillis());
            ch.pipeline().addLast("tls", sh)
                .addLast("tls-up", new ChannelInboundHandlerAdapter() {
                  @Override
                  public void userEventTriggered(ChannelHandlerContext ctx, Object evt)
                      throws Exception {
                    if (evt instanceof SslHandshakeCompletionEvent e) {
                      if (e.isSuccess()) {
                        ChannelHandlerContext hc = ctx.pipeline().context(handler);
                        try {
                          handler.tlsUp(hc, PeerIdentities.of(ctx.channel()));
                        } catch (IdentityException ex) {
                          handler.refuse(hc, "identity of the other gateway: "
                              + ex.getMessage());
                        }
                      } else {
                        lastError = "TLS handshake with " + cfg.host() + ":" + cfg.port()
                            + " failed: " + TlsContexts.rootMessage(e.cause());
                        log.warn("bridge {}: {}", cfg.name(), lastError);
                        ctx.close();
                      }
                    }
                    super.userEventTriggered(ctx, evt);
                  }
                });
            BridgeHandler.install(ch.pipeline(), gw, handler);
          }
        });
    ChannelFuture f = b.connect(cfg.host(), cfg.port());
    channel = f.channel();
    f.addListener(done -> {
      if (!done.isSuccess()) {
        lastError = "cannot connect to " + cfg.host() + ":" + cfg.port() + ": "
            + done.cause().getMessage();
        log.warn("bridge {}: {}", cfg.name(), lastError);
        // channelInactive does not follow a failed connect
        retry();
      }
    });
  }

  private synchronized void retry() {
    if (closed) {
      return;
    }
    long min = cfg.reconnectMinMillis();
    long max = cfg.reconnectMaxMillis();
    long wait = Math.min(max, min << Math.min(attempts, 20));
    wait = wait / 2 + ThreadLocalRandom.current().nextLong(wait / 2 + 1);
    attempts++;
    gw.timer().schedule(this::connect, wait, TimeUnit.MILLISECONDS);
  }

  @Override
  public String admit(PeerIdentity peer) {
    if (!expect.matches(peer.principal())) {
      lastError = "the gateway at " + cfg.host() + ":" + cfg.port() + " is " + peer.name()
          + ", not " + cfg.expect();
      return lastError;
    }
    return null;
  }

  @Override
  public BridgeSession open(ChannelHandlerContext ctx, PeerIdentity peer) {
    BridgeSession s = new ExposerSession(exposed, ctx.channel(), peer, cfg.name(),
        hub.nextNumber(), gw);
    hub.attach(s);
    synchronized (this) {
      attempts = 0;
    }
    session = s;
    lastError = null;
    log.info("bridge {}: up to {} ({}); the cluster behind it is node {} here", cfg.name(),
        peer.name(), ctx.channel().remoteAddress(), cfg.nodeName());
    return s;
  }

  @Override
  public void closed(BridgeSession s, String why) {
    if (s == null && why != null && !"the connection closed".equals(why)) {
      lastError = why; // refused or failed before the link was up
    }
    if (s != null) {
      session = null;
      hub.detach(s);
      s.closed();
      exposed.gatewayDoor().disconnectAll();
      exposed.gatewayDoor().pauseReading(false);
      lastError = why;
      log.warn("bridge {}: down ({}); node {} is down for this cluster until the link is back",
          cfg.name(), why, cfg.nodeName());
    }
    retry();
  }

  @Override
  public void close() {
    closed = true;
    Channel ch = channel;
    if (ch != null) {
      ch.close().awaitUninterruptibly(2000);
    }
    exposed.close();
  }
}
