package io.beamgate.gateway.bridge;

import io.beamgate.node.LocalNode;
import io.beamgate.security.audit.AuditRecord;
import io.beamgate.security.identity.PeerIdentity;
import io.beamgate.security.identity.Principal;
import io.netty.channel.ChannelHandlerContext;
import java.util.function.BooleanSupplier;
import java.util.function.Predicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The server's side of bridge links (the links other gateways open to this one): this cluster,
 * served to another under the policy. A link is admitted when a rule names the other
 * gateway's principal; its session joins the cluster's hub.
 */
public final class ServerSide implements BridgeHandler.Side {
  private static final Logger log = LoggerFactory.getLogger(ServerSide.class);
  private final LocalNode node;
  private final BridgeHub hub;
  private final BridgeContext gw;
  private final Predicate<Principal> named;
  private final BooleanSupplier closing;

  /**
   * @param named whether the policy in force names a principal
   * @param closing whether the gateway is shutting down (a link coming up then is closed)
   */
  public ServerSide(LocalNode node, BridgeHub hub, BridgeContext gw, Predicate<Principal> named,
      BooleanSupplier closing) {
    this.node = node;
    this.hub = hub;
    this.gw = gw;
    this.named = named;
    this.closing = closing;
  }

  @Override
  public String admit(PeerIdentity peer) {
    return named.test(peer.principal()) ? null : "no rule names " + peer.name()
        + ": it may not bridge to this cluster";
  }

  @Override
  public BridgeSession open(ChannelHandlerContext ctx, PeerIdentity peer) {
    String label = "bridge from " + peer.name();
    BridgeSession s = new ServerSession(node, ctx.channel(), peer, label, hub.nextNumber(), gw);
    hub.attach(s);
    log.info("bridge from {} ({}) up: serving this cluster under the policy", peer.name(),
        peer.address());
    gw.audit(AuditRecord.of(peer).link(label).mfa("bridge")
        .decision(AuditRecord.Decision.ALLOWED).outcome("link up").build());
    if (closing.getAsBoolean()) {
      ctx.close();
    }
    return s;
  }

  @Override
  public void closed(BridgeSession s, String why) {
    if (s != null) {
      hub.detach(s);
      s.closed();
      log.info("{} down: {}", s.label(), why);
      gw.audit(AuditRecord.of(s.identity()).link(s.label()).mfa("bridge")
          .decision(AuditRecord.Decision.ALLOWED).reason(why).outcome("link down").build());
    }
  }
}
