package io.beamgate.node.rpc;

import io.beamgate.node.Mailbox;
import io.beamgate.node.MessageHandler;
import io.beamgate.node.term.Pid;
import io.beamgate.node.term.Term;
import io.beamgate.node.term.Tuple;

/**
 * The diagnostics mailbox {@code beamgate_echo}: {@code gen_server:call({beamgate_echo, Node},
 * Term)} replies {@code Term}, and a plain {@code {From, Ref, Term}} message is answered with
 * {@code From ! {Ref, Term}}, for any term. Operators use it to check connectivity, latency and
 * large messages.
 */
public final class Echo implements MessageHandler {
  public static final String NAME = "beamgate_echo";

  @Override
  public void handle(Mailbox self, Term msg) {
    if (!(msg instanceof Tuple t)) {
      return;
    }
    // {'$gen_call', {From, Tag}, Request}: Tag may be a ref or OTP 25's [alias | Ref].
    // The reply goes to the alias when the tag has one, so a caller that timed out never gets it.
    if (t.isTagged("$gen_call", 3)) {
      self.reply(t.get(1), t.get(2));
    } else if (t.arity() == 3 && t.get(0) instanceof Pid caller) {
      self.send(caller, Tuple.of(t.get(1), t.get(2)));
    }
  }
}
