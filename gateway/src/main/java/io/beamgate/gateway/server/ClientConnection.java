package io.beamgate.gateway.server;

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
import io.beamgate.node.etf.EtfEncoder;
import io.beamgate.node.rpc.RpcException;
import io.beamgate.node.term.Atom;
import io.beamgate.node.term.Term;
import io.beamgate.node.term.TermText;
import io.beamgate.security.audit.AuditRecord;
import io.beamgate.security.guard.Verdict;
import io.beamgate.security.identity.IdentityException;
import io.beamgate.security.identity.Principal;
import io.beamgate.security.policy.Decision;
import io.beamgate.security.policy.Rule;
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
  private boolean closing;

  /** A request the cluster has not answered yet. */
  private static final class InFlight {
    final String mfa;
    final Limiter.Permit permit;
    volatile BackendPool.Backend backend; // BackendPool.callAsync may re-route a call never sent
    final long start;

    InFlight(String mfa, Limiter.Permit permit, BackendPool.Backend backend, long start) {
      this.mfa = mfa;
      this.permit = permit;
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
    peer = String.valueOf(channel.remoteAddress());
    if (peer.startsWith("/")) {
      peer = peer.substring(1);
    }
    super.channelActive(ctx);
  }

  @Override
  public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
    if (evt instanceof SslHandshakeCompletionEvent e) {
      if (!e.isSuccess()) {
        String why = rootMessage(e.cause());
        log.info("TLS handshake from {} failed: {}", peer, why);
        server.audit(new AuditRecord(Instant.now(), null, null, null, peer, null, null,
            AuditRecord.Decision.DENIED, null, "tls handshake: " + why, 0, "closed"));
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
        ctx.close();
        return;
      }
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
    if (principal == null || closing) {
      return; // not possible before the handshake; ignore what comes after closing
    }
    ClientFrame.RequestCase kind = f.getRequestCase();
    boolean takesASlot = kind == ClientFrame.RequestCase.CALL
        || kind == ClientFrame.RequestCase.CAST || kind == ClientFrame.RequestCase.SEND;
    if (takesASlot && (!held.isEmpty()
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

  /** Takes held requests while there is room for them. */
  private void drainHeld() {
    while (!held.isEmpty() && !closing
        && inFlight.size() < server.limits().maxInFlightPerConnection()) {
      handle(held.poll());
    }
  }

  // ---- requests --------------------------------------------------------------------------

  private void call(long id, Call c) {
    long start = System.nanoTime();
    int arity = c.getArgsCount();
    String mfa = c.getModule() + ":" + c.getFunction() + "/" + arity;
    Admitted a = admit(id, start, c.getModule(), c.getFunction(), c.getArgsList(), mfa);
    if (a == null) {
      return;
    }
    BackendPool.Backend b = a.backend;
    long timeout = a.rule.limits().timeoutMillis();
    if (c.getTimeoutMs() > 0) {
      timeout = Math.min(timeout, c.getTimeoutMs());
    }
    InFlight req = new InFlight(mfa, a.permit, b, start);
    inFlight.put(id, req);
    CompletableFuture<Term> f = server.backends().callAsync(server.rpc(), b, c.getModule(),
        c.getFunction(), a.args, Duration.ofMillis(timeout), other -> req.backend = other);
    f.whenComplete((v, e) -> channel.eventLoop().execute(() -> completed(id, req, a, v, e)));
  }

  private void completed(long id, InFlight req, Admitted a, Term value, Throwable e) {
    if (inFlight.get(id) != req) {
      return; // cancelled, or the connection went away
    }
    finish(id, req);
    long micros = (System.nanoTime() - req.start) / 1000;
    if (e == null) {
      long size = EtfEncoder.encodedSize(value);
      long max = a.rule.limits().maxResultBytes();
      if (size > max) {
        String why = "result of " + size + " bytes is over rule " + a.rule.id()
            + "'s max_result_bytes (" + max + ")";
        audit(req, a, micros, "result_too_large", why);
        answer(id, error(Error.Code.RESOURCE_EXHAUSTED, why).setReason(why));
        return;
      }
      io.beamgate.gateway.proto.Term t;
      try {
        t = TermProto.toProto(value, server.maxResultDepth());
      } catch (TermProto.TooDeep d) {
        audit(req, a, micros, "result_too_deep", d.getMessage());
        answer(id, error(Error.Code.RESOURCE_EXHAUSTED, "the result is " + d.getMessage()
            + "; the client protocol cannot carry it"));
        return;
      }
      audit(req, a, micros, "ok", null);
      answer(id, ServerFrame.newBuilder().setResult(t));
      return;
    }
    Throwable cause = e instanceof CompletionException && e.getCause() != null ? e.getCause() : e;
    if (cause instanceof RpcException r) {
      switch (r.kind()) {
        case BADRPC: {
          String text = TermText.format(r.badrpc());
          audit(req, a, micros, "badrpc", "badrpc: " + errorClass(r.reason()));
          answer(id, error(Error.Code.BAD_RPC, req.mfa + " on " + req.backend.node + " failed: "
              + abbreviate(text)).setErlang(text));
          return;
        }
        case TIMEOUT:
          audit(req, a, micros, "timeout", r.getMessage());
          answer(id, error(Error.Code.TIMEOUT, r.getMessage()
              + "; the call may still have run"));
          return;
        case NODEDOWN:
          audit(req, a, micros, "outcome_unknown", r.getMessage());
          answer(id, error(Error.Code.OUTCOME_UNKNOWN, "backend " + req.backend.node
              + " went down during the call: it may or may not have run"));
          return;
        case NOT_CONNECTED:
        default:
          audit(req, a, micros, "unavailable", r.getMessage());
          answer(id, error(Error.Code.UNAVAILABLE, r.getMessage()));
          return;
      }
    }
    log.error("call {} for {} failed inside the gateway", req.mfa, principal.name(), cause);
    audit(req, a, micros, "internal", String.valueOf(cause));
    answer(id, error(Error.Code.INTERNAL, "internal error (logged by the gateway)"));
  }

  private void cast(long id, Cast c) {
    long start = System.nanoTime();
    String mfa = c.getModule() + ":" + c.getFunction() + "/" + c.getArgsCount();
    Admitted a = admit(id, start, c.getModule(), c.getFunction(), c.getArgsList(), mfa);
    if (a == null) {
      return;
    }
    try {
      server.rpc().cast(a.backend.node, c.getModule(), c.getFunction(), a.args,
          Duration.ofMillis(a.rule.limits().timeoutMillis()));
      a.permit.release();
      auditDone(a, mfa, start, "cast");
      answer(id, ServerFrame.newBuilder().setOk(Ok.getDefaultInstance()));
    } catch (RpcException e) {
      a.permit.release();
      auditDone(a, mfa, start, "unavailable");
      answer(id, error(Error.Code.UNAVAILABLE, e.getMessage()));
    }
  }

  private void send(long id, Send s) {
    long start = System.nanoTime();
    String what = "send:" + s.getName();
    Decision d = server.state().policy().send(principal, s.getName());
    if (!d.allowed()) {
      deny(id, what, null, d);
      return;
    }
    Term msg;
    try {
      if (s.getName().isEmpty() || s.getName().codePointCount(0, s.getName().length())
          > Atom.MAX_LENGTH) {
        throw new TermProto.Rejected("name", "a registered name is an atom of 1.."
            + Atom.MAX_LENGTH + " characters");
      }
      msg = TermProto.fromProto(s.getMessage(), "message", server.maxTermDepth());
    } catch (TermProto.Rejected r) {
      invalid(id, what, d, r.path(), r.getMessage());
      return;
    }
    Verdict v = server.guard().check("send", s.getName(), 1, List.of(msg), d.rule().guard());
    if (!v.allowed()) {
      invalid(id, what, d, v.path() == null ? null : v.path().replace("args[0]", "message"),
          v.reason());
      return;
    }
    Admitted a = limits(id, what, d, List.of(msg), server.backends().pickForSend(msg));
    if (a == null) {
      return;
    }
    server.sender().send(s.getName(), a.backend.node, msg);
    a.permit.release();
    auditDone(a, what, start, "sent");
    answer(id, ServerFrame.newBuilder().setOk(Ok.getDefaultInstance()));
  }

  private void cancel(long id, long target) {
    InFlight req = inFlight.get(target);
    if (req != null) {
      finish(target, req);
      server.audit(record(req.mfa, req.backend.node, AuditRecord.Decision.ALLOWED, null,
          "cancelled by the client", (System.nanoTime() - req.start) / 1000, "cancelled"));
      answer(target, error(Error.Code.CANCELLED, "cancelled by the client"));
    }
    answer(id, ServerFrame.newBuilder().setOk(Ok.getDefaultInstance()));
  }

  // ---- admission -------------------------------------------------------------------------

  /** A request that passed the policy, the guard and the limits, with its backend. */
  private static final class Admitted {
    final Decision decision;
    final Rule rule;
    final List<Term> args;
    final Limiter.Permit permit;
    final BackendPool.Backend backend;

    Admitted(Decision decision, List<Term> args, Limiter.Permit permit,
        BackendPool.Backend backend) {
      this.decision = decision;
      this.rule = decision.rule();
      this.args = args;
      this.permit = permit;
      this.backend = backend;
    }
  }

  private Admitted admit(long id, long start, String module, String function,
      List<io.beamgate.gateway.proto.Term> protoArgs, String mfa) {
    if (!validName(module) || !validName(function)) {
      server.audit(record(mfa, null, AuditRecord.Decision.DENIED, null,
          "module and function must be atoms of 1..255 characters", 0, "invalid_argument"));
      answer(id, error(Error.Code.INVALID_ARGUMENT,
          "module and function must be atoms of 1..255 characters").setPath(
              validName(module) ? "function" : "module"));
      return null;
    }
    Decision d = server.state().policy().call(principal, module, function, protoArgs.size());
    if (!d.allowed()) {
      deny(id, mfa, null, d);
      return null;
    }
    List<Term> args = new ArrayList<>(protoArgs.size());
    try {
      for (int i = 0; i < protoArgs.size(); i++) {
        args.add(TermProto.fromProto(protoArgs.get(i), "args[" + i + "]",
            server.maxTermDepth()));
      }
    } catch (TermProto.Rejected r) {
      invalid(id, mfa, d, r.path(), r.getMessage());
      return null;
    }
    // A function no pattern names (module:*) is a name the client chose: it becomes an atom on
    // the backend, so it is charged to the atom budget like any argument.
    final String fn = function;
    boolean named = d.rule().calls().stream().anyMatch(p -> p.module().equals(module)
        && p.function().equals(fn));
    Verdict v = server.guard().check(module, function, args.size(), args, d.rule().guard(),
        named ? List.of() : List.of(function));
    if (!v.allowed()) {
      invalid(id, mfa, d, v.path(), v.reason());
      return null;
    }
    return limits(id, mfa, d, args, server.backends().pick(args));
  }

  private Admitted limits(long id, String what, Decision d, List<Term> args,
      BackendPool.Backend backend) {
    if (!server.enterGlobal()) {
      String why = "the gateway has " + server.limits().maxInFlight()
          + " requests in flight (limits.max_in_flight)";
      server.audit(record(what, null, AuditRecord.Decision.DENIED, d.rule().id(), why, 0,
          "resource_exhausted"));
      answer(id, error(Error.Code.RESOURCE_EXHAUSTED, why).setReason(why));
      return null;
    }
    Limiter.Permit rulePermit;
    try {
      rulePermit = server.limiter().acquire(d.rule(), principal.name());
    } catch (Limiter.Exhausted e) {
      server.leaveGlobal();
      server.audit(record(what, null, AuditRecord.Decision.DENIED, d.rule().id(),
          e.getMessage(), 0, "resource_exhausted"));
      answer(id, error(Error.Code.RESOURCE_EXHAUSTED, e.getMessage()).setReason(e.getMessage()));
      return null;
    }
    Limiter.Permit permit = new Limiter.Permit() {
      private boolean done;

      @Override
      public void release() {
        if (!done) {
          done = true;
          rulePermit.release();
          server.leaveGlobal();
        }
      }
    };
    if (backend == null) {
      permit.release();
      String why = "no backend node is up (" + server.backendSummary() + ")";
      server.audit(record(what, null, AuditRecord.Decision.ALLOWED, d.rule().id(), why, 0,
          "unavailable"));
      answer(id, error(Error.Code.UNAVAILABLE, why));
      return null;
    }
    return new Admitted(d, args, permit, backend);
  }

  private void deny(long id, String what, String path, Decision d) {
    String rule = d.rule() == null ? null : d.rule().id();
    server.audit(record(what, null, AuditRecord.Decision.DENIED, rule, d.reason(), 0,
        "permission_denied"));
    Error.Builder e = error(Error.Code.PERMISSION_DENIED, "permission denied: " + d.reason())
        .setReason(d.reason());
    if (rule != null) {
      e.setRule(rule);
    }
    answer(id, e);
  }

  private void invalid(long id, String what, Decision d, String path, String reason) {
    String where = path == null ? "" : " at " + path;
    server.audit(record(what, null, AuditRecord.Decision.DENIED,
        d.rule() == null ? null : d.rule().id(), reason + where, 0, "invalid_argument"));
    Error.Builder e = error(Error.Code.INVALID_ARGUMENT, "invalid argument" + where + ": "
        + reason).setReason(reason);
    if (path != null) {
      e.setPath(path);
    }
    answer(id, e);
  }

  private static boolean validName(String s) {
    return !s.isEmpty() && s.codePointCount(0, s.length()) <= Atom.MAX_LENGTH;
  }

  // ---- bookkeeping -----------------------------------------------------------------------

  private void finish(long id, InFlight req) {
    inFlight.remove(id);
    req.permit.release();
    if (!held.isEmpty()) {
      channel.eventLoop().execute(this::drainHeld);
    }
    updateReading();
  }

  private void audit(InFlight req, Admitted a, long micros, String outcome, String reason) {
    AuditRecord.Decision dec = a.decision.shadowDenied() ? AuditRecord.Decision.SHADOW_DENIED
        : AuditRecord.Decision.ALLOWED;
    String why = a.decision.shadowDenied() ? a.decision.reason()
        + (reason == null ? "" : "; " + reason) : reason;
    server.audit(record(req.mfa, req.backend.node, dec, a.rule.id(), why, micros, outcome));
  }

  private void auditDone(Admitted a, String what, long start, String outcome) {
    AuditRecord.Decision dec = a.decision.shadowDenied() ? AuditRecord.Decision.SHADOW_DENIED
        : AuditRecord.Decision.ALLOWED;
    server.audit(record(what, a.backend.node, dec, a.rule.id(),
        a.decision.shadowDenied() ? a.decision.reason() : null,
        (System.nanoTime() - start) / 1000, outcome));
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
    updateReading();
    super.channelWritabilityChanged(ctx);
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
      server.audit(record(req.mfa, req.backend.node, AuditRecord.Decision.ALLOWED, null,
          "connection closed by the gateway before the answer: " + why,
          (System.nanoTime() - req.start) / 1000, "abandoned"));
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
    if (c instanceof javax.net.ssl.SSLException) {
      log.info("TLS error with {}: {}", peer, rootMessage(c));
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
        server.audit(record(req.mfa, req.backend.node, AuditRecord.Decision.ALLOWED, null,
            "the client disconnected before the answer", (System.nanoTime() - req.start) / 1000,
            "abandoned"));
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

  private static String rootMessage(Throwable t) {
    Throwable c = t;
    while (c.getCause() != null && c.getCause() != c) {
      c = c.getCause();
    }
    return c.getMessage() == null ? c.getClass().getSimpleName() : c.getMessage();
  }

  private static String abbreviate(String s) {
    return s.length() > 300 ? s.substring(0, 300) + "..." : s;
  }
}
