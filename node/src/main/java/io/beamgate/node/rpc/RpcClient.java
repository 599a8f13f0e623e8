package io.beamgate.node.rpc;

import io.beamgate.node.LocalNode;
import io.beamgate.node.Mailbox;
import io.beamgate.node.dist.DistFlags;
import io.beamgate.node.term.Atom;
import io.beamgate.node.term.ErlList;
import io.beamgate.node.term.Ref;
import io.beamgate.node.term.Term;
import io.beamgate.node.term.Tuple;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Asynchronous {@code rpc:call/5}: many calls in flight without a thread or a mailbox each.
 * One handler mailbox receives every answer (erpc's DOWN, rex's reply, nodedown) and completes
 * the matching future on the I/O thread; use the {@code *Async} stages for heavy work.
 * Results and errors are those of {@link Rpc#call}.
 */
public final class RpcClient {
  private static final Atom ERPC = Atom.of("erpc");
  private static final Atom EXECUTE_CALL = Atom.of("execute_call");
  private static final Atom NODEDOWN = Atom.of("nodedown");

  private final LocalNode self;
  private final Mailbox replies;
  private final Map<Ref, Pending> pending = new ConcurrentHashMap<>();
  private final Set<String> watched = ConcurrentHashMap.newKeySet();

  private record Pending(CompletableFuture<Term> future, String node, Ref res, boolean erpc) {}

  /** What {Res, return, Value} adds to Value's encoding: a reference and two atoms. */
  static final long ANSWER_OVERHEAD = 128;

  public RpcClient(LocalNode self) {
    this.self = self;
    this.replies = self.createMailbox(null, (mb, msg) -> onMessage(msg));
  }

  /** Calls {@code module:function(args)} on {@code node}; the future fails with RpcException. */
  public CompletableFuture<Term> callAsync(String node, String module, String function,
      List<? extends Term> args, Duration timeout) {
    return callAsync(node, module, function, args, timeout, 0);
  }

  /**
   * As above, with a cap on the answer's encoded size (0: none): a larger answer is never
   * decoded (it may be huge), and the call fails with {@link RpcException.Kind#TOO_LARGE}.
   * Applies to erpc calls (every OTP since 23).
   */
  public CompletableFuture<Term> callAsync(String node, String module, String function,
      List<? extends Term> args, Duration timeout, long maxAnswerBytes) {
    CompletableFuture<Term> f = new CompletableFuture<>();
    if (self.isConnected(node)) {
      send(f, node, module, function, args, maxAnswerBytes);
    } else {
      CompletableFuture.runAsync(() -> {
        try {
          self.connect(node, timeout);
          send(f, node, module, function, args, maxAnswerBytes);
        } catch (Exception e) {
          f.completeExceptionally(new RpcException(RpcException.Kind.NOT_CONNECTED, NODEDOWN,
              "cannot connect to " + node + ": " + e.getMessage()));
        }
      });
    }
    return f.orTimeout(timeout.toMillis(), TimeUnit.MILLISECONDS).exceptionallyCompose(e -> {
      Throwable cause = e instanceof CompletionException && e.getCause() != null
          ? e.getCause() : e;
      if (cause instanceof TimeoutException) {
        return CompletableFuture.failedFuture(new RpcException(RpcException.Kind.TIMEOUT,
            Atom.of("timeout"), "no answer from " + node + " within " + timeout.toMillis()
                + " ms"));
      }
      return CompletableFuture.failedFuture(cause);
    });
  }

  /**
   * As {@code rpc:cast/4}: asks {@code node}'s rex to run {@code module:function(args)} and
   * answers nothing. Throws RpcException NOT_CONNECTED when no connection can be made within
   * {@code timeout}; whether the function ran is never reported.
   */
  public void cast(String node, String module, String function, List<? extends Term> args,
      Duration timeout) throws RpcException {
    if (!self.isConnected(node)) {
      try {
        self.connect(node, timeout);
      } catch (Exception e) {
        throw new RpcException(RpcException.Kind.NOT_CONNECTED, NODEDOWN,
            "cannot connect to " + node + ": " + e.getMessage());
      }
    }
    replies.send("rex", node, Tuple.of(Atom.of("$gen_cast"), Tuple.of(Atom.of("cast"),
        Atom.of(module), Atom.of(function), ErlList.of(args), self.groupLeader())));
  }

  private void send(CompletableFuture<Term> f, String node, String module, String function,
      List<? extends Term> args, long maxAnswerBytes) {
    if (watched.add(node)) {
      replies.monitorNode(node);
    }
    Ref res = self.makeRef();
    if (self.peerHas(node, DistFlags.SPAWN)) {
      // Registered before the request goes out: the answer may come back at once.
      Ref reqId = self.makeRef();
      pending.put(reqId, new Pending(f, node, res, true));
      if (maxAnswerBytes > 0) {
        // the DOWN's reason is {Res, return, Value}: a little more than the value itself
        self.limitPayload(reqId, maxAnswerBytes + ANSWER_OVERHEAD);
      }
      f.whenComplete((v, e) -> {
        if (maxAnswerBytes > 0) {
          self.clearPayloadLimit(reqId);
        }
        if (pending.remove(reqId) != null) {
          replies.demonitor(reqId); // timed out: no DOWN is wanted any more
        }
      });
      self.spawnRequest(replies, reqId, node, ERPC, EXECUTE_CALL,
          List.of(res, Atom.of(module), Atom.of(function), ErlList.of(args)));
    } else {
      pending.put(res, new Pending(f, node, res, false));
      f.whenComplete((v, e) -> pending.remove(res));
      Term request = Tuple.of(Atom.of("call"), Atom.of(module), Atom.of(function),
          ErlList.of(args), self.groupLeader());
      replies.send("rex", node, Tuple.of(Atom.of("$gen_call"), Tuple.of(replies.self(), res),
          request));
    }
  }

  private void onMessage(Term msg) {
    if (!(msg instanceof Tuple t)) {
      return;
    }
    if (t.isTagged("DOWN", 5) && t.get(1) instanceof Ref reqId) {
      Pending p = pending.remove(reqId);
      if (p != null && t.get(4) instanceof Tuple big && big.arity() == 2
          && Atom.of(io.beamgate.node.dist.DistConnections.PAYLOAD_TOO_LARGE).equals(big.get(0))) {
        p.future().completeExceptionally(new RpcException(RpcException.Kind.TOO_LARGE,
            big.get(1), "the answer from " + p.node() + " is " + big.get(1) + " bytes, over the"
                + " cap on it; it was not decoded (the call ran)"));
      } else if (p != null) {
        complete(p, () -> Rpc.erpcResult(p.node(), p.res(), t.get(4)));
      }
    } else if (t.isTagged("spawn_reply", 4) && t.get(1) instanceof Ref reqId) {
      Pending p = pending.remove(reqId);
      if (p != null) {
        p.future().completeExceptionally(new RpcException(RpcException.Kind.BADRPC, t.get(3),
            p.node() + " refused to spawn erpc:execute_call/4: " + t.get(3)));
      }
    } else if (t.isTagged("nodedown", 2) && t.get(1) instanceof Atom node) {
      watched.remove(node.name());
      pending.values().removeIf(p -> {
        if (p.node().equals(node.name())) {
          p.future().completeExceptionally(new RpcException(RpcException.Kind.NODEDOWN, NODEDOWN,
              "connection to " + p.node() + " went down during the call: its outcome is"
                  + " unknown"));
          return true;
        }
        return false;
      });
    } else if (t.arity() == 2 && t.get(0) instanceof Ref ref) {
      Pending p = pending.remove(ref);
      if (p != null && !p.erpc()) {
        complete(p, () -> {
          Term reply = t.get(1);
          if (reply instanceof Tuple r && r.isTagged("badrpc", 2)) {
            throw new RpcException(RpcException.Kind.BADRPC, r.get(1),
                p.node() + " answered " + r);
          }
          return reply;
        });
      }
    }
  }

  private interface Result {
    Term get() throws RpcException;
  }

  private static void complete(Pending p, Result r) {
    try {
      p.future().complete(r.get());
    } catch (RpcException e) {
      p.future().completeExceptionally(e);
    }
  }
}
