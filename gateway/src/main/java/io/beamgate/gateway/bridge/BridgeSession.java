package io.beamgate.gateway.bridge;

import io.beamgate.gateway.admission.Admission;
import io.beamgate.gateway.admission.BackendPool;
import io.beamgate.node.LocalNode;
import io.beamgate.node.Mailbox;
import io.beamgate.node.dist.ControlMessage;
import io.beamgate.node.dist.DistProtocolException;
import io.beamgate.node.etf.EtfEncoder;
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
import io.beamgate.security.identity.Principal;
import io.beamgate.security.policy.Decision;
import io.beamgate.security.policy.Rule;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One link between two gateways, seen from one side. The side that opened the link exposes the
 * other cluster under a node name of its own (the "exposer"); the side that accepted it serves
 * its cluster to the other under its policy (the "server"). Both relay the distribution
 * operations that concern stand-in processes (sends, links, monitors, exits, aliases), with
 * {@link Translator} turning pids and references into stand-ins on the way in. Named
 * operations (calls by erpc or rpc, sends and monitors by registered name) only go from the
 * exposer to the server, which decides them with its policy and audits each.
 *
 * <p>Messages on the link are ETF terms, each behind a 4-byte length:
 * {@code {ctl, Control}} or {@code {ctl, Control, Payload}} (a distribution control message in
 * the sender's terms), {@code {call, Id, Res, M, F, Args}}, {@code {cast, M, F, Args}},
 * {@code {result, Id, Reason}}, {@code {abandon, Id}}, {@code ping} and {@code pong}.
 */
public final class BridgeSession {
  private static final Logger log = LoggerFactory.getLogger(BridgeSession.class);

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

  private static final Atom ERPC = Atom.of("erpc");
  private static final Atom EXECUTE_CALL = Atom.of("execute_call");
  private static final Atom EXECUTE_CAST = Atom.of("execute_cast");
  private static final Atom NOCONNECTION = Atom.of("noconnection");
  private static final Atom NOPROC = Atom.of("noproc");
  private static final Atom BEAMGATE = Atom.of("beamgate");

  /** Names no link reaches (see {@link Admission#ISOLATED_NAMES}). */
  static final Set<String> ISOLATED_NAMES = Admission.ISOLATED_NAMES;

  /** What a message or exit reason crossing a link may contain: no funs, no ports. */
  static final GuardRule MESSAGE_GUARD = GuardRule.DEFAULTS.withPids(true).withRefs(true)
      .withMaxDepth(Integer.MAX_VALUE).withMaxBytes(64L << 20);

  private record LinkPair(Pid local, Pid proxy) {}

  /** A monitor: who watches, what (a pid, or a name on {@code node}), under which reference. */
  private record Watch(Pid watcher, Term target, String node) {}

  /**
   * A call the exposer is waiting on: an erpc spawn (answered as the stand-in's exit), or a
   * call to rex (answered {@code {Tag, Reply}} to {@code caller}; {@code rexTag} non-null).
   */
  private record Pending(Pid proxy, Pid caller, Ref reqId, boolean monitor, boolean link,
      Term rexTag, Ref res) {
    Pending(Pid proxy, Pid caller, Ref reqId, boolean monitor, boolean link) {
      this(proxy, caller, reqId, monitor, link, null, null);
    }
  }

  /** A call the server is running for the other side, admitted by the policy. */
  private record Serving(long id, Ref reqId, Term res, Admission.Admitted admitted,
      long timeoutMs, long deadline) {
    BackendPool.Backend backend() {
      return admitted.backend;
    }
  }

  final boolean exposer;
  final LocalNode node;
  final Channel channel;
  final Principal peer;
  final String label;
  final Translator tr;
  private final BridgeContext gw;
  private final Set<LinkPair> links = ConcurrentHashMap.newKeySet();
  /** Local processes watching stand-ins, by the monitor's reference (local terms). */
  private final Map<Ref, Watch> watching = new ConcurrentHashMap<>();
  /** Stand-ins watching local processes, by the monitor's reference (local terms). */
  private final Map<Ref, Watch> proxyWatching = new ConcurrentHashMap<>();
  private final Map<Long, Pending> calls = new ConcurrentHashMap<>();
  private final Map<Pid, Long> callOfProxy = new ConcurrentHashMap<>();
  private final Map<Long, Serving> serving = new ConcurrentHashMap<>();
  private final Map<Ref, Serving> servingByReq = new ConcurrentHashMap<>();
  private final AtomicLong callIds = new AtomicLong(1);
  private final AtomicLong dropped = new AtomicLong();
  private final AtomicLong pauses = new AtomicLong();
  private final AtomicLong pidMessages = new AtomicLong();
  private final AtomicLong pidRefused = new AtomicLong();
  /**
   * Past this many bytes queued for the other gateway, the link is closed: four times
   * bridge.max_queue_bytes (where backpressure starts) plus one largest frame, room for what
   * is already read or in flight when the pause begins.
   */
  private final long hardQueueBytes;
  private final int maxFrameBytes;
  private Mailbox replies;
  private volatile boolean closed;
  private volatile java.security.cert.X509Certificate[] chain;

  /**
   * The session of a link another gateway opened to this one: this cluster, served to the
   * other under the policy.
   */
  public static BridgeSession served(LocalNode node, Channel channel, Principal peer,
      String label, int link, BridgeContext gw) {
    return new BridgeSession(false, node, channel, peer, label, link, gw);
  }

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

  BridgeSession(boolean exposer, LocalNode node, Channel channel, Principal peer, String label,
      int link, BridgeContext gw) {
    this.exposer = exposer;
    this.node = node;
    this.channel = channel;
    this.peer = peer;
    this.label = label;
    this.gw = gw;
    this.tr = new Translator(node.nameAtom(), node.creation(), link,
        gw.bridgeSettings().maxProxies());
    this.hardQueueBytes = 4L * gw.bridgeSettings().maxQueueBytes()
        + gw.bridgeSettings().maxFrameBytes();
    this.maxFrameBytes = gw.bridgeSettings().maxFrameBytes();
    if (!exposer) {
      replies = node.createMailbox(null, (mb, msg) -> onReply(msg));
      sweeper = gw.timer().scheduleWithFixedDelay(this::sweep, 100, 100,
          TimeUnit.MILLISECONDS);
    }
  }

  private ScheduledFuture<?> sweeper;

  int link() {
    return tr.link();
  }

  /** The other gateway's certificate chain (re-checked at reloads). */
  public java.security.cert.X509Certificate[] chain() {
    return chain;
  }

  public void chain(java.security.cert.X509Certificate[] c) {
    this.chain = c;
  }

  public Map<String, Object> status() {
    Map<String, Object> m = new java.util.LinkedHashMap<>();
    m.put("link", label);
    m.put("peer", peer.name());
    m.put("role", exposer ? "exposer" : "server");
    m.put("links", links.size());
    m.put("monitors", watching.size() + proxyWatching.size());
    m.put("calls", exposer ? calls.size() : serving.size());
    m.put("proxies", tr.size());
    m.put("dropped", dropped.get());
    m.put("backpressure_pauses", pauses.get());
    m.put("pid_messages", pidMessages.get());
    m.put("pid_messages_refused", pidRefused.get());
    return m;
  }

  // ---- to the other gateway ----------------------------------------------------------------

  /**
   * Sends {@code op} to the other gateway. Writes made on the link's event loop go out at
   * once; others are handed to it in order. One flush follows each batch, so many messages
   * share a TLS record and a system call under load.
   */
  void toPeer(Term op) {
    if (closed) {
      return;
    }
    byte[] body = EtfEncoder.encode(op);
    if (body.length > maxFrameBytes) {
      tooLarge(op, body.length);
      return;
    }
    ByteBuf buf = channel.alloc().buffer(4 + body.length);
    buf.writeInt(body.length);
    buf.writeBytes(body);
    io.netty.channel.EventLoop loop = channel.eventLoop();
    if (loop.inEventLoop()) {
      writeNow(buf);
    } else {
      loop.execute(() -> writeNow(buf));
    }
  }

  /**
   * A message too large for a frame is not sent: the other side would close the link, cutting
   * every node off. A call gets an error back; other messages are dropped (as a send to a
   * process that cannot take it), logged and audited.
   */
  private void tooLarge(Term op, int bytes) {
    dropped.incrementAndGet();
    String why = "a message of " + bytes + " bytes is larger than bridge.max_frame_bytes ("
        + maxFrameBytes + ")";
    log.warn("bridge {}: dropped {}", label, why);
    gw.audit(new AuditRecord(Instant.now(), peer.name(), peer.fingerprintSha256(),
        peer.serialHex(), label, null, "signal", AuditRecord.Decision.DENIED, null, why, 0,
        "dropped"));
    if (op instanceof Tuple t && t.isTagged("call", 6) && t.get(1) instanceof Int id) {
      Pending p = calls.remove(id.value());
      if (p != null) {
        if (p.proxy() != null) {
          callOfProxy.remove(p.proxy());
        }
        exitCallProxy(p, Tuple.of(tr.in(t.get(2)), Atom.ERROR, Tuple.of(BEAMGATE,
            Atom.of("resource_exhausted"), Term.binary(why)), ErlList.NIL));
      }
    } else if (op instanceof Tuple t && t.isTagged("result", 3) && t.get(2) instanceof Tuple r
        && r.arity() >= 1) {
      toPeer(Tuple.of(RESULT, t.get(1), Tuple.of(r.get(0), Atom.ERROR, Tuple.of(BEAMGATE,
          Atom.of("resource_exhausted"), Term.binary(why)), ErlList.NIL)));
    }
  }

  private boolean flushQueued; // on the event loop only
  private boolean overflowed; // on the event loop only
  private final Runnable flushTask = this::flushNow;

  private void flushNow() {
    flushQueued = false;
    channel.flush();
  }

  private void writeNow(ByteBuf buf) {
    io.netty.channel.ChannelOutboundBuffer ob = channel.unsafe().outboundBuffer();
    if (ob == null || closed || overflowed || !channel.isActive()) {
      buf.release(); // closed or closing
      return;
    }
    if (ob.totalPendingWriteBytes() > hardQueueBytes) {
      buf.release();
      overflowed = true;
      log.warn("bridge {}: more than {} bytes queued for {}; closing the link",
          label, hardQueueBytes, peer.name());
      channel.close();
      return;
    }
    channel.write(buf, channel.voidPromise());
    if (!flushQueued) {
      flushQueued = true;
      channel.eventLoop().execute(flushTask);
    }
  }

  private void forward(ControlMessage c, Term payload) {
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
    if (exposer) {
      node.pauseReading(!writable);
    } else {
      channel.config().setAutoRead(writable);
    }
  }

  // ---- from this cluster (intercepted control messages) ------------------------------------

  /** A control message from {@code from} for a stand-in of this link, or (exposer) a name. */
  void local(String from, ControlMessage c, Term payload) {
    if (c instanceof ControlMessage.Link l) {
      if (callOfProxy.containsKey(l.to()) || tr.foreign(l.to()) == null) {
        node.sendControl(from, new ControlMessage.Exit(l.to(), l.from(), NOPROC), null);
        return;
      }
      if (full()) {
        node.sendControl(from, new ControlMessage.Exit(l.to(), l.from(), exhausted()), null);
        return;
      }
      links.add(new LinkPair(l.from(), l.to()));
    } else if (c instanceof ControlMessage.Unlink u) {
      links.remove(new LinkPair(u.from(), u.to()));
    } else if (c instanceof ControlMessage.UnlinkId u) {
      links.remove(new LinkPair(u.from(), u.to()));
      if (tr.foreign(u.to()) == null) {
        node.sendControl(from, new ControlMessage.UnlinkIdAck(u.id(), u.to(), u.from()), null);
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
        if (callOfProxy.containsKey(p) || tr.foreign(p) == null) {
          node.sendControl(from, new ControlMessage.MonitorPExit(p, m.from(), m.ref(), NOPROC),
              null);
          return;
        }
        if (full()) {
          node.sendControl(from, new ControlMessage.MonitorPExit(p, m.from(), m.ref(),
              exhausted()), null);
          return;
        }
        watching.put(m.ref(), new Watch(m.from(), p, null));
      } else if (!exposer) {
        dropped.incrementAndGet();
        return;
      } else if (Atom.of("rex").equals(m.toProc())) {
        return; // rex is answered here (see rex()); it lives as long as the link
      } else if (full()) {
        node.sendControl(from, new ControlMessage.MonitorPExit(m.toProc(), m.from(), m.ref(),
            exhausted()), null);
        return;
      } else {
        watching.put(m.ref(), new Watch(m.from(), m.toProc(), null));
      }
    } else if (c instanceof ControlMessage.DemonitorP d) {
      if (exposer && Atom.of("rex").equals(d.toProc())) {
        return;
      }
      if (d.toProc() instanceof Pid p) {
        Long id = callOfProxy.remove(p);
        if (id != null) {
          calls.remove(id);
          toPeer(Tuple.of(ABANDON, Int.of(id)));
          return;
        }
      }
      watching.remove(d.ref());
    } else if (c instanceof ControlMessage.MonitorPExit m) {
      proxyWatching.remove(m.ref());
    } else if (c instanceof ControlMessage.PayloadMonitorPExit m) {
      proxyWatching.remove(m.ref());
    } else if (c instanceof ControlMessage.SpawnRequest s) {
      spawn(from, s, payload);
      return;
    } else if (c instanceof ControlMessage.RegSend r) {
      if (!exposer) {
        dropped.incrementAndGet();
        return;
      }
      if (r.toName().name().equals("rex")) {
        rex(from, r, payload);
        return;
      }
    } else if (c instanceof ControlMessage.SpawnReply || c instanceof ControlMessage.GroupLeader
        || c instanceof ControlMessage.Other) {
      dropped.incrementAndGet();
      return;
    }
    forward(c, payload);
  }

  /** Exposer: a SPAWN_REQUEST to the exposed node. Only erpc calls and casts cross. */
  private void spawn(String from, ControlMessage.SpawnRequest s, Term args) {
    Tuple mfa = s.mfa();
    boolean monitor = false;
    boolean link = false;
    if (s.optList() instanceof ErlList opts) {
      for (Term o : opts.elements()) {
        monitor |= Atom.of("monitor").equals(o)
            || (o instanceof Tuple t && t.isTagged("monitor", 2));
        link |= Atom.of("link").equals(o);
      }
    }
    List<Term> a = args instanceof ErlList l && l.isProper() ? l.elements() : null;
    boolean call = a != null && mfa.arity() == 3 && ERPC.equals(mfa.get(0))
        && EXECUTE_CALL.equals(mfa.get(1)) && Int.of(4).equals(mfa.get(2)) && a.size() == 4
        && a.get(0) instanceof Ref && a.get(1) instanceof Atom && a.get(2) instanceof Atom
        && a.get(3) instanceof ErlList al && al.isProper();
    boolean cast = a != null && mfa.arity() == 3 && ERPC.equals(mfa.get(0))
        && EXECUTE_CAST.equals(mfa.get(1)) && Int.of(3).equals(mfa.get(2)) && a.size() == 3
        && a.get(0) instanceof Atom && a.get(1) instanceof Atom
        && a.get(2) instanceof ErlList cl && cl.isProper();
    if (!exposer || (!call && !cast)) {
      String what = mfa.arity() == 3 && mfa.get(0) instanceof Atom sm
          && mfa.get(1) instanceof Atom sf && mfa.get(2) instanceof Int sa
          ? "spawn:" + sm.name() + ":" + sf.name() + "/" + sa.value()
          : "spawn " + io.beamgate.node.term.TermText.format(mfa);
      log.warn("bridge {}: refused {} from {}: only erpc calls and casts cross a bridge", label,
          what, from);
      gw.audit(new AuditRecord(Instant.now(), "node:" + from, null, null, from, label, what,
          AuditRecord.Decision.DENIED, null, "only erpc calls and casts cross a bridge", 0,
          "refused"));
      node.sendControl(from, new ControlMessage.SpawnReply(s.reqId(), s.from(), 0,
          Atom.of("notsup")), null);
      return;
    }
    // The SPAWN_REPLY goes out with the result (exitCallProxy): erpc asks for a reply on
    // error only, so the caller waits for nothing until then, and the two signals travel in
    // one packet instead of two.
    Pid proxy = tr.newLocalPid();
    if (call) {
      long id = callIds.getAndIncrement();
      calls.put(id, new Pending(proxy, s.from(), s.reqId(), monitor, link));
      callOfProxy.put(proxy, id);
      toPeer(Tuple.of(CALL, Int.of(id), tr.out(a.get(0)), a.get(1), a.get(2),
          tr.out(a.get(3))));
    } else {
      toPeer(Tuple.of(CAST, a.get(0), a.get(1), tr.out(a.get(2))));
      exitCallProxy(new Pending(proxy, s.from(), s.reqId(), monitor, link), Atom.of("normal"));
    }
  }

  /**
   * Exposer: a message to rex, the rpc server of the node that stands for the other cluster
   * ({@code rpc:block_call}, and rpc from nodes older than OTP 23). Calls and casts cross as
   * erpc calls under the other side's policy; the reply is rex's. Anything else is dropped.
   */
  private void rex(String from, ControlMessage.RegSend r, Term msg) {
    if (msg instanceof Tuple t && t.isTagged("$gen_call", 3) && t.get(1) instanceof Tuple f
        && f.arity() == 2 && f.get(0) instanceof Pid caller && t.get(2) instanceof Tuple req
        && (req.isTagged("call", 5) || req.isTagged("block_call", 5))
        && req.get(1) instanceof Atom m && req.get(2) instanceof Atom fn
        && req.get(3) instanceof ErlList args && args.isProper()) {
      long id = callIds.getAndIncrement();
      Ref res = node.makeRef();
      calls.put(id, new Pending(null, caller, null, false, false, f.get(1), res));
      toPeer(Tuple.of(CALL, Int.of(id), tr.out(res), m, fn, tr.out(args)));
    } else if (msg instanceof Tuple t && t.isTagged("$gen_cast", 2)
        && t.get(1) instanceof Tuple req && req.isTagged("cast", 5)
        && req.get(1) instanceof Atom m && req.get(2) instanceof Atom fn
        && req.get(3) instanceof ErlList args && args.isProper()) {
      toPeer(Tuple.of(CAST, m, fn, tr.out(args)));
    } else if (msg instanceof Tuple t && t.arity() == 2 && t.get(0) instanceof Pid caller
        && t.get(1) instanceof Tuple req && req.isTagged("call", 5)
        && req.get(1) instanceof Atom m && req.get(2) instanceof Atom fn
        && req.get(3) instanceof ErlList args && args.isProper()) {
      // rex's legacy form, {From, {call, M, F, A, GroupLeader}}: what erl_call sends; the
      // answer is {rex, Result}
      long id = callIds.getAndIncrement();
      Ref res = node.makeRef();
      calls.put(id, new Pending(null, caller, null, false, false, Atom.of("rex"), res));
      toPeer(Tuple.of(CALL, Int.of(id), tr.out(res), m, fn, tr.out(args)));
    } else if (msg instanceof Tuple t && t.arity() == 2 && t.get(0) instanceof Pid caller
        && t.get(1) instanceof Tuple req && req.isTagged("sbcast", 3)
        && req.get(1) instanceof Atom name) {
      // rpc:sbcast: a send by name, decided by the other side's policy like any other; rex
      // answers at once that the node is good (whether the name exists there is not known
      // here without a round trip; a refused send is audited there), so nobody waits.
      forward(new ControlMessage.RegSend(caller, name), req.get(2));
      node.sendControl(from, new ControlMessage.Send(caller), Tuple.of(Atom.of("rex"),
          node.nameAtom(), node.nameAtom()));
    } else {
      dropped.incrementAndGet(); // e.g. OTP's rpc features_request: rex here has none
      log.debug("bridge {}: dropped a message to rex from {}: not a call or cast", label, from);
    }
  }

  private Pid rexSender;

  /** The pid rex's replies come from on this link's node (made once). */
  private synchronized Pid rexSender() {
    if (rexSender == null) {
      rexSender = tr.newLocalPid();
    }
    return rexSender;
  }

  /** rex's reply for erpc's exit reason {@code reason}, as rpc:call would return it. */
  private static Term rexReply(Ref res, Term reason) {
    if (reason instanceof Tuple r && r.arity() >= 3 && res.equals(r.get(0))) {
      String kind = r.get(1) instanceof Atom a ? a.name() : "";
      switch (kind) {
        case "return":
        case "throw":
          return r.get(2);
        case "exit":
          return Tuple.of(Atom.of("badrpc"), Tuple.of(Atom.of("EXIT"), r.get(2)));
        case "error":
          if (r.arity() == 4) {
            return Tuple.of(Atom.of("badrpc"), Tuple.of(Atom.of("EXIT"),
                Tuple.of(r.get(2), r.get(3))));
          }
          return Tuple.of(Atom.of("badrpc"), r.get(2) instanceof Tuple e && e.arity() == 2
              && ERPC.equals(e.get(0)) ? e.get(1) : r.get(2));
        default:
          break;
      }
    }
    return Tuple.of(Atom.of("badrpc"), NOCONNECTION.equals(reason) ? Atom.of("nodedown")
        : Tuple.of(Atom.of("EXIT"), reason));
  }

  private void exitCallProxy(Pending p, Term reason) {
    if (p.rexTag() != null) {
      // as gen:reply: to the alias when the caller's tag holds one (OTP 24+), so a caller
      // that gave up never finds the late reply in its mailbox
      Term msg = Tuple.of(p.rexTag(), rexReply(p.res(), reason));
      java.util.Optional<Ref> alias = Mailbox.replyAlias(p.rexTag());
      node.sendControl(p.caller().node().name(), alias.isPresent()
          ? new ControlMessage.AliasSend(rexSender(), alias.get())
          : new ControlMessage.Send(p.caller()), msg);
      return;
    }
    String to = p.caller().node().name();
    node.sendControl(to, new ControlMessage.SpawnReply(p.reqId(), p.caller(),
        (p.link() ? 1 : 0) | (p.monitor() ? 2 : 0), p.proxy()), null);
    if (p.monitor()) {
      node.sendControl(to, new ControlMessage.MonitorPExit(p.proxy(), p.caller(), p.reqId(),
          reason), null);
    }
    if (p.link() && !Atom.of("normal").equals(reason)) {
      node.sendControl(to, new ControlMessage.Exit(p.proxy(), p.caller(), reason), null);
    }
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
    } else if (t.isTagged("call", 6) && !exposer) {
      serveCall(t);
    } else if (t.isTagged("cast", 4) && !exposer) {
      serveCast(t);
    } else if (t.isTagged("result", 3) && exposer && t.get(1) instanceof Int id) {
      Pending p = calls.remove(id.value());
      if (p != null) {
        if (p.proxy() != null) {
          callOfProxy.remove(p.proxy());
        }
        Term reason = tr.in(t.get(2));
        Verdict v = gw.guard().check("erpc", "result", 1, List.of(reason), MESSAGE_GUARD,
            List.of(), peer.name());
        if (!v.allowed()) {
          reason = Tuple.of(BEAMGATE, Atom.of("invalid_result"), Term.binary(v.reason()));
          log.warn("bridge {}: refused a result from {}: {}", label, peer.name(), v.reason());
        }
        exitCallProxy(p, reason);
      }
    } else if (t.isTagged("abandon", 2) && !exposer && t.get(1) instanceof Int id) {
      Serving s = serving.remove(id.value());
      if (s != null) {
        servingByReq.remove(s.reqId());
        replies.demonitor(s.reqId());
        finish(s, "abandoned", null);
      }
    } else {
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
      gw.audit(new AuditRecord(Instant.now(), peer.name(), peer.fingerprintSha256(),
          peer.serialHex(), label, null, "signal", AuditRecord.Decision.DENIED, null,
          why, 0, "dropped"));
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
        node.sendControl(a.alias().node().name(), c, payload);
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
      gw.audit(new AuditRecord(Instant.now(), peer.name(), peer.fingerprintSha256(),
          peer.serialHex(), label, null, "exit/2", AuditRecord.Decision.DENIED, null,
          "exit signals sent with exit/2 do not cross a bridge", 0, "dropped"));
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
      } else if (m.toProc() instanceof Atom name && !exposer) {
        Admission.Result r = gw.admission().admit(caller(),
            Admission.Request.monitor(name.name()), List::of);
        if (r instanceof Admission.Refused no) {
          forward(new ControlMessage.MonitorPExit(name, m.from(), m.ref(),
              no.code() == Admission.Code.UNAVAILABLE ? NOCONNECTION : refusalReason(no)),
              null);
          return;
        }
        Admission.Admitted a = (Admission.Admitted) r;
        proxyWatching.put(m.ref(), new Watch(m.from(), name, a.backend.node));
        node.sendControl(a.backend.node, c, null);
        a.finish("ok", null);
      } else {
        dropped.incrementAndGet();
      }
    } else if (c instanceof ControlMessage.DemonitorP d) {
      Watch w = proxyWatching.remove(d.ref());
      if (w != null) {
        node.sendControl(w.node(), c, null);
      }
    } else if (c instanceof ControlMessage.RegSend r && !exposer) {
      Admission.Result res = gw.admission().admit(caller(),
          Admission.Request.send(r.toName().name()), () -> List.of(payload));
      if (res instanceof Admission.Refused no) {
        dropped.incrementAndGet();
        failExchange(payload, refusalReason(no));
        return;
      }
      Admission.Admitted a = (Admission.Admitted) res;
      node.sendControl(a.backend.node, c, payload);
      a.finish("sent", null);
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
  private void failExchange(Term payload, Term reason) {
    if (!(payload instanceof Tuple t)) {
      return;
    }
    if ((t.isTagged("$gen_call", 3) || t.isTagged("system", 3))
        && t.get(1) instanceof Tuple from && from.arity() == 2) {
      Ref ref = tagRef(from.get(1));
      Watch w = ref == null ? null : proxyWatching.remove(ref);
      if (w != null) {
        node.sendControl(w.node(), new ControlMessage.DemonitorP(w.watcher(), w.target(), ref),
            null);
        forward(new ControlMessage.MonitorPExit(w.target(), w.watcher(), ref, reason), null);
      }
    } else if (t.arity() == 2) {
      Ref ref = tagRef(t.get(0));
      Watch w = ref == null ? null : watching.remove(ref);
      if (w != null) {
        forward(new ControlMessage.DemonitorP(w.watcher(), w.target(), ref), null);
        node.sendControl(w.watcher().node().name(), new ControlMessage.MonitorPExit(w.target(),
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
  private boolean full() {
    return links.size() + watching.size() + proxyWatching.size()
        >= gw.bridgeSettings().maxProxies();
  }

  private Term exhausted() {
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
    node.sendControl(target.node().name(), c, payload);
    return true;
  }

  /**
   * A pid of this cluster, not of this gateway's node: the other side may only address what
   * was given out to it (anything else became a stand-in on the way in).
   */
  private boolean isLocal(Atom nodeName) {
    return !nodeName.equals(node.nameAtom());
  }

  // ---- the server side of calls ------------------------------------------------------------

  private Admission.Caller caller() {
    return new Admission.Caller(peer, label, Admission.Door.BRIDGE);
  }

  /** How a refusal reads to Erlang code: {@code {beamgate, Code, <<"reason">>}}. */
  static Term refusalReason(Admission.Refused no) {
    return Tuple.of(BEAMGATE, Atom.of(no.code().name().toLowerCase(java.util.Locale.ROOT)),
        Term.binary(no.detail()));
  }

  private void serveCall(Tuple t) throws DistProtocolException {
    if (!(t.get(1) instanceof Int idTerm) || !(t.get(2) instanceof Ref)
        || !(t.get(3) instanceof Atom m) || !(t.get(4) instanceof Atom f)
        || !(t.get(5) instanceof ErlList argList) || !argList.isProper()) {
      throw new IllegalArgumentException("malformed call: " + abbreviate(t));
    }
    long id = idTerm.value();
    if (serving.containsKey(id)) {
      String why = "call id " + id + " is already in flight on this link";
      gw.admission().refusedByDoor(caller(), m.name() + ":" + f.name() + "/" + argList.size(),
          why + ": protocol violation, the link is closed", "protocol_error");
      throw new DistProtocolException(why);
    }
    Term res = tr.in(t.get(2));
    Admission.Result r = gw.admission().admit(caller(),
        Admission.Request.call(m.name(), f.name(), argList.size()),
        () -> ((ErlList) tr.in(argList)).elements());
    if (r instanceof Admission.Refused no) {
      sendResult(id, Tuple.of(res, Atom.ERROR, refusalReason(no), ErlList.NIL));
      return;
    }
    Admission.Admitted a = (Admission.Admitted) r;
    long timeoutMs = Math.min(a.timeoutMillis(0), gw.bridgeSettings().callTimeoutMillis());
    Ref reqId = node.makeRef();
    Serving s = new Serving(id, reqId, res, a, timeoutMs,
        a.start + timeoutMs * 1_000_000L);
    serving.put(id, s);
    servingByReq.put(reqId, s);
    a.backend.inFlight.incrementAndGet();
    node.spawnRequest(replies, reqId, a.backend.node, ERPC, EXECUTE_CALL,
        List.of(res, m, f, ErlList.of(a.args)));
  }

  private void serveCast(Tuple t) {
    if (!(t.get(1) instanceof Atom m) || !(t.get(2) instanceof Atom f)
        || !(t.get(3) instanceof ErlList argList) || !argList.isProper()) {
      throw new IllegalArgumentException("malformed cast: " + abbreviate(t));
    }
    Admission.Result r = gw.admission().admit(caller(),
        Admission.Request.cast(m.name(), f.name(), argList.size()),
        () -> ((ErlList) tr.in(argList)).elements());
    if (r instanceof Admission.Refused) {
      return; // audited; a cast has no answer
    }
    Admission.Admitted a = (Admission.Admitted) r;
    try {
      gw.cast(a.backend.node, m.name(), f.name(), a.args,
          java.time.Duration.ofMillis(a.timeoutMillis(0)));
      a.finish("cast", null);
    } catch (io.beamgate.node.rpc.RpcException e) {
      a.finish("unavailable", e.getMessage());
    }
  }

  private void onReply(Term msg) {
    if (!(msg instanceof Tuple t)) {
      return;
    }
    if (t.isTagged("DOWN", 5) && t.get(1) instanceof Ref reqId) {
      Serving s = servingByReq.remove(reqId);
      if (s != null && serving.remove(s.id()) != null) {
        Term reason = t.get(4);
        sendResult(s.id(), reason);
        boolean ok = reason instanceof Tuple r && r.arity() >= 3
            && Atom.of("return").equals(r.get(1));
        finish(s, ok ? "ok" : outcome(reason), ok ? null : "the call raised or failed");
      }
    } else if (t.isTagged("spawn_reply", 4) && t.get(1) instanceof Ref reqId) {
      Serving s = servingByReq.remove(reqId);
      if (s != null && serving.remove(s.id()) != null) {
        sendResult(s.id(), Tuple.of(s.res(), Atom.ERROR, Tuple.of(ERPC, t.get(3))));
        finish(s, "spawn_refused", "the backend refused the erpc spawn: " + t.get(3));
      }
    }
  }

  private static String outcome(Term reason) {
    if (reason instanceof Tuple r && r.arity() >= 3 && r.get(1) instanceof Atom kind) {
      return kind.name(); // throw, exit, error
    }
    return NOCONNECTION.equals(reason) ? "nodedown" : "exit";
  }

  /** Ends the calls past their deadline (run every 100 ms while the link is open). */
  private void sweep() {
    long now = System.nanoTime();
    for (Serving s : serving.values()) {
      if (now - s.deadline() > 0) {
        timedOut(s.id());
      }
    }
  }

  private void timedOut(long id) {
    Serving s = serving.remove(id);
    if (s != null) {
      servingByReq.remove(s.reqId());
      replies.demonitor(s.reqId());
      long ms = s.timeoutMs();
      sendResult(id, Tuple.of(s.res(), Atom.ERROR, Tuple.of(BEAMGATE, Atom.of("timeout"),
          Term.binary("no answer from " + s.backend().node + " within " + ms + " ms")),
          ErlList.NIL));
      finish(s, "timeout", "no answer within " + ms + " ms");
    }
  }

  private void finish(Serving s, String outcome, String reason) {
    s.backend().inFlight.decrementAndGet();
    gw.completed(s.backend(), BackendPool.Outcome.ofAudit(outcome));
    s.admitted().finish(outcome, reason);
  }

  private void sendResult(long id, Term reason) {
    toPeer(Tuple.of(RESULT, Int.of(id), tr.out(reason)));
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
    for (Map.Entry<Long, Pending> e : calls.entrySet()) {
      if (e.getValue().caller().node().equals(n) && calls.remove(e.getKey()) != null) {
        if (e.getValue().proxy() != null) {
          callOfProxy.remove(e.getValue().proxy());
        }
        toPeer(Tuple.of(ABANDON, Int.of(e.getKey())));
      }
    }
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
    if (sweeper != null) {
      sweeper.cancel(false);
    }
    if (pidMessages.get() + pidRefused.get() > 0) {
      gw.audit(new AuditRecord(Instant.now(), peer.name(), peer.fingerprintSha256(),
          peer.serialHex(), label, null, "send:pid", AuditRecord.Decision.ALLOWED, null,
          "messages to pids over this link: " + pidMessages.get() + " relayed, "
          + pidRefused.get() + " refused", 0, "summary"));
    }
    if (!exposer) {
      for (LinkPair lp : links) {
        node.sendControl(lp.local().node().name(),
            new ControlMessage.Exit(lp.proxy(), lp.local(), NOCONNECTION), null);
      }
      for (Map.Entry<Ref, Watch> e : watching.entrySet()) {
        Watch w = e.getValue();
        node.sendControl(w.watcher().node().name(), new ControlMessage.MonitorPExit(w.target(),
            w.watcher(), e.getKey(), NOCONNECTION), null);
      }
      for (Map.Entry<Ref, Watch> e : proxyWatching.entrySet()) {
        Watch w = e.getValue();
        node.sendControl(w.node(), new ControlMessage.DemonitorP(w.watcher(), w.target(),
            e.getKey()), null);
      }
      for (Serving s : serving.values()) {
        replies.demonitor(s.reqId());
        finish(s, "abandoned", "the bridge closed during the call");
      }
      serving.clear();
      servingByReq.clear();
      replies.close();
    }
    links.clear();
    watching.clear();
    proxyWatching.clear();
    calls.clear();
    callOfProxy.clear();
  }

  private static String abbreviate(Term t) {
    String s = String.valueOf(t);
    return s.length() > 200 ? s.substring(0, 200) + "..." : s;
  }
}
