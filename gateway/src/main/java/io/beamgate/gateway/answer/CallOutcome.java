package io.beamgate.gateway.answer;

import io.beamgate.gateway.admission.Admission;
import io.beamgate.gateway.proto.Error;
import io.beamgate.gateway.protocol.TermProto;
import io.beamgate.node.etf.EtfEncoder;
import io.beamgate.node.rpc.RpcException;
import io.beamgate.node.term.Atom;
import io.beamgate.node.term.Term;
import io.beamgate.node.term.TermText;
import java.util.concurrent.CompletionException;

/**
 * How an admitted call ended, in the client protocol's words: the result as a protocol term,
 * or the Error to answer, with the request finished and audited exactly once. Both client
 * doors answer through it (the native protocol's ClientConnection and the gRPC door), so the
 * same failure has the same code and message on both.
 */
public sealed interface CallOutcome {
  /** The call returned {@code term}. */
  record Value(io.beamgate.gateway.proto.Term term) implements CallOutcome {}

  /** The call was refused or failed. */
  record Failure(Error error) implements CallOutcome {}

  /** Ends {@code a} (audit, permit) with what the cluster answered. */
  public static CallOutcome of(Admission.Admitted a, Term value, Throwable e,
      int maxResultDepth) {
    String mfa = a.request.what();
    if (e == null) {
      long size = EtfEncoder.encodedSize(value);
      long max = a.rule.limits().maxResultBytes();
      if (size > max) {
        String why = "result of " + size + " bytes is over rule " + a.rule.id()
            + "'s max_result_bytes (" + max + ")";
        a.finish("result_too_large", why);
        return fail(Error.Code.RESOURCE_EXHAUSTED, why, why);
      }
      try {
        io.beamgate.gateway.proto.Term t = TermProto.toProto(value, maxResultDepth);
        a.finish("ok", null);
        return new Value(t);
      } catch (TermProto.TooDeep d) {
        a.finish("result_too_deep", d.getMessage());
        return fail(Error.Code.RESOURCE_EXHAUSTED, "the result is " + d.getMessage()
            + "; the client protocol cannot carry it", null);
      }
    }
    Throwable cause = e instanceof CompletionException && e.getCause() != null ? e.getCause() : e;
    if (cause instanceof RpcException r) {
      switch (r.kind()) {
        case BADRPC: {
          String text = TermText.format(r.badrpc());
          a.finish("badrpc", "badrpc: " + errorClass(r.reason()));
          return new Failure(Error.newBuilder().setCode(Error.Code.BAD_RPC)
              .setMessage(mfa + " on " + a.backend.node + " failed: " + abbreviate(text))
              .setErlang(text).build());
        }
        case TIMEOUT:
          a.finish("timeout", r.getMessage());
          return fail(Error.Code.TIMEOUT, r.getMessage() + "; the call may still have run",
              null);
        case TOO_LARGE: {
          String why = "result of " + r.reason() + " bytes (encoded, not decoded) is over rule "
              + a.rule.id() + "'s max_result_bytes (" + a.rule.limits().maxResultBytes() + ")";
          a.finish("result_too_large", why);
          return fail(Error.Code.RESOURCE_EXHAUSTED, why, why);
        }
        case NODEDOWN:
          a.finish("outcome_unknown", r.getMessage());
          return fail(Error.Code.OUTCOME_UNKNOWN, "backend " + a.backend.node
              + " went down during the call: it may or may not have run", null);
        case NOT_CONNECTED:
        default:
          a.finish("unavailable", r.getMessage());
          return fail(Error.Code.UNAVAILABLE, r.getMessage(), null);
      }
    }
    a.finish("internal", String.valueOf(cause));
    return fail(Error.Code.INTERNAL, "internal error (logged by the gateway)", null);
  }

  /** The native protocol's Error for a refusal by the admission path. */
  public static Error refusal(Admission.Refused no) {
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
    return e.build();
  }

  private static Failure fail(Error.Code code, String message, String reason) {
    Error.Builder b = error(code, message);
    if (reason != null) {
      b.setReason(reason);
    }
    return new Failure(b.build());
  }

  public static Error.Builder error(Error.Code code, String message) {
    return Error.newBuilder().setCode(code).setMessage(message);
  }

  /**
   * The kind of a remote failure without its values (which may hold arguments): the atom or
   * tuple tag, looking inside {@code {'EXIT', {Reason, Stack}}}.
   */
  public static String errorClass(Term reason) {
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

  /** At most 300 characters of {@code s}. */
  public static String abbreviate(String s) {
    return s.length() > 300 ? s.substring(0, 300) + "..." : s;
  }
}
