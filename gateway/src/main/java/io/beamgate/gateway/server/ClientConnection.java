package io.beamgate.gateway.server;

import static io.beamgate.gateway.answer.CallOutcome.error;

import io.beamgate.gateway.admission.Admission;
import io.beamgate.gateway.answer.CallOutcome;
import io.beamgate.gateway.admission.BackendPool;
import io.beamgate.gateway.proto.Call;
import io.beamgate.gateway.proto.Cast;
import io.beamgate.gateway.proto.ClientFrame;
import io.beamgate.gateway.proto.Error;
import io.beamgate.gateway.proto.Ok;
import io.beamgate.gateway.proto.Pong;
import io.beamgate.gateway.proto.Send;
import io.beamgate.gateway.proto.ServerFrame;
import io.beamgate.gateway.protocol.FrameException;
import io.beamgate.gateway.protocol.TermProto;
import io.beamgate.gateway.transport.TlsContexts;
import io.beamgate.node.rpc.RpcException;
import io.beamgate.node.term.Term;
import io.beamgate.security.audit.AuditRecord;
import io.beamgate.security.identity.PeerIdentity;
import io.beamgate.security.identity.Principal;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.timeout.IdleStateEvent;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One client connection: is given its peer's identity once the TLS handshake is done
 * ({@link TlsUp} fires it), then takes each request through admission before it reaches the
 * cluster, and answers each exactly once. Everything but the cluster's answers runs on the
 * connection's event loop; answers are handed back to it. It sees the gateway only through
 * {@link ClientContext}; the way out is {@link OutputFlow}, pings and cancels are metered by
 * {@link ControlBucket}.
 */
final class ClientConnection extends ChannelInboundHandlerAdapter {
  private static final Logger log = LoggerFactory.getLogger(ClientConnection.class);

  private final ClientContext gateway;
  private final Map<Long, InFlight> inFlight = new HashMap<>(); // event loop only
  // Requests read while the connection had its limit in flight (reading is paused meanwhile,
  // so this holds at most what one read brought). Event loop only.
  private final java.util.ArrayDeque<ClientFrame> held = new java.util.ArrayDeque<>();
  private final ControlBucket control;
  private Channel channel;
  private OutputFlow out;
  private String peer = "?";
  private volatile PeerIdentity who;
  private volatile Principal principal;
  private Admission.Caller caller;
  private boolean closing;

  /** A request the cluster has not answered yet. */
  private static final class InFlight {
    final String mfa;
    final Admission.Admitted admitted;
    volatile BackendPool.Backend backend; // BackendPool.callAsync may re-route a call never sent
    final long start;

    InFlight(String mfa, Admission.Admitted admitted, BackendPool.Backend backend, long start) {
      this.mfa = mfa;
      this.admitted = admitted;
      this.backend = backend;
      this.start = start;
    }
  }

  ClientConnection(ClientContext gateway) {
    this.gateway = gateway;
    this.control = new ControlBucket(gateway.limits().controlPerSecond());
  }

  Principal principal() {
    return principal;
  }

  /** The peer's identity, or null before the handshake is done. */
  PeerIdentity identity() {
    return who;
  }

  X509Certificate[] chain() {
    PeerIdentity w = who;
    return w == null ? null : w.chain();
  }

  Channel channel() {
    return channel;
  }

  String peer() {
    return peer;
  }

  @Override
  public void channelActive(ChannelHandlerContext ctx) throws Exception {
    channel = ctx.channel();
    peer = io.beamgate.gateway.transport.ProxyProtocolGate.peer(channel);
    out = new OutputFlow(channel, gateway.limits().maxOutputBytes(),
        gateway.limits().outputStallMillis(), this::closeNotReading, () -> closing);
    super.channelActive(ctx);
  }

  @Override
  public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
    if (evt instanceof PeerIdentity w) {
      who = w;
      peer = w.address(); // the client's, read from a PROXY header when there was one
      principal = w.principal();
      caller = Admission.Caller.client(w);
      gateway.connected(this);
      log.debug("client {} connected from {}", principal.name(), peer);
      return;
    }
    if (evt instanceof IdleStateEvent) {
      if (inFlight.isEmpty()) {
        closeWith(Error.Code.CLOSING, "idle for " + gateway.limits().idleTimeoutMillis()
            + " ms: closing the connection");
      }
      return;
    }
    super.userEventTriggered(ctx, evt);
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (!(msg instanceof ClientFrame f)) {
      ctx.fireChannelRead(msg);
      return;
    }
    if (principal == null || closing || !ctx.channel().isActive()) {
      // Before the handshake, after closing, or frames the decoder hands over as the
      // connection goes away: nobody would read their answers, so none is started.
      return;
    }
    ClientFrame.RequestCase kind = f.getRequestCase();
    boolean takesASlot = kind == ClientFrame.RequestCase.CALL
        || kind == ClientFrame.RequestCase.CAST || kind == ClientFrame.RequestCase.SEND;
    if (takesASlot && (!held.isEmpty() || !channel.isWritable()
        || inFlight.size() >= gateway.limits().maxInFlightPerConnection())) {
      held.add(f);
      updateReading();
      return;
    }
    handle(f);
    updateReading();
  }

  private void handle(ClientFrame f) {
    long id = f.getId();
    if (id == 0) {
      answer(0, error(Error.Code.PROTOCOL_ERROR, "request with id 0 (ids must be non-zero)"));
      return;
    }
    if (inFlight.containsKey(id)) {
      answer(0, error(Error.Code.PROTOCOL_ERROR, "request id " + Long.toUnsignedString(id)
          + " is already in flight; the new request is dropped"));
      return;
    }
    if ((f.getRequestCase() == ClientFrame.RequestCase.PING
        || f.getRequestCase() == ClientFrame.RequestCase.CANCEL)
        && !control.take(System.nanoTime())) {
      String why = "pings and cancels: more than " + control.rate()
          + " per second on this connection (limits.control_per_second)";
      if (control.firstRefusal()) { // one audit record per burst, not one per refused frame
        gateway.admission().refusedByDoor(caller, f.getRequestCase().name().toLowerCase(
            java.util.Locale.ROOT), why, "resource_exhausted");
      }
      answer(id, error(Error.Code.RESOURCE_EXHAUSTED, why).setReason(why));
      return;
    }
    switch (f.getRequestCase()) {
      case PING:
        answer(id, ServerFrame.newBuilder().setPong(Pong.newBuilder().setProtocol(1)
            .setServer(gateway.version()).setPrincipal(principal.name())));
        break;
      case CANCEL:
        cancel(id, f.getCancel().getTarget());
        break;
      case CALL:
        call(id, f.getCall());
        break;
      case CAST:
        cast(id, f.getCast());
        break;
      case SEND:
        send(id, f.getSend());
        break;
      case REQUEST_NOT_SET:
      default:
        answer(id, error(Error.Code.PROTOCOL_ERROR,
            "request with no body (or of a kind this gateway does not know)"));
    }
  }

  /** Takes held requests while there is room for them. */
  private void drainHeld() {
    while (!held.isEmpty() && !closing && channel.isWritable()
        && inFlight.size() < gateway.limits().maxInFlightPerConnection()) {
      handle(held.poll());
    }
    updateReading();
  }

  // ---- requests --------------------------------------------------------------------------

  /** The call's or cast's arguments, decoded only once the policy allows the request. */
  private Admission.Args args(List<io.beamgate.gateway.proto.Term> protoArgs) {
    return () -> {
      List<Term> args = new ArrayList<>(protoArgs.size());
      for (int i = 0; i < protoArgs.size(); i++) {
        try {
          args.add(TermProto.fromProto(protoArgs.get(i), "args[" + i + "]",
              gateway.maxTermDepth()));
        } catch (TermProto.Rejected r) {
          throw new Admission.BadArgument(r.path(), r.getMessage());
        }
      }
      return args;
    };
  }

  /** Admits {@code r} or answers the refusal; null when refused. */
  private Admission.Admitted admit(long id, Admission.Request r, Admission.Args args) {
    Admission.Result res = gateway.admission().admit(caller, r, args);
    if (res instanceof Admission.Refused no) {
      answer(id, CallOutcome.refusal(no).toBuilder());
      return null;
    }
    return (Admission.Admitted) res;
  }

  private void call(long id, Call c) {
    Admission.Admitted a = admit(id, Admission.Request.call(c.getModule(), c.getFunction(),
        c.getArgsCount()), args(c.getArgsList()));
    if (a == null) {
      return;
    }
    String notRetryable = io.beamgate.gateway.admission.RetryDeclaration.refusal(a,
        c.getIdempotent());
    if (notRetryable != null) {
      a.release();
      gateway.admission().refusedByDoor(caller, a.request.what(), notRetryable,
          "permission_denied");
      answer(id, error(Error.Code.PERMISSION_DENIED, "permission denied: " + notRetryable)
          .setReason(notRetryable).setRule(a.rule.id()));
      return;
    }
    BackendPool.Backend b = a.backend;
    InFlight req = new InFlight(a.request.what(), a, b, a.start);
    inFlight.put(id, req);
    CompletableFuture<Term> f = gateway.call(b, c.getModule(),
        c.getFunction(), a.args, Duration.ofMillis(a.timeoutMillis(c.getTimeoutMs())),
        a.rule.limits().maxResultBytes(), other -> {
          req.backend = other;
          a.backend = other;
        });
    f.whenComplete((v, e) -> {
      // on this connection's thread when it is the backend connection's (ClientLoops): the
      // answer is written at once, flushed at the end of the turn; else handed over
      if (channel.eventLoop().inEventLoop()) {
        completed(id, req, v, e);
      } else {
        channel.eventLoop().execute(() -> completed(id, req, v, e));
      }
    });
  }

  private void completed(long id, InFlight req, Term value, Throwable e) {
    if (inFlight.get(id) != req) {
      return; // cancelled, or the connection went away
    }
    finish(id, req);
    Admission.Admitted a = req.admitted;
    CallOutcome o = CallOutcome.of(a, value, e, gateway.maxResultDepth());
    if (o instanceof CallOutcome.Value v) {
      answer(id, ServerFrame.newBuilder().setResult(v.term()));
      return;
    }
    Error err = ((CallOutcome.Failure) o).error();
    if (err.getCode() == Error.Code.INTERNAL) {
      log.error("call {} for {} failed inside the gateway", req.mfa, principal.name(), e);
    }
    answer(id, err.toBuilder());
  }

  private void cast(long id, Cast c) {
    Admission.Admitted a = admit(id, Admission.Request.cast(c.getModule(), c.getFunction(),
        c.getArgsCount()), args(c.getArgsList()));
    if (a == null) {
      return;
    }
    try {
      gateway.cast(a.backend.node, c.getModule(), c.getFunction(), a.args,
          Duration.ofMillis(a.timeoutMillis(0)));
      a.finish("cast", null);
      answer(id, ServerFrame.newBuilder().setOk(Ok.getDefaultInstance()));
    } catch (RpcException e) {
      a.finish("unavailable", e.getMessage());
      answer(id, error(Error.Code.UNAVAILABLE, e.getMessage()));
    }
  }

  private void send(long id, Send s) {
    Admission.Admitted a = admit(id, Admission.Request.send(s.getName()), () -> {
      try {
        return List.of(TermProto.fromProto(s.getMessage(), "message", gateway.maxTermDepth()));
      } catch (TermProto.Rejected r) {
        throw new Admission.BadArgument(r.path(), r.getMessage());
      }
    });
    if (a == null) {
      return;
    }
    gateway.send(s.getName(), a.backend.node, a.args.get(0));
    a.finish("sent", null);
    answer(id, ServerFrame.newBuilder().setOk(Ok.getDefaultInstance()));
  }

  private void cancel(long id, long target) {
    InFlight req = inFlight.get(target);
    if (req != null) {
      finish(target, req);
      req.admitted.finish("cancelled", "cancelled by the client");
      answer(target, error(Error.Code.CANCELLED, "cancelled by the client"));
    }
    answer(id, ServerFrame.newBuilder().setOk(Ok.getDefaultInstance()));
  }

  // ---- bookkeeping -----------------------------------------------------------------------

  private void finish(long id, InFlight req) {
    inFlight.remove(id);
    if (!held.isEmpty()) {
      channel.eventLoop().execute(this::drainHeld);
    }
    updateReading();
  }

  /** Reads from the client only while it has room for requests and reads our answers. */
  private void updateReading() {
    if (channel == null || !channel.isActive()) {
      return;
    }
    boolean read = held.isEmpty()
        && inFlight.size() < gateway.limits().maxInFlightPerConnection()
        && channel.isWritable();
    if (channel.config().isAutoRead() != read) {
      channel.config().setAutoRead(read);
    }
  }

  @Override
  public void channelWritabilityChanged(ChannelHandlerContext ctx) throws Exception {
    if (out.writabilityChanged()) {
      drainHeld(); // the client reads again: start what waited
    }
    updateReading();
    super.channelWritabilityChanged(ctx);
  }

  /** A client that does not read its answers costs at most limits.max_output_bytes. */
  private void closeNotReading() {
    String why = "the client does not read its answers: more than "
        + gateway.limits().maxOutputBytes() + " bytes queued for it for "
        + gateway.limits().outputStallMillis() + " ms (limits.max_output_bytes,"
        + " limits.output_stall_ms)";
    log.info("client {} from {}: {}; closing", principal == null ? "?" : principal.name(),
        peer, why);
    gateway.admission().refusedByDoor(caller != null ? caller
        : new Admission.Caller(null, peer, null, Admission.Door.CLIENT, null), null, why,
        "closed");
    closing = true;
    held.clear();
    for (Map.Entry<Long, InFlight> e : new ArrayList<>(inFlight.entrySet())) {
      finish(e.getKey(), e.getValue());
      e.getValue().admitted.finish("abandoned", "connection closed: " + why);
    }
    channel.close();
  }

  private void answer(long id, Error.Builder e) {
    answer(id, ServerFrame.newBuilder().setError(e));
  }

  private void answer(long id, ServerFrame.Builder f) {
    out.write(f.setId(id).build());
  }

  /** Answers every request in flight with {@code code}, says why (id 0), and closes. */
  void closeWith(Error.Code code, String why) {
    if (!channel.eventLoop().inEventLoop()) {
      channel.eventLoop().execute(() -> closeWith(code, why));
      return;
    }
    if (closing) {
      return;
    }
    closing = true;
    held.clear();
    for (Map.Entry<Long, InFlight> e : new ArrayList<>(inFlight.entrySet())) {
      InFlight req = e.getValue();
      finish(e.getKey(), req);
      req.admitted.finish("abandoned", "connection closed by the gateway before the answer: "
          + why);
      answer(e.getKey(), error(code == Error.Code.CLOSING ? Error.Code.OUTCOME_UNKNOWN : code,
          "the gateway closed the connection before the answer came (" + why + ")"));
    }
    if (channel.isActive()) {
      channel.writeAndFlush(ServerFrame.newBuilder().setId(0)
          .setError(error(code, why)).build()).addListener(x -> channel.close());
    }
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    Throwable c = cause;
    while (c instanceof io.netty.handler.codec.DecoderException && c.getCause() != null
        && !(c instanceof FrameException)) {
      c = c.getCause();
    }
    if (c instanceof FrameException fe) {
      Error.Code code = fe.kind() == FrameException.Kind.TOO_LARGE ? Error.Code.FRAME_TOO_LARGE
          : Error.Code.PROTOCOL_ERROR;
      log.info("client {} from {}: {}; closing", principal == null ? "?" : principal.name(),
          peer, fe.getMessage());
      gateway.audit(AuditRecord.of(principal, peer).decision(AuditRecord.Decision.DENIED)
          .reason(fe.getMessage()).outcome(code.name().toLowerCase(java.util.Locale.ROOT))
          .build());
      closeWith(code, fe.getMessage());
      return;
    }
    if (closing || !ctx.channel().isActive()) {
      // answers still queued when the gateway closed the connection fail one by one
      log.debug("connection from {} (closing): {}", peer, TlsContexts.rootMessage(c));
    } else if (c instanceof javax.net.ssl.SSLException) {
      log.info("TLS error with {}: {}", peer, TlsContexts.rootMessage(c));
    } else if (c instanceof java.io.IOException) {
      log.debug("connection from {}: {}", peer, c.getMessage());
    } else {
      log.warn("connection from {} failed", peer, c);
    }
    ctx.close();
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) throws Exception {
    try {
      held.clear();
      for (Map.Entry<Long, InFlight> e : new ArrayList<>(inFlight.entrySet())) {
        InFlight req = e.getValue();
        finish(e.getKey(), req);
        req.admitted.finish("abandoned", "the client disconnected before the answer");
      }
    } finally {
      gateway.disconnected(this);
    }
    super.channelInactive(ctx);
  }
}
