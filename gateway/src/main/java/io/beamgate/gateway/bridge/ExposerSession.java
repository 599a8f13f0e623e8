package io.beamgate.gateway.bridge;

import io.beamgate.node.LocalNode;
import io.beamgate.node.Mailbox;
import io.beamgate.node.dist.ControlMessage;
import io.beamgate.node.term.Atom;
import io.beamgate.node.term.ErlList;
import io.beamgate.node.term.Int;
import io.beamgate.node.term.Pid;
import io.beamgate.node.term.Ref;
import io.beamgate.node.term.Term;
import io.beamgate.node.term.Tuple;
import io.beamgate.security.guard.Verdict;
import io.beamgate.security.identity.PeerIdentity;
import io.netty.channel.Channel;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The exposer's side of a link: this gateway opened it ({@link BridgeLink}) and runs a node of
 * this cluster that stands for the other one. Calls made to that node (erpc, and rpc through
 * its rex) cross as {@code call} and {@code cast} messages and wait here for their
 * {@code result}; sends and monitors by name are forwarded for the other side to decide. When
 * the link's queue backs up, this side stops reading from its own cluster (its node serves only
 * this link).
 */
final class ExposerSession extends BridgeSession {
  private static final Atom REX = Atom.of("rex");

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

  private final Map<Long, Pending> calls = new ConcurrentHashMap<>();
  private final Map<Pid, Long> callOfProxy = new ConcurrentHashMap<>();
  private final AtomicLong callIds = new AtomicLong(1);

  ExposerSession(LocalNode node, Channel channel, PeerIdentity peer, String label, int link,
      BridgeContext gw) {
    super(node, channel, peer, label, link, gw);
  }

  @Override
  String role() {
    return "exposer";
  }

  @Override
  int callsInFlight() {
    return calls.size();
  }

  /** A call going to the other gateway: its id, and one more relayed call counted. */
  private long nextCallId() {
    gw.callRelayed("exposer");
    return callIds.getAndIncrement();
  }

  @Override
  void pause(boolean paused) {
    door.pauseReading(paused);
  }

  @Override
  void tooLargeAnswer(Term op, String why) {
    if (op instanceof Tuple t && t.isTagged("call", 6) && t.get(1) instanceof Int id) {
      Pending p = calls.remove(id.value());
      if (p != null) {
        if (p.proxy() != null) {
          callOfProxy.remove(p.proxy());
        }
        exitCallProxy(p, Tuple.of(tr.in(t.get(2)), Atom.ERROR, Tuple.of(BEAMGATE,
            Atom.of("resource_exhausted"), Term.binary(why)), ErlList.NIL));
      }
    }
  }

  @Override
  boolean isCallStandIn(Pid p) {
    return callOfProxy.containsKey(p);
  }

  @Override
  boolean localMonitorByName(String from, ControlMessage.MonitorP m) {
    if (REX.equals(m.toProc())) {
      return false; // rex is answered here (see rex()); it lives as long as the link
    }
    if (full()) {
      door.sendControl(from, new ControlMessage.MonitorPExit(m.toProc(), m.from(), m.ref(),
          exhausted()), null);
      return false;
    }
    watch(m.ref(), m.from(), m.toProc());
    return true;
  }

  @Override
  boolean localDemonitor(ControlMessage.DemonitorP d) {
    if (REX.equals(d.toProc())) {
      return true;
    }
    if (d.toProc() instanceof Pid p) {
      Long id = callOfProxy.remove(p);
      if (id != null) {
        calls.remove(id);
        toPeer(Tuple.of(ABANDON, Int.of(id)));
        return true;
      }
    }
    return false;
  }

  @Override
  boolean localRegSend(String from, ControlMessage.RegSend r, Term payload) {
    if (r.toName().name().equals("rex")) {
      rex(from, r, payload);
      return false;
    }
    return true;
  }

  /** A SPAWN_REQUEST to the exposed node. Only erpc calls and casts cross. */
  @Override
  void localSpawn(String from, ControlMessage.SpawnRequest s, Term args) {
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
    if (!call && !cast) {
      refuseLocalSpawn(from, s);
      return;
    }
    // The SPAWN_REPLY goes out with the result (exitCallProxy): erpc asks for a reply on
    // error only, so the caller waits for nothing until then, and the two signals travel in
    // one packet instead of two.
    Pid proxy = tr.newLocalPid();
    if (call) {
      long id = nextCallId();
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
      long id = nextCallId();
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
      long id = nextCallId();
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
      door.sendControl(from, new ControlMessage.Send(caller), Tuple.of(Atom.of("rex"),
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
      door.sendControl(p.caller().node().name(), alias.isPresent()
          ? new ControlMessage.AliasSend(rexSender(), alias.get())
          : new ControlMessage.Send(p.caller()), msg);
      return;
    }
    String to = p.caller().node().name();
    door.sendControl(to, new ControlMessage.SpawnReply(p.reqId(), p.caller(),
        (p.link() ? 1 : 0) | (p.monitor() ? 2 : 0), p.proxy()), null);
    if (p.monitor()) {
      door.sendControl(to, new ControlMessage.MonitorPExit(p.proxy(), p.caller(), p.reqId(),
          reason), null);
    }
    if (p.link() && !Atom.of("normal").equals(reason)) {
      door.sendControl(to, new ControlMessage.Exit(p.proxy(), p.caller(), reason), null);
    }
  }

  @Override
  boolean onPeerOp(Tuple t) {
    if (!(t.isTagged("result", 3) && t.get(1) instanceof Int id)) {
      return false;
    }
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
    return true;
  }

  /** Names are served by the side that accepted the link, never by the exposer. */
  @Override
  void remoteMonitorByName(ControlMessage.MonitorP m, Atom name) {
    dropped.incrementAndGet();
  }

  @Override
  void remoteRegSend(ControlMessage.RegSend r, Term payload) {
    dropped.incrementAndGet();
    log.debug("bridge {}: dropped {} from {}", label, r, peer.name());
  }

  @Override
  void localNodeDownCalls(Atom n) {
    for (Map.Entry<Long, Pending> e : calls.entrySet()) {
      if (e.getValue().caller().node().equals(n) && calls.remove(e.getKey()) != null) {
        if (e.getValue().proxy() != null) {
          callOfProxy.remove(e.getValue().proxy());
        }
        toPeer(Tuple.of(ABANDON, Int.of(e.getKey())));
      }
    }
  }

  /** The exposer's node is disconnected by its link, which ends what its cluster held. */
  @Override
  void onClosed() {
    calls.clear();
    callOfProxy.clear();
  }
}
