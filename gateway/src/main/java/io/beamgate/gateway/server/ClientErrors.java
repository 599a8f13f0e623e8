package io.beamgate.gateway.server;

import io.beamgate.gateway.admission.Admission;
import io.beamgate.gateway.proto.Error;
import io.beamgate.node.term.Atom;
import io.beamgate.node.term.Term;

/** How the client door says no: admission's refusals and remote failures as protocol errors. */
final class ClientErrors {
  private ClientErrors() {}

  static Error.Builder error(Error.Code code, String message) {
    return Error.newBuilder().setCode(code).setMessage(message);
  }

  /** An admission refusal on the client protocol's wire. */
  static Error.Builder refusal(Admission.Refused no) {
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

  static String abbreviate(String s) {
    return s.length() > 300 ? s.substring(0, 300) + "..." : s;
  }
}
