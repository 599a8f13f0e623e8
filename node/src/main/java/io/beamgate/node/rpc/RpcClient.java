package io.beamgate.node.rpc;

import io.beamgate.node.LocalNode;
import io.beamgate.node.Mailbox;
import io.beamgate.node.dist.DistFlags;
import io.beamgate.node.term.Atom;
import io.beamgate.node.term.ErlList;
import io.beamgate.node.term.Ref;
import io.beamgate.node.term.Term;
import io.beamgate.node.term.Tuple;
import io.netty.util.concurrent.EventExecutor;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledExecutorService;

/**
 * Asynchronous {@code rpc:call/5}: many calls in flight without a thread or a mailbox each.
 * One handler mailbox receives every answer (erpc's DOWN, rex's reply, nodedown) and completes
 * the matching future on the I/O thread; use the {@code *Async} stages for heavy work.
 * Results and errors are those of {@link Rpc#call}.
 *
 * <p>Timeouts: no timer per call. A call's deadline is checked every
 * {@link io.beamgate.node.NodeConfig#rpcSweepPeriod} (20 ms by default) on the I/O thread of its
 * node's connection, which also completes it on a timeout: a call never fails before its
 * timeout, and fails at most about one period after it.
 */
public final class RpcClient {
  private static final Atom ERPC = Atom.of("erpc");
  private static final Atom EXECUTE_CALL = Atom.of("execute_call");
  private static final Atom NODEDOWN = Atom.of("nodedown");

  private final LocalNode self;
  private final Mailbox replies;
  private final Map<Ref, Pending> pending = new ConcurrentHashMap<>();
  private final Set<String> watched = ConcurrentHashMap.newKeySet();

  private final long sweepNanos;
  /** One deadline sweep per I/O thread of the node (each a Netty EventExecutor, internally). */
  private final Map<ScheduledExecutorService, DeadlineSweep> sweeps = new ConcurrentHashMap<>();

  private record Pending(CompletableFuture<Term> future, String node, Ref res, boolean erpc) {}

  /** A call's future and deadline, as its I/O thread's sweep watches it. */
  private static final class Call implements DeadlineSweep.Expiring {
    final CompletableFuture<Term> future = new CompletableFuture<>();
    final String node;
    final long deadline;
    final long timeoutMs;
    // Dropped when the call ends, so the sweep does not keep a result alive until its next
    // check; a stale read only means the future is seen done.
    private CompletableFuture<Term> watched = future;

    Call(String node, Duration timeout) {
      this.node = node;
      // Capped so that now + timeout cannot wrap (about 73 years).
      long nanos = timeout.compareTo(Duration.ofNanos(Long.MAX_VALUE / 4)) > 0
          ? Long.MAX_VALUE / 4 : timeout.toNanos();
      this.deadline = System.nanoTime() + nanos;
      this.timeoutMs = timeout.toMillis();
    }

    void ended() {
      watched = null;
    }

    @Override
    public long deadlineNanos() {
      return deadline;
    }

    @Override
    public boolean done() {
      CompletableFuture<Term> f = watched;
      return f == null || f.isDone();
    }

    @Override
    public void expire() {
      future.completeExceptionally(new RpcException(RpcException.Kind.TIMEOUT,
          Atom.of("timeout"), "no answer from " + node + " within " + timeoutMs + " ms"));
    }
  }

  /** What {Res, return, Value} adds to Value's encoding: a reference and two atoms. */
  static final long ANSWER_OVERHEAD = 128;

  public RpcClient(LocalNode self) {
    this.self = self;
    this.replies = self.createMailbox(null, (mb, msg) -> onMessage(msg));
    this.sweepNanos = self.config().rpcSweepPeriod().toNanos();
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
    Call call = new Call(node, timeout);
    if (self.isConnected(node)) {
      send(call, node, module, function, args, maxAnswerBytes);
    } else {
      CompletableFuture.runAsync(() -> {
        try {
          self.connect(node, timeout);
          send(call, node, module, function, args, maxAnswerBytes);
        } catch (Exception e) {
          call.future.completeExceptionally(new RpcException(RpcException.Kind.NOT_CONNECTED,
              NODEDOWN, "cannot connect to " + node + ": " + e.getMessage()));
        }
      });
    }
    sweep(node).add(call);
    return call.future;
  }

  /** The sweep on the I/O thread of {@code node}'s connection (any one while there is none). */
  private DeadlineSweep sweep(String node) {
    ScheduledExecutorService loop = self.ioExecutor(node);
    DeadlineSweep s = sweeps.get(loop);
    return s != null ? s : sweeps.computeIfAbsent(loop,
        l -> new DeadlineSweep((EventExecutor) l, sweepNanos));
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

  private void send(Call call, String node, String module, String function,
      List<? extends Term> args, long maxAnswerBytes) {
    CompletableFuture<Term> f = call.future;
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
        call.ended();
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
      f.whenComplete((v, e) -> {
        call.ended();
        pending.remove(res);
      });
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
