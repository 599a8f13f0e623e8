package io.beamgate.node;

import io.beamgate.node.term.Atom;
import io.beamgate.node.term.ErlList;
import io.beamgate.node.term.Int;
import io.beamgate.node.term.Pid;
import io.beamgate.node.term.Term;
import io.beamgate.node.term.Tuple;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@code global_name_server} of a visible node, playing the part of an OTP node that
 * registers no global names and knows no other node (kernel's global.erl, protocol version 8).
 * Every visible OTP node that connects runs global's connect protocol with it and waits for it
 * in {@code global:sync()}, and {@code global:register_name} asks it to lock and register:
 * without answers both would wait forever.
 *
 * <p>What it answers, per connecting node: {@code init_connect} with its own init_connect and
 * init_connect_ack (a locker pid and an empty partition); the peer locker's
 * {@code lock_set} with {@code lock_set} (its side is always lockable: it holds nothing) and
 * then its {@code exchange} (no names); the peer's {@code exchange} with {@code resolved} (no
 * operations, no known nodes); {@code new_nodes} (a peer introducing the nodes it synced with)
 * with {@code in_sync} to each of them, as global's sync_others does. Calls {@code set_lock}/{@code del_lock} answer {@code true},
 * {@code register}/{@code register_ext} {@code yes}, {@code unregister} {@code ok}; the names
 * are not kept (this node runs no code that would look them up). Everything else (in_sync,
 * lost_connection and the rest of the partition bookkeeping) is ignored: this node
 * never introduces nodes to each other, never disconnects anyone, and its own connections are
 * left to the peers' logic.
 */
final class GlobalNameServer implements MessageHandler {
  static final String NAME = "global_name_server";
  private static final Logger log = LoggerFactory.getLogger(GlobalNameServer.class);
  private static final int VSN = 8;
  private static final Atom CAST = Atom.of("$gen_cast");

  private final Pid locker;
  private final AtomicLong tags = new AtomicLong();
  /**
   * Per peer node: {my tag, his tag} of the connect session in progress (one per node name,
   * replaced by the node's next init_connect, removed once resolved).
   */
  private final Map<String, Term[]> sessions = new ConcurrentHashMap<>();

  GlobalNameServer(Pid locker) {
    this.locker = locker;
  }

  @Override
  public void handle(Mailbox self, Term msg) {
    if (msg instanceof Tuple t && t.isTagged("$gen_cast", 2) && t.get(1) instanceof Tuple c) {
      onCast(self, c);
    } else if (msg instanceof Tuple t && t.isTagged("$gen_call", 3)
        && t.get(2) instanceof Tuple req && req.arity() >= 1 && req.get(0) instanceof Atom op) {
      onCall(self, t.get(1), op.name());
    } else if (msg instanceof Tuple t && t.isTagged("$gen_call", 3) && t.get(2) instanceof Atom a) {
      onCall(self, t.get(1), a.name());
    }
    // Plain messages (init_connect_ack, lost_connection, remove_connection, cancel_connect,
    // whereis from local callers) need no answer from a node that is never part of a session
    // it did not answer.
  }

  private void onCast(Mailbox self, Tuple c) {
    String node = self.node().name();
    if (c.isTagged("init_connect", 4) && c.get(2) instanceof Atom peer) {
      Term hisTag = versionedTag(c.get(1));
      if (hisTag == null) {
        log.info("global: init_connect from {} with version {} (expected: {Vsn, Tag})",
            peer.name(), c.get(1));
        return;
      }
      Term myTag = Int.of(tags.incrementAndGet());
      sessions.put(peer.name(), new Term[] {myTag, hisTag});
      Term initMsg = Tuple.of(Atom.of("locker"), Atom.of("no_longer_a_pid"), ErlList.NIL,
          locker);
      cast(self, peer.name(), Tuple.of(Atom.of("init_connect"),
          Tuple.of(Int.of(VSN), myTag), Atom.of(node), initMsg));
      self.send(NAME, peer.name(), Tuple.of(Atom.of("init_connect_ack"), Atom.of(node),
          hisTag, myTag));
    } else if (c.isTagged("lock_set", 5) && c.get(1) instanceof Pid hisLocker
        && Atom.TRUE.equals(c.get(2))) {
      Term[] s = sessions.get(hisLocker.node().name());
      if (s == null || !s[0].equals(c.get(4))) {
        return; // a stale session: its locker gives up on its own
      }
      String peer = hisLocker.node().name();
      cast(self, peer, Tuple.of(Atom.of("lock_set"), locker, Atom.TRUE, ErlList.NIL, s[1]));
      // Our side of the partition is locked (it is just this node): send our names, none.
      cast(self, peer, Tuple.of(Atom.of("exchange"), Atom.of(node), ErlList.NIL, ErlList.NIL,
          s[1]));
    } else if (c.isTagged("new_nodes", 6) && c.get(4) instanceof ErlList nodes) {
      // A peer synced with nodes we now share a partition with; they count on us, as on any
      // member, to confirm (global's sync_others): in_sync marks us synced there, so their
      // global:sync() does not wait for us.
      for (Term n : nodes.elements()) {
        Term name = n instanceof Tuple nv && nv.arity() == 2 ? nv.get(0) : n;
        if (name instanceof Atom other && !other.name().equals(node)) {
          cast(self, other.name(), Tuple.of(Atom.of("in_sync"), Atom.of(node), Atom.TRUE));
        }
      }
    } else if (c.isTagged("exchange", 5) && c.get(1) instanceof Atom peer) {
      Term[] s = sessions.get(peer.name());
      if (s == null || !s[0].equals(c.get(4))) {
        return;
      }
      cast(self, peer.name(), Tuple.of(Atom.of("resolved"), Atom.of(node), ErlList.NIL,
          ErlList.NIL, Atom.of("unused"), ErlList.NIL, s[1]));
      sessions.remove(peer.name());
    }
  }

  /** {Vsn, Tag} or a longer tuple starting so (global accepts newer versions' tuples). */
  private static Term versionedTag(Term vsn) {
    return vsn instanceof Tuple v && v.arity() >= 2 && v.get(0) instanceof Int ? v.get(1) : null;
  }

  private void onCall(Mailbox self, Term from, String op) {
    Term reply = switch (op) {
      case "set_lock", "del_lock" -> Atom.TRUE;
      case "register", "register_ext" -> Atom.of("yes");
      case "unregister" -> Atom.OK;
      case "get_known", "get_synced" -> ErlList.NIL;
      case "get_protocol_version" -> Int.of(VSN);
      default -> null;
    };
    if (reply != null) {
      self.reply(from, reply);
    }
  }

  private static void cast(Mailbox self, String node, Term msg) {
    self.send(NAME, node, Tuple.of(CAST, msg));
  }
}
