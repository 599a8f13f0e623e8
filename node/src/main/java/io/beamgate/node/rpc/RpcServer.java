package io.beamgate.node.rpc;

import io.beamgate.node.LocalNode;
import io.beamgate.node.Mailbox;
import io.beamgate.node.term.Atom;
import io.beamgate.node.term.ErlList;
import io.beamgate.node.term.Pid;
import io.beamgate.node.term.Term;
import io.beamgate.node.term.Tuple;
import io.beamgate.node.term.Int;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Serves {@code rpc:call/4,5} from other nodes through a {@code rex} mailbox: each
 * {@code {call, M, F, Args, GroupLeader}} request (as a gen_server call, or erl_call's plain
 * {@code {From, Request}}) runs the Java handler registered for {@code M:F/length(Args)} on an
 * executor (never on an I/O thread) and answers as OTP's rex does; a function with no handler
 * is answered as rex answers for an undefined one. It also answers {@code rpc:sbcast} and
 * {@code rpc:multi_server_call} for the names registered on the node. Nothing but registered
 * handlers ever runs.
 */
public final class RpcServer implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(RpcServer.class);
  private final Map<String, RpcHandler> handlers = new ConcurrentHashMap<>();
  private final Executor executor;
  private final LocalNode node;
  private final Mailbox rex;

  private RpcServer(LocalNode node, Executor executor) {
    this.executor = executor;
    this.node = node;
    this.rex = node.createMailbox("rex", this::onMessage);
    node.spawnHandler(this::onSpawnRequest);
  }

  /**
   * Registers {@code rex} on {@code node}, and answers the spawn requests of OTP's erpc (which
   * {@code rpc:call/4,5} uses since OTP 23); handlers run on {@code executor}.
   */
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
    // rpc:cast's {'$gen_cast', {cast, M, F, Args, GL}}: run it, answer nothing.
    if (msg instanceof Tuple c && c.isTagged("$gen_cast", 2) && c.get(1) instanceof Tuple req
        && req.isTagged("cast", 5) && req.get(1) instanceof Atom m && req.get(2) instanceof Atom f
        && req.get(3) instanceof ErlList args && args.isProper()) {
      RpcHandler h = handlers.get(key(m.name(), f.name(), args.size()));
      if (h == null) {
        log.debug("rex: cast to unknown {}:{}/{}", m.name(), f.name(), args.size());
        return;
      }
      executor.execute(() -> {
        try {
          h.call(args.elements());
        } catch (Exception | Error e) {
          log.info("rpc cast {}:{}/{} failed: {}", m.name(), f.name(), args.size(),
              e.toString());
        }
      });
      return;
    }
    // The plain {From, Request} messages of rpc.erl's handle_info: erl_call and C nodes, sbcast.
    if (msg instanceof Tuple t && t.arity() == 2 && t.get(0) instanceof Pid from) {
      onPlainRequest(self, from, t.get(1));
      return;
    }
    // {'$gen_call', {From, Tag}, {call, M, F, Args, GL}}
    if (!(msg instanceof Tuple t) || !t.isTagged("$gen_call", 3)
        || !(t.get(1) instanceof Tuple from) || from.arity() != 2
        || !(from.get(0) instanceof Pid)) {
      log.debug("rex: ignoring {}", msg);
      return;
    }
    Term req = t.get(2);
    if (!(req instanceof Tuple call) || call.arity() < 4 || !call.isTagged("call", call.arity())
        || !(call.get(1) instanceof Atom m) || !(call.get(2) instanceof Atom f)
        || !(call.get(3) instanceof ErlList args) || !args.isProper()) {
      // OTP's rex ignores requests it does not know (the caller times out); answering with an
      // error is kinder and cannot be mistaken for a result.
      self.reply(from, badrpc(Tuple.of(Atom.of("unsupported_request"), req)));
      return;
    }
    // Replies go through gen:reply's rules: to the alias when the tag has one.
    call(m, f, args, result -> self.reply(from, result));
  }

  /**
   * {@code {From, Request}} sent straight to rex (rpc.erl's handle_info): erl_call's and C
   * nodes' {@code {call, M, F, A, GL}} (answered {@code From ! {rex, Result}}), sbcast's
   * {@code {sbcast, Name, Msg}}, multi_server_call's {@code {send, Name, Msg}} and
   * {@code features_request}. Each is answered at once; nothing here blocks.
   */
  private void onPlainRequest(Mailbox self, Pid from, Term req) {
    Atom rexName = Atom.of("rex");
    Atom here = node.nameAtom();
    if (req instanceof Tuple call && call.isTagged("call", 5)
        && call.get(1) instanceof Atom m && call.get(2) instanceof Atom f
        && call.get(3) instanceof ErlList args && args.isProper()) {
      call(m, f, args, result -> self.send(from, Tuple.of(rexName, result)));
    } else if (req instanceof Tuple b && (b.isTagged("sbcast", 3) || b.isTagged("send", 3))
        && b.get(1) instanceof Atom name) {
      boolean sbcast = b.isTagged("sbcast", 3);
      if (node.whereis(name.name()) == null) {
        self.send(from, Tuple.of(rexName, here, Tuple.of(Atom.of("nonexisting_name"), name)));
        return;
      }
      self.send(name.name(), here.name(), sbcast ? b.get(2) : Tuple.of(from, b.get(2)));
      if (sbcast) {
        self.send(from, Tuple.of(rexName, here, here));
      }
    } else if (req.equals(Atom.of("features_request"))) {
      self.send(from, Tuple.of(Atom.of("features_reply"), here, ErlList.of(Atom.of("erpc"))));
    } else {
      log.debug("rex: ignoring {}", req);
    }
  }

  /** Runs M:F(Args) on the executor and hands the result (or rex's badrpc) to {@code reply}. */
  private void call(Atom m, Atom f, ErlList args,
      java.util.function.Consumer<Term> reply) {
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
      reply.accept(result);
    });
  }

  /**
   * erpc's SPAWN_REQUEST: {@code erpc:execute_call(Ref, M, F, A)} or
   * {@code erpc:execute_cast(M, F, A)}, nothing else. The stand-in process exits with what
   * {@code execute_call} would: {@code {Ref, return, Value}} or {@code {Ref, error, Reason,
   * Stack}}, which the caller's erpc turns into its result or exception.
   */
  private Optional<Callable<Term>> onSpawnRequest(String from, Tuple mfa, List<Term> args) {
    boolean call = mfa.equals(Tuple.of(Atom.of("erpc"), Atom.of("execute_call"), Int.of(4)))
        && args.size() == 4;
    boolean cast = mfa.equals(Tuple.of(Atom.of("erpc"), Atom.of("execute_cast"), Int.of(3)))
        && args.size() == 3;
    if (!call && !cast) {
      return Optional.empty();
    }
    int i = call ? 1 : 0;
    if (!(args.get(i) instanceof Atom m) || !(args.get(i + 1) instanceof Atom f)
        || !(args.get(i + 2) instanceof ErlList a) || !a.isProper()) {
      return Optional.empty();
    }
    Term ref = call ? args.get(0) : null;
    RpcHandler h = handlers.get(key(m.name(), f.name(), a.size()));
    Term stack = ErlList.of(Tuple.of(m, f, a, ErlList.NIL));
    return Optional.of(() -> {
      if (h == null) {
        return call ? Tuple.of(ref, Atom.of("error"), Atom.of("undef"), stack)
            : Atom.of("normal");
      }
      try {
        Term v = h.call(a.elements());
        return call ? Tuple.of(ref, Atom.of("return"), v) : Atom.of("normal");
      } catch (Exception | Error e) {
        log.info("rpc handler {}:{}/{} failed: {}", m.name(), f.name(), a.size(), e.toString());
        Term reason = Tuple.of(Atom.of("java_exception"), Term.binary(String.valueOf(e)));
        return call ? Tuple.of(ref, Atom.of("error"), reason, stack) : Atom.of("normal");
      }
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
