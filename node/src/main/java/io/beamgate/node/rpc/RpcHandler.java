package io.beamgate.node.rpc;

import io.beamgate.node.term.Term;
import java.util.List;

/** A Java function callable from Erlang as {@code Module:Function/Arity}. */
@FunctionalInterface
public interface RpcHandler {
  /** The result term; an exception becomes the caller's {@code {badrpc, {'EXIT', ...}}}. */
  Term call(List<Term> args) throws Exception;
}
