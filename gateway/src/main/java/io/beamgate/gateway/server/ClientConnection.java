package io.beamgate.gateway.server;

import io.beamgate.gateway.admission.Admission;
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
import io.beamgate.node.etf.EtfEncoder;
import io.beamgate.node.rpc.RpcException;
import io.beamgate.node.term.Atom;
import io.beamgate.node.term.Term;
import io.beamgate.node.term.TermText;
import io.beamgate.security.audit.AuditRecord;
import io.beamgate.security.identity.IdentityException;
import io.beamgate.security.identity.Principal;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import io.netty.handler.timeout.IdleStateEvent;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import javax.net.ssl.SSLPeerUnverifiedException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One client connection: learns the principal from the client certificate once the TLS
 * handshake is done, then takes each request through the policy, the term guard and the
 * limits before it reaches the cluster, and answers each exactly once. Everything but the
 * cluster's answers runs on the connection's event loop; answers are handed back to it.
 */
final class ClientConnection extends ChannelInboundHandlerAdapter {
  private static final Logger log = LoggerFactory.getLogger(ClientConnection.class);

  private final GatewayServer server;
  private final Map<Long, InFlight> inFlight = new HashMap<>(); // event loop only
  // Requests read while the connection had its limit in flight (reading is paused meanwhile,
  // so this holds at most what one read brought). Event loop only.
  private final java.util.ArrayDeque<ClientFrame> held = new java.util.ArrayDeque<>();
  private Channel channel;
  private String peer = "?";
  private volatile Principal principal;
  private volatile X509Certificate[] chain;
  private boolean flushScheduled;
  // Pings and cancels cost no rule permit, so they have a bucket of their own (event loop).
  private double controlTokens = -1;
  private long controlRefill;
  private boolean controlRefusing;
  // When the connection last became unwritable (its answers queue up), 0 while writable.
  private long unwritableSince;
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

  ClientConnection(GatewayServer server) {
    this.server = server;
  }

  Principal principal() {
    return principal;
  }

  X509Certificate[] chain() {
    return chain;
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
    super.channelActive(ctx);
  }

  @Override
  public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
    if (evt instanceof SslHandshakeCompletionEvent e) {
      peer = io.beamgate.gateway.transport.ProxyProtocolGate.peer(channel); // after PROXY
      if (!e.isSuccess()) {
        String why = TlsContexts.rootMessage(e.cause());
        // The certificate the trust manager refused (expired, revoked, unknown CA), when the
        // handshake got that far: the operator learns which one it was.
        X509Certificate refused = io.beamgate.gateway.transport.TlsContexts.takeRefusedClient();
        String fingerprint = refused == null ? null : Principal.fingerprint(refused);
        String serial = refused == null ? null : refused.getSerialNumber().toString(16);
        log.info("TLS handshake from {} failed: {}{}", peer, why, refused == null ? ""
            : " (certificate serial " + serial + ", sha256 " + fingerprint + ")");
        server.audit(new AuditRecord(Instant.now(), null, fingerprint, serial, peer, null, null,
            AuditRecord.Decision.DENIED, null, "tls handshake: " + why, 0, "closed"));
        server.metrics().handshake("failed");
        ctx.close();
        return;
      }
      try {
        Certificate[] certs = ctx.pipeline().get(SslHandler.class).engine().getSession()
            .getPeerCertificates();
        X509Certificate[] x = new X509Certificate[certs.length];
        for (int i = 0; i < certs.length; i++) {
          x[i] = (X509Certificate) certs[i];
        }
        chain = x;
        principal = Principal.of(x[0]);
      } catch (SSLPeerUnverifiedException | IdentityException | ClassCastException ex) {
        log.info("client {} refused: {}", peer, ex.getMessage());
        server.audit(new AuditRecord(Instant.now(), null, null, null, peer, null, null,
            AuditRecord.Decision.DENIED, null, "identity: " + ex.getMessage(), 0, "closed"));
        server.metrics().handshake("identity_refused");
        ctx.close();
        return;
      }
      server.metrics().handshake("ok");
      server.connected(this);
      log.debug("client {} connected from {}", principal.name(), peer);
      return;
    }
    if (evt instanceof IdleStateEvent) {
      if (inFlight.isEmpty()) {
        closeWith(Error.Code.CLOSING, "idle for " + server.limits().idleTimeoutMillis()
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
        || inFlight.size() >= server.limits().maxInFlightPerConnection())) {
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
        || f.getRequestCase() == ClientFrame.RequestCase.CANCEL) && !controlToken()) {
      int max = server.limits().controlPerSecond();
      String why = "pings and cancels: more than " + max + " per second on this connection"
          + " (limits.control_per_second)";
      if (!controlRefusing) {
        controlRefusing = true; // one audit record per burst, not one per refused frame
        server.admission().refusedByDoor(new Admission.Caller(principal, peer,
            Admission.Door.CLIENT), f.getRequestCase().name().toLowerCase(
                java.util.Locale.ROOT), why, "resource_exhausted");
      }
      answer(id, error(Error.Code.RESOURCE_EXHAUSTED, why).setReason(why));
      return;
    }
    switch (f.getRequestCase()) {
      case PING:
        answer(id, ServerFrame.newBuilder().setPong(Pong.newBuilder().setProtocol(1)
            .setServer(GatewayServer.version()).setPrincipal(principal.name())));
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

  /** Takes a token for a ping or a cancel; false past limits.control_per_second. */
  private boolean controlToken() {
    int rate = server.limits().controlPerSecond();
    long now = System.nanoTime();
    if (controlTokens < 0) {
      controlTokens = rate;
    } else {
      controlTokens = Math.min(rate, controlTokens + (now - controlRefill) / 1e9 * rate);
    }
    controlRefill = now;
    if (controlTokens < 1) {
      return false;
    }
    controlTokens -= 1;
    controlRefusing = false;
    return true;
  }

  /** Takes held requests while there is room for them. */
  private void drainHeld() {
    while (!held.isEmpty() && !closing && channel.isWritable()
        && inFlight.size() < server.limits().maxInFlightPerConnection()) {
      handle(held.poll());
    }
    updateReading();
  }

  // ---- requests --------------------------------------------------------------------------

  private Admission.Caller caller() {
    return new Admission.Caller(principal, peer, Admission.Door.CLIENT);
  }

  /** The call's or cast's arguments, decoded only once the policy allows the request. */
  private Admission.Args args(List<io.beamgate.gateway.proto.Term> protoArgs) {
    return () -> {
      List<Term> args = new ArrayList<>(protoArgs.size());
      for (int i = 0; i < protoArgs.size(); i++) {
        try {
          args.add(TermProto.fromProto(protoArgs.get(i), "args[" + i + "]",
              server.maxTermDepth()));
        } catch (TermProto.Rejected r) {
          throw new Admission.BadArgument(r.path(), r.getMessage());
        }
      }
      return args;
    };
  }

  /** Admits {@code r} or answers the refusal; null when refused. */
  private Admission.Admitted admit(long id, Admission.Request r, Admission.Args args) {
    Admission.Result res = server.admission().admit(caller(), r, args);
    if (res instanceof Admission.Refused no) {
      answer(id, refusal(no));
      return null;
    }
    return (Admission.Admitted) res;
  }

  private static Error.Builder refusal(Admission.Refused no) {
    Error.Builder e;
    switch (no.code()) {
      case PERMISSION_DENIED:
        e = error(Error.Code.PERMISSION_DENIED, "permission denied: " + no.detail());
        break;
      case INVALID_ARGUMENT:
        e = error(Error.Code.INVALID_ARGUMENT, "invalid argument" + (no.path() == null ? ""
            : " at " + no.path()) + ": " + no.reason());
        break;
      case RESOURCE_EXHAUSTED:
        e = error(Error.Code.RESOURCE_EXHAUSTED, no.detail());
        break;
      case UNAVAILABLE:
      default:
        e = error(Error.Code.UNAVAILABLE, no.detail());
        break;
    }
    e.setReason(no.reason());
    if (no.path() != null) {
      e.setPath(no.path());
    }
    if (no.rule() != null && no.code() == Admission.Code.PERMISSION_DENIED) {
      e.setRule(no.rule());
    }
    return e;
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
      server.admission().refusedByDoor(caller(), a.request.what(), notRetryable,
          "permission_denied");
      answer(id, error(Error.Code.PERMISSION_DENIED, "permission denied: " + notRetryable)
          .setReason(notRetryable).setRule(a.rule.id()));
      return;
    }
    BackendPool.Backend b = a.backend;
    InFlight req = new InFlight(a.request.what(), a, b, a.start);
    inFlight.put(id, req);
    CompletableFuture<Term> f = server.backends().callAsync(server.rpc(), b, c.getModule(),
        c.getFunction(), a.args, Duration.ofMillis(a.timeoutMillis(c.getTimeoutMs())),
        a.rule.limits().maxResultBytes(), other -> {
          req.backend = other;
          a.backend = other;
        });
    f.whenComplete((v, e) -> channel.eventLoop().execute(() -> completed(id, req, v, e)));
  }

  private void completed(long id, InFlight req, Term value, Throwable e) {
    if (inFlight.get(id) != req) {
      return; // cancelled, or the connection went away
    }
    finish(id, req);
    Admission.Admitted a = req.admitted;
    if (e == null) {
      long size = EtfEncoder.encodedSize(value);
      long max = a.rule.limits().maxResultBytes();
      if (size > max) {
        String why = "result of " + size + " bytes is over rule " + a.rule.id()
            + "'s max_result_bytes (" + max + ")";
        a.finish("result_too_large", why);
        answer(id, error(Error.Code.RESOURCE_EXHAUSTED, why).setReason(why));
        return;
      }
      io.beamgate.gateway.proto.Term t;
      try {
        t = TermProto.toProto(value, server.maxResultDepth());
      } catch (TermProto.TooDeep d) {
        a.finish("result_too_deep", d.getMessage());
        answer(id, error(Error.Code.RESOURCE_EXHAUSTED, "the result is " + d.getMessage()
            + "; the client protocol cannot carry it"));
        return;
      }
      a.finish("ok", null);
      answer(id, ServerFrame.newBuilder().setResult(t));
      return;
    }
    Throwable cause = e instanceof CompletionException && e.getCause() != null ? e.getCause() : e;
    if (cause instanceof RpcException r) {
      switch (r.kind()) {
        case BADRPC: {
          String text = TermText.format(r.badrpc());
          a.finish("badrpc", "badrpc: " + errorClass(r.reason()));
          answer(id, error(Error.Code.BAD_RPC, req.mfa + " on " + req.backend.node + " failed: "
              + abbreviate(text)).setErlang(text));
          return;
        }
        case TIMEOUT:
          a.finish("timeout", r.getMessage());
          answer(id, error(Error.Code.TIMEOUT, r.getMessage()
              + "; the call may still have run"));
          return;
        case TOO_LARGE: {
          String why = "result of " + r.reason() + " bytes (encoded, not decoded) is over rule "
              + a.rule.id() + "'s max_result_bytes (" + a.rule.limits().maxResultBytes() + ")";
          a.finish("result_too_large", why);
          answer(id, error(Error.Code.RESOURCE_EXHAUSTED, why).setReason(why));
          return;
        }
        case NODEDOWN:
          a.finish("outcome_unknown", r.getMessage());
          answer(id, error(Error.Code.OUTCOME_UNKNOWN, "backend " + req.backend.node
              + " went down during the call: it may or may not have run"));
          return;
        case NOT_CONNECTED:
        default:
          a.finish("unavailable", r.getMessage());
          answer(id, error(Error.Code.UNAVAILABLE, r.getMessage()));
          return;
      }
    }
    log.error("call {} for {} failed inside the gateway", req.mfa, principal.name(), cause);
    a.finish("internal", String.valueOf(cause));
    answer(id, error(Error.Code.INTERNAL, "internal error (logged by the gateway)"));
  }

  private void cast(long id, Cast c) {
    Admission.Admitted a = admit(id, Admission.Request.cast(c.getModule(), c.getFunction(),
        c.getArgsCount()), args(c.getArgsList()));
    if (a == null) {
      return;
    }
    try {
      server.rpc().cast(a.backend.node, c.getModule(), c.getFunction(), a.args,
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
        return List.of(TermProto.fromProto(s.getMessage(), "message", server.maxTermDepth()));
      } catch (TermProto.Rejected r) {
        throw new Admission.BadArgument(r.path(), r.getMessage());
      }
    });
    if (a == null) {
      return;
    }
    server.sender().send(s.getName(), a.backend.node, a.args.get(0));
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

  private AuditRecord record(String what, String target, AuditRecord.Decision d, String rule,
      String reason, long micros, String outcome) {
    Principal p = principal;
    return new AuditRecord(Instant.now(), p == null ? null : p.name(),
        p == null ? null : p.fingerprintSha256(), p == null ? null : p.serialHex(), peer, target, what,
        d, rule, reason, micros, outcome);
  }

  /** Reads from the client only while it has room for requests and reads our answers. */
  private void updateReading() {
    if (channel == null || !channel.isActive()) {
      return;
    }
    boolean read = held.isEmpty()
        && inFlight.size() < server.limits().maxInFlightPerConnection()
        && channel.isWritable();
    if (channel.config().isAutoRead() != read) {
      channel.config().setAutoRead(read);
    }
  }

  @Override
  public void channelWritabilityChanged(ChannelHandlerContext ctx) throws Exception {
    if (ctx.channel().isWritable()) {
      unwritableSince = 0;
      drainHeld(); // the client reads again: start what waited
    } else if (unwritableSince == 0) {
      unwritableSince = System.nanoTime();
      scheduleStallCheck();
    }
    updateReading();
    super.channelWritabilityChanged(ctx);
  }

  /**
   * Over limits.max_output_bytes and not a byte read by the client for
   * limits.output_stall_ms: a client that does not read, as opposed to one that reads a burst
   * of large answers slowly (which writability alone only slows down).
   */
  private boolean stalled() {
    io.netty.channel.ChannelOutboundBuffer ob = channel.unsafe().outboundBuffer();
    return !closing && unwritableSince != 0 && ob != null
        && ob.totalPendingWriteBytes() > server.limits().maxOutputBytes()
        && System.nanoTime() - unwritableSince
            >= server.limits().outputStallMillis() * 1_000_000L;
  }

  /** Checks again while the connection stays unwritable (no answer may come to trigger it). */
  private void scheduleStallCheck() {
    channel.eventLoop().schedule(() -> {
      if (stalled()) {
        closeNotReading();
      } else if (unwritableSince != 0 && !closing && channel.isActive()) {
        scheduleStallCheck();
      }
    }, server.limits().outputStallMillis(), java.util.concurrent.TimeUnit.MILLISECONDS);
  }

  /** A client that does not read its answers costs at most limits.max_output_bytes. */
  private void closeNotReading() {
    String why = "the client does not read its answers: more than "
        + server.limits().maxOutputBytes() + " bytes queued for it for "
        + server.limits().outputStallMillis() + " ms (limits.max_output_bytes,"
        + " limits.output_stall_ms)";
    log.info("client {} from {}: {}; closing", principal == null ? "?" : principal.name(),
        peer, why);
    server.admission().refusedByDoor(new Admission.Caller(principal, peer,
        Admission.Door.CLIENT), null, why, "closed");
    closing = true;
    held.clear();
    for (Map.Entry<Long, InFlight> e : new ArrayList<>(inFlight.entrySet())) {
      finish(e.getKey(), e.getValue());
      e.getValue().admitted.finish("abandoned", "connection closed: " + why);
    }
    channel.close();
  }

  private static Error.Builder error(Error.Code code, String message) {
    return Error.newBuilder().setCode(code).setMessage(message);
  }

  private void answer(long id, Error.Builder e) {
    answer(id, ServerFrame.newBuilder().setError(e));
  }

  private void answer(long id, ServerFrame.Builder f) {
    if (!channel.isActive()) {
      return;
    }
    if (stalled()) {
      closeNotReading();
      return;
    }
    channel.write(f.setId(id).build(), channel.voidPromise());
    if (!flushScheduled) {
      flushScheduled = true;
      channel.eventLoop().execute(() -> {
        flushScheduled = false;
        channel.flush();
      });
    }
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
      server.audit(record(null, null, AuditRecord.Decision.DENIED, null, fe.getMessage(), 0,
          code.name().toLowerCase(java.util.Locale.ROOT)));
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
      server.disconnected(this);
    }
    super.channelInactive(ctx);
  }

  /**
   * The kind of a remote failure without its values (which may hold arguments): the atom or
   * tuple tag, looking inside {@code {'EXIT', {Reason, Stack}}}.
   */
  static String errorClass(Term reason) {
    Term t = reason;
    for (int i = 0; i < 4; i++) {
      if (t instanceof Atom at) {
        return at.name();
      }
      if (!(t instanceof io.beamgate.node.term.Tuple tu) || tu.arity() == 0) {
        break;
      }
      if (tu.isTagged("EXIT", 2) || (tu.arity() == 2 && !(tu.get(0) instanceof Atom))) {
        t = tu.isTagged("EXIT", 2) ? tu.get(1) : tu.get(0);
        continue;
      }
      if (tu.arity() == 2 && tu.get(1) instanceof io.beamgate.node.term.ErlList
          && tu.get(0) instanceof Atom a0) {
        return a0.name(); // {Reason, Stack}
      }
      return tu.get(0) instanceof Atom a0 ? "{" + a0.name() + ", ...}" : "{...}";
    }
    return "(a non-atom reason)";
  }


  private static String abbreviate(String s) {
    return s.length() > 300 ? s.substring(0, 300) + "..." : s;
  }
}
