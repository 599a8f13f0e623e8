package io.beamgate.gateway.bridge;

import io.beamgate.gateway.admission.Admission;
import io.beamgate.gateway.admission.BackendPool;
import io.beamgate.node.LocalNode;
import io.beamgate.node.Mailbox;
import io.beamgate.node.dist.ControlMessage;
import io.beamgate.node.dist.DistProtocolException;
import io.beamgate.node.term.Atom;
import io.beamgate.node.term.ErlList;
import io.beamgate.node.term.Int;
import io.beamgate.node.term.Pid;
import io.beamgate.node.term.Ref;
import io.beamgate.node.term.Term;
import io.beamgate.node.term.Tuple;
import io.beamgate.security.identity.PeerIdentity;
import io.netty.channel.Channel;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * The server's side of a link: another gateway opened it, and this one serves its cluster to
 * the other under its policy. Calls, casts, sends and monitors by name from the other side take
 * {@link Admission} ({@code Door.BRIDGE}) like a client's; calls run here as erpc spawns on a
 * backend, with a deadline swept every 100 ms. This gateway's node also serves clients, so when
 * the link's queue backs up it stops reading the link instead of its cluster.
 */
public final class ServerSession extends BridgeSession {
  /** A call the server is running for the other side, admitted by the policy. */
  private record Serving(long id, Ref reqId, Term res, Admission.Admitted admitted,
      long timeoutMs, long deadline) {
    BackendPool.Backend backend() {
      return admitted.backend;
    }
  }

  private final Map<Long, Serving> serving = new ConcurrentHashMap<>();
  private final Map<Ref, Serving> servingByReq = new ConcurrentHashMap<>();
  private final Mailbox replies;
  private final ScheduledFuture<?> sweeper;

  /**
   * The session of a link another gateway opened to this one, on this cluster's
   * {@code node}; {@code link} is its number in the node's {@link BridgeHub}.
   */
  public ServerSession(LocalNode node, Channel channel, PeerIdentity peer, String label, int link,
      BridgeContext gw) {
    super(node, channel, peer, label, link, gw);
    replies = node.createMailbox(null, (mb, msg) -> onReply(msg));
    sweeper = gw.timer().scheduleWithFixedDelay(this::sweep, 100, 100,
        TimeUnit.MILLISECONDS);
  }

  @Override
  String role() {
    return "server";
  }

  @Override
  int callsInFlight() {
    return serving.size();
  }

  @Override
  void pause(boolean paused) {
    channel.config().setAutoRead(!paused);
  }

  @Override
  void tooLargeAnswer(Term op, String why) {
    if (op instanceof Tuple t && t.isTagged("result", 3) && t.get(2) instanceof Tuple r
        && r.arity() >= 1) {
      toPeer(Tuple.of(RESULT, t.get(1), Tuple.of(r.get(0), Atom.ERROR, Tuple.of(BEAMGATE,
          Atom.of("resource_exhausted"), Term.binary(why)), ErlList.NIL)));
    }
  }

  @Override
  boolean isCallStandIn(Pid p) {
    return false; // calls run on the backends here, not as stand-ins
  }

  /** A name on this gateway's node stands for nothing of the other cluster: dropped. */
  @Override
  boolean localMonitorByName(String from, ControlMessage.MonitorP m) {
    dropped.incrementAndGet();
    return false;
  }

  @Override
  boolean localDemonitor(ControlMessage.DemonitorP d) {
    return false;
  }

  @Override
  void localSpawn(String from, ControlMessage.SpawnRequest s, Term payload) {
    refuseLocalSpawn(from, s);
  }

  @Override
  boolean localRegSend(String from, ControlMessage.RegSend r, Term payload) {
    dropped.incrementAndGet();
    return false;
  }

  @Override
  boolean onPeerOp(Tuple t) throws DistProtocolException {
    if (t.isTagged("call", 6)) {
      serveCall(t);
    } else if (t.isTagged("cast", 4)) {
      serveCast(t);
    } else if (t.isTagged("abandon", 2) && t.get(1) instanceof Int id) {
      Serving s = serving.remove(id.value());
      if (s != null) {
        servingByReq.remove(s.reqId());
        replies.demonitor(s.reqId());
        finish(s, "abandoned", null);
      }
    } else {
      return false;
    }
    return true;
  }

  @Override
  void remoteMonitorByName(ControlMessage.MonitorP m, Atom name) {
    Admission.Result r = gw.admission().admit(caller(),
        Admission.Request.monitor(name.name()), List::of);
    if (r instanceof Admission.Refused no) {
      forward(new ControlMessage.MonitorPExit(name, m.from(), m.ref(),
          no.code() == Admission.Code.UNAVAILABLE ? NOCONNECTION : refusalReason(no)),
          null);
      return;
    }
    Admission.Admitted a = (Admission.Admitted) r;
    proxyWatch(m.ref(), m.from(), name, a.backend.node);
    door.sendControl(a.backend.node, m, null);
    a.finish("ok", null);
  }

  @Override
  void remoteRegSend(ControlMessage.RegSend r, Term payload) {
  Admission.Result res = gw.admission().admit(caller(),
      Admission.Request.send(r.toName().name()), () -> List.of(payload));
  if (res instanceof Admission.Refused no) {
    dropped.incrementAndGet();
    failExchange(payload, refusalReason(no));
    return;
  }
  Admission.Admitted a = (Admission.Admitted) res;
  door.sendControl(a.backend.node, r, payload);
  a.finish("sent", null);
  }

  @Override
  void localNodeDownCalls(Atom nodeName) {
    // the calls run here end on their own: erpc's monitor reports the node down
  }

  @Override
  void onClosed() {
    sweeper.cancel(false);
    endWhatThisClusterHeld();
    for (Serving s : serving.values()) {
      replies.demonitor(s.reqId());
      finish(s, "abandoned", "the bridge closed during the call");
    }
    serving.clear();
    servingByReq.clear();
    replies.close();
  }

  // ---- calls from the other side -----------------------------------------------------------

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
    gw.callRelayed("server");
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
}
