package io.beamgate.node.rpc;

import io.beamgate.node.LocalNode;
import io.beamgate.node.Mailbox;
import io.beamgate.node.term.Atom;
import io.beamgate.node.term.ErlList;
import io.beamgate.node.term.Pid;
import io.beamgate.node.term.Term;
import io.beamgate.node.term.Tuple;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Serves {@code rpc:call/4,5} from other nodes through a {@code rex} mailbox: each
 * {@code {call, M, F, Args, GroupLeader}} request runs the Java handler registered for
 * {@code M:F/length(Args)} on an executor (never on an I/O thread) and answers as OTP's rex
 * does. Nothing but registered handlers ever runs.
 */
public final class RpcServer implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(RpcServer.class);
  private final Map<String, RpcHandler> handlers = new ConcurrentHashMap<>();
  private final Executor executor;
  private final Mailbox rex;

  private RpcServer(LocalNode node, Executor executor) {
    this.executor = executor;
    this.rex = node.createMailbox("rex", this::onMessage);
  }

  /** Registers {@code rex} on {@code node}; handlers run on {@code executor}. */
  public static RpcServer start(LocalNode node, Executor executor) {
    return new RpcServer(node, executor);
  }

  /** Makes {@code module:function/arity} callable. */
  public RpcServer register(String module, String function, int arity, RpcHandler handler) {
    handlers.put(key(module, function, arity), handler);
    return this;
  }

  private static String key(String m, String f, int arity) {
    return m + ":" + f + "/" + arity;
  }

  private void onMessage(Mailbox self, Term msg) {
    // {'$gen_call', {From, Tag}, {call, M, F, Args, GL}}
    if (!(msg instanceof Tuple t) || !t.isTagged("$gen_call", 3)
        || !(t.get(1) instanceof Tuple from) || from.arity() != 2
        || !(from.get(0) instanceof Pid caller)) {
      log.debug("rex: ignoring {}", msg);
      return;
    }
    Term tag = from.get(1);
    Term req = t.get(2);
    if (!(req instanceof Tuple call) || call.arity() < 4 || !call.isTagged("call", call.arity())
        || !(call.get(1) instanceof Atom m) || !(call.get(2) instanceof Atom f)
        || !(call.get(3) instanceof ErlList args) || !args.isProper()) {
      self.send(caller, Tuple.of(tag, badrpc(Tuple.of(Atom.of("unsupported_request"), req))));
      return;
    }
    List<Term> argv = args.elements();
    RpcHandler h = handlers.get(key(m.name(), f.name(), argv.size()));
    executor.execute(() -> {
      Term result;
      if (h == null) {
        result = badrpc(Tuple.of(Atom.of("EXIT"), Tuple.of(Atom.of("undef"),
            ErlList.of(Tuple.of(m, f, args, ErlList.NIL)))));
      } else {
        try {
          result = h.call(argv);
        } catch (Exception | Error e) {
          log.info("rpc handler {}:{}/{} failed: {}", m.name(), f.name(), argv.size(),
              e.toString());
          result = badrpc(Tuple.of(Atom.of("EXIT"), Tuple.of(Tuple.of(Atom.of("java_exception"),
              Term.binary(String.valueOf(e))), ErlList.of(Tuple.of(m, f, args, ErlList.NIL)))));
        }
      }
      self.send(caller, Tuple.of(tag, result));
    });
  }

  private static Term badrpc(Term reason) {
    return Tuple.of(Atom.of("badrpc"), reason);
  }

  @Override
  public void close() {
    rex.close();
  }
}
