package io.beamgate.gateway.bridge;

import io.beamgate.gateway.admission.Admission;
import io.beamgate.node.GatewayDoor;
import io.beamgate.node.LocalNode;
import io.beamgate.node.dist.ControlMessage;
import io.beamgate.node.dist.DistProtocolException;
import io.beamgate.node.term.Atom;
import io.beamgate.node.term.ErlList;
import io.beamgate.node.term.Int;
import io.beamgate.node.term.Pid;
import io.beamgate.node.term.Ref;
import io.beamgate.node.term.Term;
import io.beamgate.node.term.Tuple;
import io.beamgate.security.audit.AuditRecord;
import io.beamgate.security.guard.CodeShapes;
import io.beamgate.security.guard.GuardRule;
import io.beamgate.security.guard.Verdict;
import io.beamgate.security.identity.PeerIdentity;
import io.beamgate.security.identity.Principal;
import io.netty.channel.Channel;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One link between two gateways, seen from one side: what both sides do. The side that opened
 * the link exposes the other cluster under a node name of its own ({@link ExposerSession}); the
 * side that accepted it serves its cluster to the other under its policy
 * ({@link ServerSession}). Both relay the distribution operations that concern stand-in
 * processes (sends, links, monitors, exits, aliases), with {@link Translator} turning pids and
 * references into stand-ins on the way in; that, the bookkeeping of links and monitors and the
 * framing of what goes to the other gateway are here. Named operations (calls by erpc or rpc,
 * sends and monitors by registered name) only go from the exposer to the server, which decides
 * them with its policy and audits each: those are the subclasses' hooks.
 *
 * <p>Messages on the link are ETF terms, each behind a 4-byte length:
 * {@code {ctl, Control}} or {@code {ctl, Control, Payload}} (a distribution control message in
 * the sender's terms), {@code {call, Id, Res, M, F, Args}}, {@code {cast, M, F, Args}},
 * {@code {result, Id, Reason}}, {@code {abandon, Id}}, {@code ping} and {@code pong}.
 *
 * <p>Over 500 lines, on purpose: {@link #local} and the relay of the other side's control
 * messages are each one table of the distribution operations, and reading the two directions
 * side by side is how a missing case is noticed. The framing and batching of what goes out is
 * {@link LinkWriter}'s.
 */
public abstract sealed class BridgeSession permits ExposerSession, ServerSession {
  // one logger for both roles, as before the split (operators filter on its name)
  static final Logger log = LoggerFactory.getLogger(BridgeSession.class);

  static final Atom CTL = Atom.of("ctl");
  static final Atom CALL = Atom.of("call");
  static final Atom CAST = Atom.of("cast");
  static final Atom RESULT = Atom.of("result");
  static final Atom ABANDON = Atom.of("abandon");
  public static final Atom PING = Atom.of("ping");
  static final Atom PONG = Atom.of("pong");
  static final Atom HELLO = Atom.of("hello");
  static final Atom WELCOME = Atom.of("welcome");
  static final Atom REFUSED = Atom.of("refused");
  static final int VERSION = 1;

  static final Atom ERPC = Atom.of("erpc");
  static final Atom EXECUTE_CALL = Atom.of("execute_call");
  static final Atom EXECUTE_CAST = Atom.of("execute_cast");
  static final Atom NOCONNECTION = Atom.of("noconnection");
  static final Atom NOPROC = Atom.of("noproc");
  static final Atom BEAMGATE = Atom.of("beamgate");


  /** What a message or exit reason crossing a link may contain: no funs, no ports. */
  static final GuardRule MESSAGE_GUARD = GuardRule.DEFAULTS.withPids(true).withRefs(true)
      .withMaxDepth(Integer.MAX_VALUE).withMaxBytes(64L << 20);

  private record LinkPair(Pid local, Pid proxy) {}

  /** A monitor: who watches, what (a pid, or a name on {@code node}), under which reference. */
  private record Watch(Pid watcher, Term target, String node) {}

  final LocalNode node;
  /** What only a gateway does with the node: relaying control messages, pausing reads. */
  final GatewayDoor door;
  final Channel channel;
  /** The other gateway: its identity, chain and address, as computed when TLS came up. */
  final PeerIdentity who;
  final Principal peer;
  final String label;
  final Translator tr;
  final BridgeContext gw;
  private final Set<LinkPair> links = ConcurrentHashMap.newKeySet();
  /** Local processes watching stand-ins, by the monitor's reference (local terms). */
  private final Map<Ref, Watch> watching = new ConcurrentHashMap<>();
  /** Stand-ins watching local processes, by the monitor's reference (local terms). */
  private final Map<Ref, Watch> proxyWatching = new ConcurrentHashMap<>();
  final AtomicLong dropped = new AtomicLong();
  private final AtomicLong pauses = new AtomicLong();
  private final AtomicLong pidMessages = new AtomicLong();
  private final AtomicLong pidRefused = new AtomicLong();
  /**
   * The way out. Past four times bridge.max_queue_bytes (where backpressure starts) plus one
   * largest frame queued for the other gateway, it closes the link: room for what is already
   * read or in flight when the pause begins.
   */
  private final LinkWriter out;
  private volatile boolean closed;

  /** The other gateway's identity (from its certificate). */
  public Principal peer() {
    return peer;
  }

  /** How logs and audit records name the link. */
  public String label() {
    return label;
  }

  /** The TLS connection to the other gateway. */
  public Channel channel() {
    return channel;
  }

  BridgeSession(LocalNode node, Channel channel, PeerIdentity who, String label, int link,
      BridgeContext gw) {
    this.node = node;
    this.door = node.gatewayDoor();
    this.channel = channel;
    this.who = who;
    this.peer = who.principal();
    this.label = label;
    this.gw = gw;
    this.tr = new Translator(node.nameAtom(), node.creation(), link,
        gw.bridgeSettings().maxProxies());
    this.out = new LinkWriter(channel, gw.bridgeSettings().maxFrameBytes(),
        4L * gw.bridgeSettings().maxQueueBytes() + gw.bridgeSettings().maxFrameBytes(), label,
        who.name(), () -> closed, this::tooLarge, log);
  }

  // ---- what the two roles do differently ---------------------------------------------------

  /** {@code exposer} or {@code server}, as status reports it. */
  abstract String role();

  /** Calls in progress over this link (waited on by the exposer, run by the server). */
  abstract int callsInFlight();

  /** The link's queue crossed its high (true) or low (false) mark: stop or resume reading. */
  abstract void pause(boolean paused);

  /** A message too large to send was dropped: the side it belonged to learns (call, result). */
  abstract void tooLargeAnswer(Term op, String why);

  /** Whether {@code p} is the stand-in of a call in progress (it cannot be linked or watched). */
  abstract boolean isCallStandIn(Pid p);

  /** A local process monitors a name on this link's node: true to forward it. */
  abstract boolean localMonitorByName(String from, ControlMessage.MonitorP m);

  /** A local process stops a monitor: true when this role dealt with it (not forwarded). */
  abstract boolean localDemonitor(ControlMessage.DemonitorP d);

  /** A SPAWN_REQUEST from a local process to this link's node. */
  abstract void localSpawn(String from, ControlMessage.SpawnRequest s, Term payload);

  /** A send by name from a local process to this link's node: true to forward it. */
  abstract boolean localRegSend(String from, ControlMessage.RegSend r, Term payload);

  /** A link message other than ctl, ping and pong: false when this role takes no such message. */
  abstract boolean onPeerOp(Tuple t) throws DistProtocolException;

  /** The other side monitors a name here (already in local terms). */
  abstract void remoteMonitorByName(ControlMessage.MonitorP m, Atom name);

  /** The other side sends to a name here (already in local terms). */
  abstract void remoteRegSend(ControlMessage.RegSend r, Term payload);

  /** A node of this cluster went down: calls it waited on end. */
  abstract void localNodeDownCalls(Atom nodeName);

  /** The link is gone: this role's part of the clean-up (before the shared tables clear). */
  abstract void onClosed();

  int link() {
    return tr.link();
  }

  /** The other gateway's identity, certificate chain (re-checked at reloads) and address. */
  public PeerIdentity identity() {
    return who;
  }

  /** Bytes written for the other gateway and not yet sent (the link's queue). */
  public long queuedBytes() {
    io.netty.channel.ChannelOutboundBuffer ob = channel.unsafe().outboundBuffer();
    return ob == null ? 0 : ob.totalPendingWriteBytes();
  }

  public Map<String, Object> status() {
    Map<String, Object> m = new java.util.LinkedHashMap<>();
    m.put("link", label);
    m.put("peer", peer.name());
    m.put("role", role());
    m.put("links", links.size());
    m.put("monitors", watching.size() + proxyWatching.size());
    m.put("calls", callsInFlight());
    m.put("queued_bytes", queuedBytes());
    m.put("proxies", tr.size());
    m.put("dropped", dropped.get());
    m.put("backpressure_pauses", pauses.get());
    m.put("pid_messages", pidMessages.get());
    m.put("pid_messages_refused", pidRefused.get());
    return m;
  }

  // ---- to the other gateway ----------------------------------------------------------------

  /** Sends {@code op} to the other gateway (framed and batched by {@link LinkWriter}). */
  void toPeer(Term op) {
    out.send(op);
  }

  /**
   * A message too large for a frame is not sent: the other side would close the link, cutting
   * every node off. A call gets an error back; other messages are dropped (as a send to a
   * process that cannot take it), logged and audited.
   */
  private void tooLarge(Term op, int bytes) {
    dropped.incrementAndGet();
    String why = "a message of " + bytes + " bytes is larger than bridge.max_frame_bytes ("
        + out.maxFrameBytes() + ")";
    log.warn("bridge {}: dropped {}", label, why);
    gw.audit(AuditRecord.of(who).link(label).mfa("signal").decision(AuditRecord.Decision.DENIED)
        .reason(why).outcome("dropped").build());
    tooLargeAnswer(op, why);
  }

  void forward(ControlMessage c, Term payload) {
    Term ctl = tr.out(c.toTerm());
    toPeer(payload == null ? Tuple.of(CTL, ctl) : Tuple.of(CTL, ctl, tr.out(payload)));
  }

  /**
   * The link's queue crossed its high (false) or low (true) mark. The exposer stops reading
   * from its cluster meanwhile: backpressure into the distribution connections of its node,
   * which only this link uses. The server's node also serves clients, so it stops reading the
   * link instead: new requests wait on the other side (whose own queue then fills and pauses
   * its cluster), while what its cluster sends on its own initiative is capped (see
   * {@link #toPeer}).
   */
  void writable(boolean writable) {
    if (!writable) {
      pauses.incrementAndGet();
    }
    pause(!writable);
  }

  // ---- from this cluster (intercepted control messages) ------------------------------------

  /** A control message from {@code from} for a stand-in of this link, or (exposer) a name. */
  void local(String from, ControlMessage c, Term payload) {
    if (c instanceof ControlMessage.Link l) {
      if (isCallStandIn(l.to()) || tr.foreign(l.to()) == null) {
        door.sendControl(from, new ControlMessage.Exit(l.to(), l.from(), NOPROC), null);
        return;
      }
      if (full()) {
        door.sendControl(from, new ControlMessage.Exit(l.to(), l.from(), exhausted()), null);
        return;
      }
      links.add(new LinkPair(l.from(), l.to()));
    } else if (c instanceof ControlMessage.Unlink u) {
      links.remove(new LinkPair(u.from(), u.to()));
    } else if (c instanceof ControlMessage.UnlinkId u) {
      links.remove(new LinkPair(u.from(), u.to()));
      if (tr.foreign(u.to()) == null) {
        door.sendControl(from, new ControlMessage.UnlinkIdAck(u.id(), u.to(), u.from()), null);
        return;
      }
    } else if (c instanceof ControlMessage.Exit e) {
      links.remove(new LinkPair(e.from(), e.to()));
    } else if (c instanceof ControlMessage.PayloadExit e && !e.exit2()) {
      links.remove(new LinkPair(e.from(), e.to()));
    } else if ((c instanceof ControlMessage.Exit2 x && tr.foreign(x.to()) == null)
        || (c instanceof ControlMessage.PayloadExit px && px.exit2()
            && tr.foreign(px.to()) == null)) {
      // e.g. erts killing the stand-in of an erpc call its caller gave up on: nothing to tell
      dropped.incrementAndGet();
      return;
    } else if (c instanceof ControlMessage.MonitorP m) {
      if (m.toProc() instanceof Pid p) {
        if (isCallStandIn(p) || tr.foreign(p) == null) {
          door.sendControl(from, new ControlMessage.MonitorPExit(p, m.from(), m.ref(), NOPROC),
              null);
          return;
        }
        if (full()) {
          door.sendControl(from, new ControlMessage.MonitorPExit(p, m.from(), m.ref(),
              exhausted()), null);
          return;
        }
        watching.put(m.ref(), new Watch(m.from(), p, null));
      } else if (!localMonitorByName(from, m)) {
        return;
      }
    } else if (c instanceof ControlMessage.DemonitorP d) {
      if (localDemonitor(d)) {
        return;
      }
      watching.remove(d.ref());
    } else if (c instanceof ControlMessage.MonitorPExit m) {
      proxyWatching.remove(m.ref());
    } else if (c instanceof ControlMessage.PayloadMonitorPExit m) {
      proxyWatching.remove(m.ref());
    } else if (c instanceof ControlMessage.SpawnRequest s) {
      localSpawn(from, s, payload);
      return;
    } else if (c instanceof ControlMessage.RegSend r) {
      if (!localRegSend(from, r, payload)) {
        return;
      }
    } else if (c instanceof ControlMessage.SpawnReply || c instanceof ControlMessage.GroupLeader
        || c instanceof ControlMessage.Other) {
      dropped.incrementAndGet();
      return;
    }
    forward(c, payload);
  }

  /** Refuses a spawn from a local process: only erpc calls and casts cross a bridge. */
  void refuseLocalSpawn(String from, ControlMessage.SpawnRequest s) {
    Tuple mfa = s.mfa();
    String what = mfa.arity() == 3 && mfa.get(0) instanceof Atom sm
        && mfa.get(1) instanceof Atom sf && mfa.get(2) instanceof Int sa
        ? "spawn:" + sm.name() + ":" + sf.name() + "/" + sa.value()
        : "spawn " + io.beamgate.node.term.TermText.format(mfa);
    log.warn("bridge {}: refused {} from {}: only erpc calls and casts cross a bridge", label,
        what, from);
    // From inside this cluster: no connection of ours carried it, so no peer.
    gw.audit(AuditRecord.builder().principal("node:" + from).link(label).mfa(what)
        .decision(AuditRecord.Decision.DENIED).reason("only erpc calls and casts cross a bridge")
        .outcome("refused").build());
    door.sendControl(from, new ControlMessage.SpawnReply(s.reqId(), s.from(), 0,
        Atom.of("notsup")), null);
  }

  // ---- from the other gateway --------------------------------------------------------------

  /** One message from the other gateway. Throws on a protocol violation (the link closes). */
  void onPeer(Term op) throws DistProtocolException {
    if (PING.equals(op)) {
      toPeer(PONG);
      return;
    }
    if (PONG.equals(op)) {
      return;
    }
    if (!(op instanceof Tuple t) || t.arity() == 0) {
      throw new DistProtocolException("bridge message: " + abbreviate(op));
    }
    if (t.isTagged("ctl", 2) || t.isTagged("ctl", 3)) {
      Term ctl = tr.in(t.get(1));
      Term payload = t.arity() == 3 ? tr.in(t.get(2)) : null;
      remote(ControlMessage.parse(ctl), ctl, payload);
    } else if (!onPeerOp(t)) {
      throw new DistProtocolException("bridge message: " + abbreviate(op));
    }
  }

  /** A control message from the other side, already in local terms. */
  private void remote(ControlMessage c, Term ctl, Term payload) {
    Verdict v = gw.guard().check("ctl", "signal", 2,
        payload == null ? List.of(ctl, Atom.UNDEFINED) : List.of(ctl, payload), MESSAGE_GUARD,
        List.of(), peer.name());
    if (!v.allowed()) {
      dropped.incrementAndGet();
      String why = v.reason() + (v.path() == null ? "" : " at " + v.path());
      log.info("bridge {}: dropped a signal from {}: {}", label, peer.name(), why);
      gw.audit(AuditRecord.of(who).link(label).mfa("signal")
          .decision(AuditRecord.Decision.DENIED).reason(why).outcome("dropped").build());
      if (payload != null) {
        failExchange(payload, Tuple.of(BEAMGATE, Atom.of("invalid_argument"),
            Term.binary(why)));
      }
      return;
    }
    if (c instanceof ControlMessage.Send s) {
      if (pidMessageAllowed(payload)) {
        emit(s.to(), c, payload);
      }
    } else if (c instanceof ControlMessage.SendSender s) {
      if (pidMessageAllowed(payload)) {
        emit(s.to(), c, payload);
      }
    } else if (c instanceof ControlMessage.AliasSend a) {
      if (!isLocal(a.alias().node())) {
        dropped.incrementAndGet();
      } else if (pidMessageAllowed(payload)) {
        door.sendControl(a.alias().node().name(), c, payload);
      }
    } else if (c instanceof ControlMessage.Link l) {
      if (full()) {
        forward(new ControlMessage.Exit(l.to(), l.from(), exhausted()), null);
      } else if (emit(l.to(), c, null)) {
        links.add(new LinkPair(l.to(), l.from()));
      }
    } else if (c instanceof ControlMessage.Unlink u) {
      links.remove(new LinkPair(u.to(), u.from()));
      emit(u.to(), c, null);
    } else if (c instanceof ControlMessage.UnlinkId u) {
      links.remove(new LinkPair(u.to(), u.from()));
      emit(u.to(), c, null);
    } else if (c instanceof ControlMessage.UnlinkIdAck u) {
      emit(u.to(), c, null);
    } else if (c instanceof ControlMessage.Exit e) {
      links.remove(new LinkPair(e.to(), e.from()));
      emit(e.to(), c, null);
    } else if (c instanceof ControlMessage.Exit2 || (c instanceof ControlMessage.PayloadExit pe
        && pe.exit2())) {
      // exit/2 could kill any process given out (even with 'kill'): it never crosses
      dropped.incrementAndGet();
      gw.audit(AuditRecord.of(who).link(label).mfa("exit/2")
          .decision(AuditRecord.Decision.DENIED)
          .reason("exit signals sent with exit/2 do not cross a bridge").outcome("dropped")
          .build());
    } else if (c instanceof ControlMessage.PayloadExit e) {
      links.remove(new LinkPair(e.to(), e.from()));
      emit(e.to(), c, payload);
    } else if (c instanceof ControlMessage.MonitorPExit m) {
      watching.remove(m.ref());
      emit(m.to(), c, null);
    } else if (c instanceof ControlMessage.PayloadMonitorPExit m) {
      watching.remove(m.ref());
      emit(m.to(), c, payload);
    } else if (c instanceof ControlMessage.MonitorP m) {
      if (full()) {
        forward(new ControlMessage.MonitorPExit(m.toProc(), m.from(), m.ref(), exhausted()),
            null);
      } else if (m.toProc() instanceof Pid p) {
        if (emit(p, c, null)) {
          proxyWatching.put(m.ref(), new Watch(m.from(), p, p.node().name()));
        } else {
          forward(new ControlMessage.MonitorPExit(p, m.from(), m.ref(), NOPROC), null);
        }
      } else if (m.toProc() instanceof Atom name) {
        remoteMonitorByName(m, name);
      } else {
        dropped.incrementAndGet();
      }
    } else if (c instanceof ControlMessage.DemonitorP d) {
      Watch w = proxyWatching.remove(d.ref());
      if (w != null) {
        door.sendControl(w.node(), c, null);
      }
    } else if (c instanceof ControlMessage.RegSend r) {
      remoteRegSend(r, payload);
    } else if (c instanceof ControlMessage.SpawnRequest sr) {
      // Only erpc calls cross, as call messages under the policy; a raw spawn never does.
      dropped.incrementAndGet();
      Tuple mfa = sr.mfa();
      String what = mfa.arity() == 3 && mfa.get(0) instanceof Atom sm
          && mfa.get(1) instanceof Atom sf && mfa.get(2) instanceof Int sa
          ? "spawn:" + sm.name() + ":" + sf.name() + "/" + sa.value() : "spawn";
      gw.admission().refusedByDoor(caller(), what, "spawn requests never cross a bridge",
          "permission_denied");
      forward(new ControlMessage.SpawnReply(sr.reqId(), sr.from(), 0, Atom.of("notsup")),
          null);
    } else {
      dropped.incrementAndGet();
      log.debug("bridge {}: dropped {} from {}", label, c, peer.name());
    }
  }

  /**
   * A message to a pid or alias given out earlier (a task's pid, a reply-to pid): such a pid is
   * a door, so what goes through it passes the code-shape check a send to a name passes.
   * Refusals are audited one by one; relayed messages are counted (status, and a summary
   * record when the link closes), as a record each would flood the audit.
   */
  private boolean pidMessageAllowed(Term payload) {
    CodeShapes.Finding f = CodeShapes.inMessage(payload);
    if (f == null) {
      pidMessages.incrementAndGet();
      return true;
    }
    dropped.incrementAndGet();
    pidRefused.incrementAndGet();
    log.info("bridge {}: refused a message to a pid from {}: {}", label, peer.name(), f);
    gw.admission().refusedByDoor(caller(), "send:pid", f.toString(), "permission_denied");
    failExchange(payload, Tuple.of(BEAMGATE, Atom.of("permission_denied"),
        Term.binary(f.toString())));
    return false;
  }

  /**
   * A refused message that belonged to a gen:call exchange: the process waiting on it learns
   * at once, as the DOWN of the monitor it holds (gen:call then exits with {@code reason}),
   * instead of waiting for its timeout. A request ({@code $gen_call}, or sys's
   * {@code system}) ends the other side's
   * caller's monitor; a reply ({@code {Tag, Reply}}) ends this cluster's caller's.
   */
  void failExchange(Term payload, Term reason) {
    if (!(payload instanceof Tuple t)) {
      return;
    }
    if ((t.isTagged("$gen_call", 3) || t.isTagged("system", 3))
        && t.get(1) instanceof Tuple from && from.arity() == 2) {
      Ref ref = tagRef(from.get(1));
      Watch w = ref == null ? null : proxyWatching.remove(ref);
      if (w != null) {
        door.sendControl(w.node(), new ControlMessage.DemonitorP(w.watcher(), w.target(), ref),
            null);
        forward(new ControlMessage.MonitorPExit(w.target(), w.watcher(), ref, reason), null);
      }
    } else if (t.arity() == 2) {
      Ref ref = tagRef(t.get(0));
      Watch w = ref == null ? null : watching.remove(ref);
      if (w != null) {
        forward(new ControlMessage.DemonitorP(w.watcher(), w.target(), ref), null);
        door.sendControl(w.watcher().node().name(), new ControlMessage.MonitorPExit(w.target(),
            w.watcher(), ref, reason), null);
      }
    }
  }

  /** The monitor reference in a gen:call tag: {@code Ref} or {@code [alias | Ref]}. */
  private static Ref tagRef(Term tag) {
    if (tag instanceof Ref r) {
      return r;
    }
    if (tag instanceof ErlList l && !l.isProper() && l.size() == 1
        && Atom.of("alias").equals(l.get(0)) && l.tail() instanceof Ref r) {
      return r;
    }
    return null;
  }

  /** True when this link holds as many links and monitors as it may (bridge.max_proxies). */
  boolean full() {
    return links.size() + watching.size() + proxyWatching.size()
        >= gw.bridgeSettings().maxProxies();
  }

  Term exhausted() {
    return Tuple.of(BEAMGATE, Atom.of("resource_exhausted"), Term.binary("this bridge link"
        + " holds " + gw.bridgeSettings().maxProxies() + " links and monitors"
        + " (bridge.max_proxies)"));
  }

  /** Sends a signal to a local target; false (and dropped) when the target is no local pid. */
  private boolean emit(Pid target, ControlMessage c, Term payload) {
    if (!isLocal(target.node())) {
      dropped.incrementAndGet();
      return false;
    }
    door.sendControl(target.node().name(), c, payload);
    return true;
  }

  /**
   * A pid of this cluster, not of this gateway's node: the other side may only address what
   * was given out to it (anything else became a stand-in on the way in).
   */
  private boolean isLocal(Atom nodeName) {
    return !nodeName.equals(node.nameAtom());
  }

  // ---- admission --------------------------------------------------------------------------

  Admission.Caller caller() {
    return Admission.Caller.bridge(who, label);
  }

  /** How a refusal reads to Erlang code: {@code {beamgate, Code, <<"reason">>}}. */
  static Term refusalReason(Admission.Refused no) {
    return Tuple.of(BEAMGATE, Atom.of(no.code().name().toLowerCase(java.util.Locale.ROOT)),
        Term.binary(no.detail()));
  }


  // ---- failures ----------------------------------------------------------------------------

  /** A node of this cluster went down: the other side learns what it held is gone. */
  void localNodeDown(String nodeName) {
    Atom n = Atom.of(nodeName);
    for (LinkPair lp : links) {
      if (lp.local().node().equals(n) && links.remove(lp)) {
        forward(new ControlMessage.Exit(lp.local(), lp.proxy(), NOCONNECTION), null);
      }
    }
    for (Map.Entry<Ref, Watch> e : watching.entrySet()) {
      Watch w = e.getValue();
      if (w.watcher().node().equals(n) && watching.remove(e.getKey()) != null) {
        forward(new ControlMessage.DemonitorP(w.watcher(), w.target(), e.getKey()), null);
      }
    }
    for (Map.Entry<Ref, Watch> e : proxyWatching.entrySet()) {
      Watch w = e.getValue();
      if (nodeName.equals(w.node()) && proxyWatching.remove(e.getKey()) != null) {
        forward(new ControlMessage.MonitorPExit(w.target(), w.watcher(), e.getKey(),
            NOCONNECTION), null);
      }
    }
    localNodeDownCalls(n);
  }

  /**
   * The link is gone. What this cluster held on stand-ins ends as the cut of a distribution
   * connection ends it: {@code noconnection} exits and DOWNs (the exposer instead disconnects
   * its node, which does the same); calls in progress are abandoned.
   */
  public void closed() {
    if (closed) {
      return;
    }
    closed = true;
    if (pidMessages.get() + pidRefused.get() > 0) {
      gw.audit(AuditRecord.of(who).link(label).mfa("send:pid")
          .decision(AuditRecord.Decision.ALLOWED)
          .reason("messages to pids over this link: " + pidMessages.get() + " relayed, "
              + pidRefused.get() + " refused").outcome("summary").build());
    }
    onClosed();
    links.clear();
    watching.clear();
    proxyWatching.clear();
  }

  /**
   * What this cluster's processes held on stand-ins ends as the cut of a distribution
   * connection ends it: {@code noconnection} exits and DOWNs; the monitors stand-ins held on
   * them are taken down.
   */
  void endWhatThisClusterHeld() {
    for (LinkPair lp : links) {
      door.sendControl(lp.local().node().name(),
          new ControlMessage.Exit(lp.proxy(), lp.local(), NOCONNECTION), null);
    }
    for (Map.Entry<Ref, Watch> e : watching.entrySet()) {
      Watch w = e.getValue();
      door.sendControl(w.watcher().node().name(), new ControlMessage.MonitorPExit(w.target(),
          w.watcher(), e.getKey(), NOCONNECTION), null);
    }
    for (Map.Entry<Ref, Watch> e : proxyWatching.entrySet()) {
      Watch w = e.getValue();
      door.sendControl(w.node(), new ControlMessage.DemonitorP(w.watcher(), w.target(),
          e.getKey()), null);
    }
  }

  /** Records that a local process watches {@code target} on this link (forwarded next). */
  void watch(Ref ref, Pid watcher, Term target) {
    watching.put(ref, new Watch(watcher, target, null));
  }

  /** Records that a stand-in watches {@code target} on this cluster's {@code nodeName}. */
  void proxyWatch(Ref ref, Pid watcher, Term target, String nodeName) {
    proxyWatching.put(ref, new Watch(watcher, target, nodeName));
  }

  static String abbreviate(Term t) {
    String s = String.valueOf(t);
    return s.length() > 200 ? s.substring(0, 200) + "..." : s;
  }
}
