package io.beamgate.gateway.bridge;

import io.beamgate.node.ControlInterceptor;
import io.beamgate.node.GatewayDoor;
import io.beamgate.node.LocalNode;
import io.beamgate.node.NodeListener;
import io.beamgate.node.dist.ControlMessage;
import io.beamgate.node.term.Atom;
import io.beamgate.node.term.Pid;
import io.beamgate.node.term.Ref;
import io.beamgate.node.term.Term;
import java.util.Collection;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Routes the control messages that reach one node to the bridge links it serves: a message
 * for a stand-in pid or alias goes to the link whose number the stand-in carries. On an
 * exposed node (one that stands for another cluster), messages for registered names and spawn
 * requests go to its one link too; a few names the node answers itself ({@code net_kernel}),
 * and cluster-merging traffic ({@code global}) is dropped.
 */
public final class BridgeHub implements ControlInterceptor, NodeListener {
  private static final Logger log = LoggerFactory.getLogger(BridgeHub.class);
  /** Answered by the node itself (net_kernel's is_auth, for net_adm:ping). */
  private static final Set<String> NODE_OWN = Set.of("net_kernel");
  /** Sent by every visible node to every other; never relayed (the clusters must not merge). */
  private static final Set<String> SILENT = Set.of("global_name_server", "global_group",
      "global_group_check");

  private final LocalNode node;
  private final GatewayDoor door;
  private final boolean exposer;
  private final Map<Integer, BridgeSession> sessions = new ConcurrentHashMap<>();
  private final AtomicInteger numbers = new AtomicInteger();

  /** The hub of the links other gateways opened to this one, on this cluster's node. */
  public static BridgeHub forServer(LocalNode node) {
    return new BridgeHub(node, false);
  }

  BridgeHub(LocalNode node, boolean exposer) {
    this.node = node;
    this.door = node.gatewayDoor();
    this.exposer = exposer;
    door.interceptor(this);
    node.addNodeListener(this);
  }

  /** A free link number (1..8191) for a new session. */
  public int nextNumber() {
    for (int i = 0; i < 8191; i++) {
      int n = Math.floorMod(numbers.getAndIncrement(), 8191) + 1;
      if (!sessions.containsKey(n)) {
        return n;
      }
    }
    throw new IllegalStateException("8191 bridge links open on " + node.name());
  }

  public void attach(BridgeSession s) {
    sessions.put(s.link(), s);
  }

  public void detach(BridgeSession s) {
    sessions.remove(s.link(), s);
  }

  public Collection<BridgeSession> sessions() {
    return sessions.values();
  }

  private BridgeSession only() {
    for (BridgeSession s : sessions.values()) {
      return s;
    }
    return null;
  }

  @Override
  public boolean intercept(String from, ControlMessage c, Term payload) {
    Term target = target(c);
    BridgeSession s = null;
    if (target instanceof Pid p) {
      if (!p.node().equals(node.nameAtom()) || p.serial() == 0) {
        return false; // one of the node's own processes
      }
      s = sessions.get(p.serial());
    } else if (target instanceof Ref r) {
      if (!r.node().equals(node.nameAtom()) || r.idCount() != 3
          || (r.id(2) & Translator.REF_MARK) == 0) {
        return false;
      }
      s = sessions.get(r.id(2) & 0xFFFF);
    } else if (exposer && target instanceof Atom name) {
      if (NODE_OWN.contains(name.name())) {
        return false;
      }
      if (SILENT.contains(name.name())) {
        return true;
      }
      s = only();
    } else if (exposer && c instanceof ControlMessage.SpawnRequest) {
      s = only();
      if (s == null) {
        ControlMessage.SpawnRequest sr = (ControlMessage.SpawnRequest) c;
        door.sendControl(from, new ControlMessage.SpawnReply(sr.reqId(), sr.from(), 0,
            Atom.of("noconnection")), null);
        return true;
      }
    } else {
      return false;
    }
    if (s == null) {
      log.debug("{}: no bridge link for {} from {}; dropped", node.name(), c, from);
      return true;
    }
    s.local(from, c, payload);
    return true;
  }

  /** Whom a control message is for: a pid, an alias, a registered name; null for others. */
  static Term target(ControlMessage c) {
    if (c instanceof ControlMessage.Send s) {
      return s.to();
    } else if (c instanceof ControlMessage.SendSender s) {
      return s.to();
    } else if (c instanceof ControlMessage.AliasSend a) {
      return a.alias();
    } else if (c instanceof ControlMessage.RegSend r) {
      return r.toName();
    } else if (c instanceof ControlMessage.Link l) {
      return l.to();
    } else if (c instanceof ControlMessage.Unlink u) {
      return u.to();
    } else if (c instanceof ControlMessage.UnlinkId u) {
      return u.to();
    } else if (c instanceof ControlMessage.UnlinkIdAck u) {
      return u.to();
    } else if (c instanceof ControlMessage.Exit e) {
      return e.to();
    } else if (c instanceof ControlMessage.Exit2 e) {
      return e.to();
    } else if (c instanceof ControlMessage.PayloadExit e) {
      return e.to();
    } else if (c instanceof ControlMessage.MonitorP m) {
      return m.toProc();
    } else if (c instanceof ControlMessage.DemonitorP d) {
      return d.toProc();
    } else if (c instanceof ControlMessage.MonitorPExit m) {
      return m.to();
    } else if (c instanceof ControlMessage.PayloadMonitorPExit m) {
      return m.to();
    } else if (c instanceof ControlMessage.SpawnReply r) {
      return r.to();
    } else if (c instanceof ControlMessage.GroupLeader g) {
      return g.to();
    }
    return null;
  }

  @Override
  public void nodeUp(String n) {}

  @Override
  public void nodeDown(String n, String reason) {
    for (BridgeSession s : sessions.values()) {
      try {
        s.localNodeDown(n);
      } catch (RuntimeException e) {
        log.warn("bridge {}: cleaning up after {} went down: {}", s.label, n, e.toString());
      }
    }
  }
}
