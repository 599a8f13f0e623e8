package io.beamgate.node;

import io.beamgate.node.term.Term;

/**
 * Handles each message of a handler mailbox as it arrives, instead of queueing it. Runs on the
 * thread that delivers the message (an I/O thread for remote messages): it must not block.
 * An exception it throws is logged and the message dropped.
 */
@FunctionalInterface
public interface MessageHandler {
  void handle(Mailbox self, Term message);
}
