package io.beamgate.node;

import io.beamgate.node.term.Term;
import io.beamgate.node.term.Tuple;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;

/**
 * Decides what a SPAWN_REQUEST from another node may do. The node never spawns code: a handler
 * may only offer a Java task that stands in for the requested process, and whose result becomes
 * that process's exit reason (what monitors and links of the requester see).
 */
@FunctionalInterface
public interface SpawnHandler {
  /**
   * The task standing in for {@code mfa} ({@code {Module, Function, Arity}}) applied to
   * {@code args}, or empty to refuse the request (answered with a {@code notsup} error).
   */
  Optional<Callable<Term>> accept(String fromNode, Tuple mfa, List<Term> args);
}
