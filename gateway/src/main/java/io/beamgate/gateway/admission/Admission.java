package io.beamgate.gateway.admission;

import io.beamgate.node.term.Atom;
import io.beamgate.node.term.Term;
import io.beamgate.security.audit.AuditRecord;
import io.beamgate.security.guard.CodeShapes;
import io.beamgate.security.guard.GuardRule;
import io.beamgate.security.guard.TermGuard;
import io.beamgate.security.guard.Verdict;
import io.beamgate.security.identity.PeerIdentity;
import io.beamgate.security.identity.Principal;
import io.beamgate.security.policy.Decision;
import io.beamgate.security.policy.Policy;
import io.beamgate.security.policy.Rule;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import java.util.function.IntSupplier;
import java.util.function.Supplier;

/**
 * The one path every request from outside the cluster takes, whichever door it came through
 * (a client connection or a bridge link): identity, then the policy, then the arguments
 * (decoded only once the policy allows the request), the term guard and the code-shape check,
 * then the gateway's global limit and the rule's rate and concurrency, then a backend. Every
 * refusal is audited here, once; an admitted request is audited when its door finishes it
 * ({@link Admitted#finish}).
 *
 * <p>Calls, casts and sends all take a rule permit and a global slot (a cast or a send gives
 * them back once it is dispatched); a monitor by name takes a token of the rule's rate only.
 */
public final class Admission {
  /** The doors requests come through; they differ only where a door's wire does. */
  public enum Door {
    /**
     * A client of the native protocol: pids and references in arguments only when the rule
     * allows them; sends routed by {@code cluster.routing}.
     */
    CLIENT,
    /**
     * A bridge link: pids and references are the link's stand-ins (made by the translator, so
     * always allowed); sends and monitors by name go where {@code bridge.names} pins them.
     */
    BRIDGE
  }

  public enum Kind {
    CALL, CAST, SEND, MONITOR
  }

  /** Why a request was refused: the door maps the code onto its own wire. */
  public enum Code {
    PERMISSION_DENIED, INVALID_ARGUMENT, RESOURCE_EXHAUSTED, UNAVAILABLE
  }

  /**
   * Who asks, through which door: the principal, the remote address of the connection it came
   * in on ({@code peer}), the bridge link's name ({@code link}, null for clients) and, once
   * admission took it, the request's id (the same on every audit record of the request).
   */
  public record Caller(Principal principal, String peer, String link, Door door,
      String requestId) {
    /** A client of the protobuf protocol. */
    public static Caller client(PeerIdentity who) {
      return new Caller(who == null ? null : who.principal(), who == null ? null
          : who.address(), null, Door.CLIENT, null);
    }

    /** The other gateway on the bridge link {@code link}. */
    public static Caller bridge(PeerIdentity who, String link) {
      return new Caller(who.principal(), who.address(), link, Door.BRIDGE, null);
    }

    /** This caller for one request, whose audit records carry {@code id}. */
    public Caller forRequest(String id) {
      return new Caller(principal, peer, link, door, id);
    }

    /** An audit record about this caller's request (its principal, peer, link and id). */
    public AuditRecord.Builder audit() {
      return AuditRecord.of(principal, peer).link(link).requestId(requestId);
    }
  }

  /** Arguments that are decoded only when the policy has allowed the request. */
  public interface Args {
    List<Term> decode() throws BadArgument;
  }

  /** Arguments a door could not decode, with where in them. */
  public static final class BadArgument extends Exception {
    public final String path;

    public BadArgument(String path, String message) {
      super(message);
      this.path = path;
    }
  }

  /**
   * A request: a call or cast of {@code module:function/arity}, or a send or monitor to the
   * registered {@code name} (module and function null; a send's one argument is the message).
   */
  public record Request(Kind kind, String module, String function, int arity, String name) {
    public static Request call(String m, String f, int arity) {
      return new Request(Kind.CALL, m, f, arity, null);
    }

    public static Request cast(String m, String f, int arity) {
      return new Request(Kind.CAST, m, f, arity, null);
    }

    public static Request send(String name) {
      return new Request(Kind.SEND, null, null, 1, name);
    }

    public static Request monitor(String name) {
      return new Request(Kind.MONITOR, null, null, 0, name);
    }

    /** How audit records name it: {@code m:f/a}, {@code send:Name}, {@code monitor:Name}. */
    public String what() {
      return switch (kind) {
        case CALL, CAST -> module + ":" + function + "/" + arity;
        case SEND -> "send:" + name;
        case MONITOR -> "monitor:" + name;
      };
    }
  }

  /** The answer: admitted, or refused (already audited). */
  public sealed interface Result permits Admitted, Refused {}

  /** A refusal, audited; {@code rule} is the deciding rule's id when one decided. */
  public record Refused(Code code, String reason, String path, String rule) implements Result {
    /** The reason with where it applies, as error messages show it. */
    public String detail() {
      return reason + (path == null ? "" : " at " + path);
    }
  }

  /**
   * Names no request reaches, whatever a rule says: they would merge clusters, run arbitrary
   * code ({@code rex} runs any function; calls go by erpc, each decided by the policy) or stop
   * the node.
   */
  public static final Set<String> ISOLATED_NAMES = Set.of("rex", "net_kernel", "global_name_server",
      "global_group", "global_group_check", "erl_epmd", "auth", "code_server",
      "erl_prim_loader", "init", "user", "application_controller", "kernel_sup", "inet_db",
      "erts_code_purger", "logger", "standard_error", "file_server_2", "erl_signal_server",
      "kernel_safe_sup", "kernel_refc", "global_name_server_locker", "erpc", "peer");

  private final Supplier<Policy> policy;
  private final TermGuard guard;
  private final Limiter limiter;
  private final AtomicInteger globalInFlight = new AtomicInteger();
  private final IntSupplier maxInFlight;
  private final BackendPool backends;
  private final Supplier<Map<String, String>> pinnedNames;
  private final Consumer<AuditRecord> audit;
  private final Supplier<String> auditRefusal;

  public Admission(Supplier<Policy> policy, TermGuard guard, Limiter limiter, IntSupplier maxInFlight,
      BackendPool backends, Supplier<Map<String, String>> pinnedNames,
      Consumer<AuditRecord> audit, Supplier<String> auditRefusal) {
    this.policy = policy;
    this.guard = guard;
    this.limiter = limiter;
    this.maxInFlight = maxInFlight;
    this.backends = backends;
    this.pinnedNames = pinnedNames;
    this.audit = audit;
    this.auditRefusal = auditRefusal;
  }

  /** Requests admitted and not yet finished, through every door. */
  public int inFlight() {
    return globalInFlight.get();
  }

  private volatile io.beamgate.gateway.ops.GatewayMetrics metrics;

  /** Counts every request's end in {@code m}: refusals here, the rest in Admitted.finish. */
  public void observe(io.beamgate.gateway.ops.GatewayMetrics m) {
    this.metrics = m;
  }

  private void count(Kind kind, AuditRecord.Decision d, String outcome, String rule,
      long nanos) {
    count(kind.name(), d, outcome, rule, nanos);
  }

  private void count(String kind, AuditRecord.Decision d, String outcome, String rule,
      long nanos) {
    io.beamgate.gateway.ops.GatewayMetrics m = metrics;
    if (m != null) {
      m.request(kind, d.name().toLowerCase(java.util.Locale.ROOT), outcome, rule, nanos);
    }
  }

  /** Takes {@code r} from {@code c} through the whole path. */
  public Result admit(Caller c, Request r, Args args) {
    long start = System.nanoTime();
    Supplier<String> ids = requestIds;
    if (ids != null) {
      c = c.forRequest(ids.get());
    }
    Result res = decide(c, r, args, start);
    io.beamgate.gateway.ops.GatewayMetrics m = metrics;
    if (m != null) {
      m.decision(r.kind().name(), System.nanoTime() - start);
    }
    if (res instanceof Refused f) {
      count(r.kind(), f.code() == Code.UNAVAILABLE && f.rule() != null
          ? AuditRecord.Decision.FAILED : AuditRecord.Decision.DENIED,
          f.code().name().toLowerCase(java.util.Locale.ROOT), f.rule(),
          System.nanoTime() - start);
    }
    return res;
  }

  private Result decide(Caller c, Request r, Args args, long start) {
    String what = r.what();
    String blocked = auditRefusal.get();
    if (blocked != null) {
      return refuse(c, what, null, Code.UNAVAILABLE, blocked, null, AuditRecord.Decision.DENIED);
    }
    if (r.kind() == Kind.SEND || r.kind() == Kind.MONITOR) {
      if (!validName(r.name())) {
        return refuse(c, what, null, Code.INVALID_ARGUMENT, "a registered name is an atom of"
            + " 1.." + Atom.MAX_LENGTH + " characters", "name", AuditRecord.Decision.DENIED);
      }
    } else if (!validName(r.module()) || !validName(r.function())) {
      return refuse(c, what, null, Code.INVALID_ARGUMENT, "module and function must be atoms"
          + " of 1.." + Atom.MAX_LENGTH + " characters", validName(r.module()) ? "function"
          : "module", AuditRecord.Decision.DENIED);
    }
    if (r.name() != null && ISOLATED_NAMES.contains(r.name())) {
      return refuse(c, what, null, Code.PERMISSION_DENIED, "the process '" + r.name()
          + "' is never reachable through the gateway (it runs code or controls the node)",
          null, AuditRecord.Decision.DENIED);
    }
    Policy p = policy.get();
    Decision d = r.module() != null
        ? p.call(c.principal(), r.module(), r.function(), r.arity())
        : p.send(c.principal(), r.name());
    if (!d.allowed()) {
      return refuse(c, what, d.rule(), Code.PERMISSION_DENIED, d.reason(), null,
          AuditRecord.Decision.DENIED);
    }
    Rule rule = d.rule();
    List<Term> decoded;
    try {
      decoded = args.decode();
    } catch (BadArgument e) {
      return refuse(c, what, rule, Code.INVALID_ARGUMENT, e.getMessage(), e.path,
          AuditRecord.Decision.DENIED);
    }
    Code code = Code.INVALID_ARGUMENT;
    String why = null;
    String path = null;
    if (r.kind() != Kind.MONITOR) {
      GuardRule g = c.door() == Door.BRIDGE ? rule.guard().withPids(true).withRefs(true)
          : rule.guard();
      Verdict v;
      if (r.kind() == Kind.SEND) {
        v = guard.check("send", r.name(), 1, decoded, g, List.of(), c.principal().name());
      } else {
        // A function no pattern names exactly (module:*) is a name the client chose: it
        // becomes an atom on the backend, so it is charged to the atom budget too.
        boolean named = rule.calls().stream().anyMatch(cp -> cp.module().equals(r.module())
            && cp.function().equals(r.function()));
        v = guard.check(r.module(), r.function(), r.arity(), decoded, g,
            named ? List.of() : List.of(r.function()), c.principal().name());
      }
      if (!v.allowed()) {
        why = v.reason();
        path = v.path() == null ? null : r.kind() == Kind.SEND
            ? v.path().replace("args[0]", "message") : v.path();
      } else if (!rule.unsafe()) {
        CodeShapes.Finding f = r.kind() == Kind.SEND ? CodeShapes.inMessage(decoded.get(0))
            : CodeShapes.inArguments(decoded);
        if (f != null) {
          code = Code.PERMISSION_DENIED;
          why = f.reason() + "; only a rule marked unsafe: true lets such data through";
          path = f.path();
        }
      }
    }
    if (why != null) {
      return refuse(c, what, rule, code, why, path, AuditRecord.Decision.DENIED);
    }
    if (r.kind() == Kind.MONITOR) {
      try {
        limiter.rate(rule, c.principal().name());
      } catch (Limiter.Exhausted e) {
        return refuse(c, what, rule, Code.RESOURCE_EXHAUSTED, e.getMessage(), null,
            AuditRecord.Decision.DENIED);
      }
      BackendPool.Backend b = backendFor(c, r, decoded);
      if (b == null) {
        return refuse(c, what, rule, Code.UNAVAILABLE, "no backend node is up", null,
            AuditRecord.Decision.FAILED);
      }
      return new Admitted(this, c, r, d, decoded, () -> { }, b, start);
    }
    if (globalInFlight.incrementAndGet() > maxInFlight.getAsInt()) {
      globalInFlight.decrementAndGet();
      return refuse(c, what, rule, Code.RESOURCE_EXHAUSTED, "the gateway has "
          + maxInFlight.getAsInt() + " requests in flight (limits.max_in_flight)", null,
          AuditRecord.Decision.DENIED);
    }
    Limiter.Permit rulePermit;
    try {
      rulePermit = limiter.acquire(rule, c.principal().name());
    } catch (Limiter.Exhausted e) {
      globalInFlight.decrementAndGet();
      return refuse(c, what, rule, Code.RESOURCE_EXHAUSTED, e.getMessage(), null,
          AuditRecord.Decision.DENIED);
    }
    Limiter.Permit permit = new Limiter.Permit() {
      private boolean done;

      @Override
      public synchronized void release() {
        if (!done) {
          done = true;
          rulePermit.release();
          globalInFlight.decrementAndGet();
        }
      }
    };
    BackendPool.Backend b = backendFor(c, r, decoded);
    if (b == null) {
      permit.release();
      return refuse(c, what, rule, Code.UNAVAILABLE, "no backend node is up ("
          + backends.summary() + ")", null, AuditRecord.Decision.FAILED);
    }
    return new Admitted(this, c, r, d, decoded, permit, b, start);
  }

  private BackendPool.Backend backendFor(Caller c, Request r, List<Term> args) {
    switch (r.kind()) {
      case CALL:
      case CAST:
        return backends.pick(args);
      default:
        if (c.door() == Door.BRIDGE || pinnedNames.get().containsKey(r.name())) {
          return backends.pickForName(r.name(), pinnedNames.get());
        }
        return backends.pickForSend(args.isEmpty() ? Atom.UNDEFINED : args.get(0));
    }
  }

  private Refused refuse(Caller c, String what, Rule rule, Code code, String reason,
      String path, AuditRecord.Decision decision) {
    String ruleId = rule == null ? null : rule.id();
    audit.accept(record(c, null, what, decision, ruleId,
        reason + (path == null ? "" : " at " + path), 0, code.name().toLowerCase(
            java.util.Locale.ROOT)));
    return new Refused(code, reason, path, ruleId);
  }

  /** Audits what a door refused on its own (a malformed request, a duplicate id). */
  public void refusedByDoor(Caller c, String what, String reason, String outcome) {
    audit.accept(record(c, null, what, AuditRecord.Decision.DENIED, null, reason, 0, outcome));
    // Kinds of the doors' own refusals: a bounded set, whatever the request named.
    String kind = what == null ? "other" : what.startsWith("send:") ? "send"
        : what.startsWith("monitor:") ? "monitor" : what.startsWith("spawn") ? "spawn"
        : what.contains("/") ? "call" : "control";
    count(kind, AuditRecord.Decision.DENIED, outcome, null, 0);
  }

  static AuditRecord record(Caller c, String target, String what, AuditRecord.Decision d,
      String rule, String reason, long micros, String outcome) {
    return c.audit().target(target).mfa(what).decision(d).rule(rule).reason(reason)
        .latencyMicros(micros).outcome(outcome).build();
  }

  /**
   * Where request ids come from (one per admitted or refused request, e.g. the audit log's
   * {@code nextRequestId}); without it the audit log gives each record a fresh one.
   */
  public void requestIds(Supplier<String> ids) {
    this.requestIds = ids;
  }

  private volatile Supplier<String> requestIds;

  static boolean validName(String s) {
    return s != null && !s.isEmpty() && s.codePointCount(0, s.length()) <= Atom.MAX_LENGTH;
  }

  /**
   * An admitted request: its rule, decoded arguments, permit and backend. Its door dispatches
   * it, then calls {@link #finish} exactly once (later calls do nothing), which gives the
   * permit back and writes the audit record.
   */
  public static final class Admitted implements Result {
    private final Admission admission;
    public final Caller caller;
    public final Request request;
    public final Decision decision;
    public final Rule rule;
    public final List<Term> args;
    /** Where the request went; a call never sent may be re-routed (BackendPool.callAsync). */
    public volatile BackendPool.Backend backend;
    public final long start;
    private final Limiter.Permit permit;
    private boolean finished;

    Admitted(Admission admission, Caller caller, Request request, Decision decision,
        List<Term> args, Limiter.Permit permit, BackendPool.Backend backend, long start) {
      this.admission = admission;
      this.caller = caller;
      this.request = request;
      this.decision = decision;
      this.rule = decision.rule();
      this.args = args;
      this.permit = permit;
      this.backend = backend;
      this.start = start;
      this.decided = System.nanoTime();
    }

    /** When the decision was made (System.nanoTime): the backend stage starts here. */
    private final long decided;

    /** The rule's timeout, shortened to {@code requestedMillis} when that is positive. */
    public long timeoutMillis(long requestedMillis) {
      long t = rule.limits().timeoutMillis();
      return requestedMillis > 0 ? Math.min(t, requestedMillis) : t;
    }

    /**
     * Ends the request: the permit goes back and one audit record says how it ended
     * ({@code ok}, {@code cast}, {@code sent}, {@code timeout}, {@code badrpc}...). The
     * record's decision stays the policy's (allowed, or shadow_denied); the outcome says what
     * happened after it.
     */
    public void finish(String outcome, String reason) {
      synchronized (this) {
        if (finished) {
          return;
        }
        finished = true;
      }
      permit.release();
      AuditRecord.Decision dec = decision.shadowDenied() ? AuditRecord.Decision.SHADOW_DENIED
          : AuditRecord.Decision.ALLOWED;
      String why = decision.shadowDenied() ? decision.reason()
          + (reason == null ? "" : "; " + reason) : reason;
      long took = System.nanoTime() - start;
      admission.audit.accept(record(caller, backend.node, request.what(), dec, rule.id(), why,
          took / 1000, outcome));
      admission.count(request.kind(), dec, outcome, rule.id(), took);
      io.beamgate.gateway.ops.GatewayMetrics m = admission.metrics;
      if (m != null) {
        // the same end as the total's: the stages add up to it
        m.backend(request.kind().name(), start + took - decided);
      }
    }

    /** Gives the permit back without an audit record (the door audits on its own). */
    public void release() {
      permit.release();
    }
  }
}
