package io.beamgate.node;

import io.beamgate.node.dist.ControlMessage;
import io.beamgate.node.term.Term;

/**
 * Sees every control message that reaches a {@link LocalNode} before the node acts on it; a
 * relay (the bridge between two clusters) uses it to take the messages addressed to processes
 * it stands in for. Called on I/O threads: it must not block.
 */
@FunctionalInterface
public interface ControlInterceptor {
  /**
   * @param fromNode the node the message came from
   * @param message the control message
   * @param payload the message or exit reason that followed it, or null
   * @return true when the message is taken (the node then ignores it), false to let the node
   *     handle it as usual
   */
  boolean intercept(String fromNode, ControlMessage message, Term payload);
}
