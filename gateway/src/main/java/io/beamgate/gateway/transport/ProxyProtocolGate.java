package io.beamgate.gateway.transport;

import io.beamgate.gateway.config.GatewayConfig;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.netty.handler.codec.ProtocolDetectionResult;
import io.netty.handler.codec.ProtocolDetectionState;
import io.netty.handler.codec.haproxy.HAProxyCommand;
import io.netty.handler.codec.haproxy.HAProxyMessage;
import io.netty.handler.codec.haproxy.HAProxyMessageDecoder;
import io.netty.handler.codec.haproxy.HAProxyProtocolVersion;
import io.netty.handler.codec.haproxy.HAProxyProxiedProtocol;
import io.netty.util.AttributeKey;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.List;
import java.util.function.BiConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The first handler of a listener connection when PROXY protocol is on: a connection from a
 * listed load balancer must start with a PROXY header (v1 or v2), whose source address then
 * stands for the client ({@link #peer}); a connection from anywhere else that starts with a
 * header is refused, since it would choose the address audit records show. A connection from
 * elsewhere without a header goes on untouched. Refusals are logged and reported to
 * {@code refused} (for the audit). Decides on the first bytes only, then leaves the pipeline.
 *
 * <p>The TLS handshake timeout, which starts when the connection opens, also bounds a load
 * balancer that sends half a header.
 */
public final class ProxyProtocolGate extends ByteToMessageDecoder {
  private static final Logger log = LoggerFactory.getLogger(ProxyProtocolGate.class);
  private static final AttributeKey<InetSocketAddress> CLIENT =
      AttributeKey.valueOf("beamgate.proxy.client");
  /** The v2 signature is 12 bytes, "PROXY " 6: past 16 bytes the answer is known. */
  private static final int ENOUGH = 16;

  private final GatewayConfig.ProxyProtocol config;
  private final BiConsumer<String, String> onRefusal;

  /**
   * @param refused told (peer, why) for each refused connection
   */
  public ProxyProtocolGate(GatewayConfig.ProxyProtocol config,
      BiConsumer<String, String> refused) {
    this.config = config;
    this.onRefusal = refused;
  }

  /** Puts the gate first in {@code p} when PROXY protocol is configured. */
  public static void install(ChannelPipeline p, GatewayConfig.ProxyProtocol config,
      BiConsumer<String, String> refused) {
    if (config.enabled()) {
      p.addFirst("proxy-protocol", new ProxyProtocolGate(config, refused));
    }
  }

  /**
   * The client's address: the PROXY header's source when a load balancer sent one, else the
   * connection's own remote address.
   */
  public static SocketAddress clientAddress(Channel ch) {
    InetSocketAddress a = ch.attr(CLIENT).get();
    return a != null ? a : ch.remoteAddress();
  }

  /** {@link #clientAddress} as audit records write it: {@code 203.0.113.7:51234}. */
  public static String peer(Channel ch) {
    SocketAddress a = clientAddress(ch);
    if (a instanceof InetSocketAddress i && i.getAddress() != null) {
      String h = i.getAddress().getHostAddress();
      return (h.indexOf(':') >= 0 ? "[" + h + "]" : h) + ":" + i.getPort();
    }
    String s = String.valueOf(a);
    return s.startsWith("/") ? s.substring(1) : s;
  }

  private boolean refused;

  @Override
  protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
    if (refused) {
      in.skipBytes(in.readableBytes()); // closing: nothing more is read, or refused again
      return;
    }
    ProtocolDetectionResult<HAProxyProtocolVersion> d = HAProxyMessageDecoder.detectProtocol(in);
    if (d.state() == ProtocolDetectionState.NEEDS_MORE_DATA && in.readableBytes() < ENOUGH) {
      return;
    }
    boolean header = d.state() == ProtocolDetectionState.DETECTED;
    boolean fromBalancer = ctx.channel().remoteAddress() instanceof InetSocketAddress r
        && r.getAddress() != null && config.trusts(r.getAddress());
    if (header && !fromBalancer) {
      refuse(ctx, in, "a PROXY " + d.detectedProtocol() + " header from an address not in"
          + " listen.proxy_protocol.from (only listed load balancers may name the client)");
      return;
    }
    if (!header && fromBalancer) {
      refuse(ctx, in, "no PROXY header from a load balancer listed in listen.proxy_protocol.from"
          + " (expected: send-proxy or send-proxy-v2 on its server lines)");
      return;
    }
    ChannelPipeline p = ctx.pipeline();
    if (header) {
      p.addAfter(ctx.name(), "proxy-header", new HeaderReader());
      p.addAfter(ctx.name(), "proxy-decoder", new HAProxyMessageDecoder());
    }
    p.remove(this); // what was read so far goes on to the next handler
  }

  private void refuse(ChannelHandlerContext ctx, ByteBuf in, String why) {
    refused = true;
    in.skipBytes(in.readableBytes());
    report(ctx, why);
  }

  private void report(ChannelHandlerContext ctx, String why) {
    String peer = peer(ctx.channel());
    log.warn("refusing a connection from {}: {}", peer, why);
    onRefusal.accept(peer, "proxy protocol: " + why);
    ctx.close();
  }

  /** Takes the decoded header: its source becomes the client's address. */
  private final class HeaderReader extends ChannelInboundHandlerAdapter {
    private boolean malformed;

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) throws Exception {
      if (!(msg instanceof HAProxyMessage m)) {
        ctx.fireChannelRead(msg);
        return;
      }
      try {
        // LOCAL: the balancer speaking for itself (a health check); UNKNOWN family: no
        // address given. Either way the connection keeps the balancer's own address.
        HAProxyProxiedProtocol.AddressFamily family = m.proxiedProtocol().addressFamily();
        if (m.command() == HAProxyCommand.PROXY && m.sourceAddress() != null
            && (family == HAProxyProxiedProtocol.AddressFamily.AF_IPv4
                || family == HAProxyProxiedProtocol.AddressFamily.AF_IPv6)) {
          // an address literal (the decoder checked it): no name lookup happens here
          ctx.channel().attr(CLIENT).set(new InetSocketAddress(
              java.net.InetAddress.getByName(m.sourceAddress()), m.sourcePort()));
        }
      } finally {
        m.release();
      }
      ctx.pipeline().remove(this);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      if (isHeaderError(cause)) {
        if (malformed) {
          return; // reported once already
        }
        malformed = true; // (the decoder has closed the connection itself)
        report(ctx, "malformed PROXY header: " + TlsContexts.rootMessage(cause));
        return;
      }
      ctx.fireExceptionCaught(cause);
    }
  }

  private static boolean isHeaderError(Throwable t) {
    for (Throwable c = t; c != null; c = c.getCause()) {
      if (c instanceof io.netty.handler.codec.haproxy.HAProxyProtocolException) {
        return true;
      }
    }
    return false;
  }
}
