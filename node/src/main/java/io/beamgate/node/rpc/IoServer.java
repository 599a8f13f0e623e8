package io.beamgate.node.rpc;

import io.beamgate.node.Mailbox;
import io.beamgate.node.MessageHandler;
import io.beamgate.node.term.Atom;
import io.beamgate.node.term.Binary;
import io.beamgate.node.term.ErlList;
import io.beamgate.node.term.Int;
import io.beamgate.node.term.Pid;
import io.beamgate.node.term.Term;
import io.beamgate.node.term.Tuple;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A group leader for remote calls made from this node: it answers the Erlang IO protocol
 * ({@code io_request} / {@code io_reply}) so a remote function that prints never hangs its call.
 * Output is logged; input requests are answered {@code {error, enotsup}}.
 */
public final class IoServer implements MessageHandler {
  private static final Logger log = LoggerFactory.getLogger(IoServer.class);
  /** Output longer than this is cut in the log. */
  private static final int MAX_LOGGED_CHARS = 4096;
  private final String nodeName;

  public IoServer(String nodeName) {
    this.nodeName = nodeName;
  }

  @Override
  public void handle(Mailbox self, Term message) {
    // {io_request, From, ReplyAs, Request}
    if (!(message instanceof Tuple t) || !t.isTagged("io_request", 4)
        || !(t.get(1) instanceof Pid from)) {
      return;
    }
    Term reply = answer(t.get(3));
    self.send(from, Tuple.of(Atom.of("io_reply"), t.get(2), reply));
  }

  private Term answer(Term req) {
    if (req instanceof Tuple r && r.arity() >= 2 && r.get(0) instanceof Atom op) {
      switch (op.name()) {
        case "put_chars":
          Term chars = r.arity() == 3 ? r.get(2) : r.get(1);
          if (r.arity() <= 3) {
            log.info("output on {} from a remote call: {}", nodeName, text(chars));
          } else {
            log.info("output on {} from a remote call (format): {}", nodeName, r);
          }
          return Atom.OK;
        case "requests":
          if (r.get(1) instanceof ErlList l) {
            for (Term each : l.elements()) {
              Term res = answer(each);
              if (!Atom.OK.equals(res)) {
                return res;
              }
            }
          }
          return Atom.OK;
        case "setopts":
          return Atom.OK;
        default:
          break;
      }
    } else if (req instanceof Atom a && a.name().equals("getopts")) {
      return ErlList.NIL;
    }
    return Tuple.of(Atom.ERROR, Atom.of("enotsup"));
  }

  /** Flattens chardata (binaries, code points, nested lists) for the log, bounded. */
  static String text(Term chars) {
    StringBuilder sb = new StringBuilder();
    ArrayDeque<Term> stack = new ArrayDeque<>();
    stack.push(chars);
    while (!stack.isEmpty() && sb.length() < MAX_LOGGED_CHARS) {
      Term t = stack.pop();
      if (t instanceof Binary b) {
        sb.append(new String(b.unsafeArray(), StandardCharsets.UTF_8));
      } else if (t instanceof Int i && i.value() >= 0 && i.value() <= Character.MAX_CODE_POINT) {
        sb.appendCodePoint((int) i.value());
      } else if (t instanceof ErlList l) {
        if (!l.isProper()) {
          stack.push(l.tail());
        }
        for (int k = l.size() - 1; k >= 0; k--) {
          stack.push(l.get(k));
        }
      }
    }
    String s = sb.toString().stripTrailing();
    return s.length() > MAX_LOGGED_CHARS ? s.substring(0, MAX_LOGGED_CHARS) + "..." : s;
  }
}
