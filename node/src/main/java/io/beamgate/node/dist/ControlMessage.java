package io.beamgate.node.dist;

import io.beamgate.node.term.Atom;
import io.beamgate.node.term.ErlList;
import io.beamgate.node.term.Int;
import io.beamgate.node.term.Pid;
import io.beamgate.node.term.Ref;
import io.beamgate.node.term.Term;
import io.beamgate.node.term.Tuple;

/**
 * Distribution control messages (erts "Distribution Protocol", section Protocol between
 * connected nodes). A control message is a tuple whose first element is the operation; some are
 * followed by a payload term (the message, or an exit reason). Trace-token variants (_TT) are
 * read as their plain form: the node does not take part in sequential tracing.
 */
public sealed interface ControlMessage {
  /** True when a payload term follows this control message on the wire. */
  default boolean hasPayload() {
    return false;
  }

  Term toTerm();

  record Link(Pid from, Pid to) implements ControlMessage {
    public Term toTerm() {
      return Tuple.of(Int.of(1), from, to);
    }
  }

  record Send(Pid to) implements ControlMessage {
    public boolean hasPayload() {
      return true;
    }

    public Term toTerm() {
      return Tuple.of(Int.of(2), Atom.of(""), to);
    }
  }

  record Exit(Pid from, Pid to, Term reason) implements ControlMessage {
    public Term toTerm() {
      return Tuple.of(Int.of(3), from, to, reason);
    }
  }

  record Unlink(Pid from, Pid to) implements ControlMessage {
    public Term toTerm() {
      return Tuple.of(Int.of(4), from, to);
    }
  }

  record RegSend(Pid from, Atom toName) implements ControlMessage {
    public boolean hasPayload() {
      return true;
    }

    public Term toTerm() {
      return Tuple.of(Int.of(6), from, Atom.of(""), toName);
    }
  }

  record GroupLeader(Pid from, Pid to) implements ControlMessage {
    public Term toTerm() {
      return Tuple.of(Int.of(7), from, to);
    }
  }

  record Exit2(Pid from, Pid to, Term reason) implements ControlMessage {
    public Term toTerm() {
      return Tuple.of(Int.of(8), from, to, reason);
    }
  }

  /** MONITOR_P: {@code toProc} is a pid or a registered name (atom). */
  record MonitorP(Pid from, Term toProc, Ref ref) implements ControlMessage {
    public Term toTerm() {
      return Tuple.of(Int.of(19), from, toProc, ref);
    }
  }

  record DemonitorP(Pid from, Term toProc, Ref ref) implements ControlMessage {
    public Term toTerm() {
      return Tuple.of(Int.of(20), from, toProc, ref);
    }
  }

  record MonitorPExit(Term fromProc, Pid to, Ref ref, Term reason) implements ControlMessage {
    public Term toTerm() {
      return Tuple.of(Int.of(21), fromProc, to, ref, reason);
    }
  }

  record SendSender(Pid from, Pid to) implements ControlMessage {
    public boolean hasPayload() {
      return true;
    }

    public Term toTerm() {
      return Tuple.of(Int.of(22), from, to);
    }
  }

  /** PAYLOAD_EXIT (24) and PAYLOAD_EXIT2 (26): the reason is the payload. */
  record PayloadExit(Pid from, Pid to, boolean exit2) implements ControlMessage {
    public boolean hasPayload() {
      return true;
    }

    public Term toTerm() {
      return Tuple.of(Int.of(exit2 ? 26 : 24), from, to);
    }
  }

  record PayloadMonitorPExit(Term fromProc, Pid to, Ref ref) implements ControlMessage {
    public boolean hasPayload() {
      return true;
    }

    public Term toTerm() {
      return Tuple.of(Int.of(28), fromProc, to, ref);
    }
  }

  /** SPAWN_REQUEST; its payload is the argument list. Never executed by this node. */
  record SpawnRequest(Ref reqId, Pid from, Term groupLeader, Tuple mfa, Term optList)
      implements ControlMessage {
    public boolean hasPayload() {
      return true;
    }

    public Term toTerm() {
      return Tuple.of(Int.of(29), reqId, from, groupLeader, mfa, optList);
    }
  }

  record SpawnReply(Ref reqId, Pid to, long flags, Term result) implements ControlMessage {
    public Term toTerm() {
      return Tuple.of(Int.of(31), reqId, to, Int.of(flags), result);
    }
  }

  record AliasSend(Pid from, Ref alias) implements ControlMessage {
    public boolean hasPayload() {
      return true;
    }

    public Term toTerm() {
      return Tuple.of(Int.of(33), from, alias);
    }
  }

  record UnlinkId(long id, Pid from, Pid to) implements ControlMessage {
    public Term toTerm() {
      return Tuple.of(Int.of(35), Int.of(id), from, to);
    }
  }

  record UnlinkIdAck(long id, Pid from, Pid to) implements ControlMessage {
    public Term toTerm() {
      return Tuple.of(Int.of(36), Int.of(id), from, to);
    }
  }

  /** A control message this node reads but does not act on (NODE_LINK, tracing and others). */
  record Other(int op, Tuple term, boolean hasPayload) implements ControlMessage {
    public Term toTerm() {
      return term;
    }
  }

  /**
   * Reads a control message. Operations with a payload are known by number, so even an
   * unsupported one is framed right.
   */
  static ControlMessage parse(Term t) throws DistProtocolException {
    if (!(t instanceof Tuple tu) || tu.arity() == 0 || !(tu.get(0) instanceof Int opTerm)) {
      throw new DistProtocolException("control message: " + abbreviate(t)
          + " (expected: a tuple starting with an integer)");
    }
    int op = (int) opTerm.value();
    try {
      switch (op) {
        case 1:
          return new Link(pid(tu, 1), pid(tu, 2));
        case 2:
        case 12:
          return new Send(pid(tu, 2));
        case 3:
        case 13:
          return new Exit(pid(tu, 1), pid(tu, 2), tu.get(3));
        case 4:
          return new Unlink(pid(tu, 1), pid(tu, 2));
        case 6:
        case 16:
          return new RegSend(pid(tu, 1), (Atom) tu.get(3));
        case 7:
          return new GroupLeader(pid(tu, 1), pid(tu, 2));
        case 8:
        case 18:
          return new Exit2(pid(tu, 1), pid(tu, 2), tu.get(3));
        case 19:
          return new MonitorP(pid(tu, 1), tu.get(2), (Ref) tu.get(3));
        case 20:
          return new DemonitorP(pid(tu, 1), tu.get(2), (Ref) tu.get(3));
        case 21:
          return new MonitorPExit(tu.get(1), pid(tu, 2), (Ref) tu.get(3), tu.get(4));
        case 22:
        case 23:
          return new SendSender(pid(tu, 1), pid(tu, 2));
        case 24:
        case 25:
          return new PayloadExit(pid(tu, 1), pid(tu, 2), false);
        case 26:
        case 27:
          return new PayloadExit(pid(tu, 1), pid(tu, 2), true);
        case 28:
          return new PayloadMonitorPExit(tu.get(1), pid(tu, 2), (Ref) tu.get(3));
        case 29:
        case 30:
          return new SpawnRequest((Ref) tu.get(1), pid(tu, 2), tu.get(3), (Tuple) tu.get(4),
              tu.get(5));
        case 31:
        case 32:
          return new SpawnReply((Ref) tu.get(1), pid(tu, 2), ((Int) tu.get(3)).value(),
              tu.get(4));
        case 33:
        case 34:
          return new AliasSend(pid(tu, 1), (Ref) tu.get(2));
        case 35:
          return new UnlinkId(((Int) tu.get(1)).value(), pid(tu, 2), pid(tu, 3));
        case 36:
          return new UnlinkIdAck(((Int) tu.get(1)).value(), pid(tu, 2), pid(tu, 3));
        default:
          return new Other(op, tu, false);
      }
    } catch (ClassCastException | IndexOutOfBoundsException e) {
      throw new DistProtocolException("malformed control message " + op + ": " + abbreviate(t));
    }
  }

  private static Pid pid(Tuple t, int i) {
    return (Pid) t.get(i);
  }

  private static String abbreviate(Term t) {
    String s = String.valueOf(t);
    return s.length() > 200 ? s.substring(0, 200) + "..." : s;
  }

  /** An empty list, as a spawn option list or reply argument. */
  static Term nil() {
    return ErlList.NIL;
  }
}
