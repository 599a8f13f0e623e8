package io.beamgate.node.rpc;

import io.beamgate.node.LocalNode;
import io.beamgate.node.Mailbox;
import io.beamgate.node.dist.NodeConnectException;
import io.beamgate.node.term.Atom;
import io.beamgate.node.term.ErlList;
import io.beamgate.node.term.Ref;
import io.beamgate.node.term.Term;
import io.beamgate.node.term.Tuple;
import java.time.Duration;
import java.util.List;

/**
 * Calls into other nodes: {@code rpc:call/5} through the remote {@code rex} server, and the
 * {@code gen_server:call} protocol it rides on.
 */
public final class Rpc {
  private static final Atom GEN_CALL = Atom.of("$gen_call");
  private static final Atom NODEDOWN = Atom.of("nodedown");
  private static final Atom ERPC = Atom.of("erpc");
  private static final Atom EXECUTE_CALL = Atom.of("execute_call");

  private Rpc() {}

  /**
   * As {@code rpc:call(Node, Module, Function, Args, Timeout)}: the result, or an
   * {@link RpcException} saying why there is none. Through erpc when the peer offers
   * DFLAG_SPAWN, else through rex; see {@link RpcClient} for the asynchronous form.
   */
  public static Term call(LocalNode self, String node, String module, String function,
      List<? extends Term> args, Duration timeout) throws RpcException, InterruptedException {
    try {
      return self.rpc().callAsync(node, module, function, args, timeout).get();
    } catch (java.util.concurrent.ExecutionException e) {
      if (e.getCause() instanceof RpcException re) {
        throw re;
      }
      throw new IllegalStateException("rpc to " + node + " failed", e.getCause());
    }
  }

  /** {@code rpc:call/5} through the remote {@code rex} server, as OTP before 23 did. */
  public static Term rexCall(LocalNode self, String node, String module, String function,
      List<? extends Term> args, Duration timeout) throws RpcException, InterruptedException {
    connect(self, node, timeout);
    Term request = Tuple.of(Atom.of("call"), Atom.of(module), Atom.of(function),
        ErlList.of(args), self.groupLeader());
    Term reply = genCall(self, "rex", node, request, timeout);
    if (reply instanceof Tuple t && t.isTagged("badrpc", 2)) {
      throw new RpcException(RpcException.Kind.BADRPC, t.get(1),
          node + " answered " + t);
    }
    return reply;
  }

  /**
   * {@code rpc:call/5} as OTP 23+ makes it, through erpc: a SPAWN_REQUEST of
   * {@code erpc:execute_call(Ref, M, F, A)}, monitored; the result arrives as the spawned
   * process's exit reason. Results and errors take rpc:call's shapes.
   */
  public static Term erpcCall(LocalNode self, String node, String module, String function,
      List<? extends Term> args, Duration timeout) throws RpcException, InterruptedException {
    connect(self, node, timeout);
    try (Mailbox mb = self.createMailbox()) {
      Ref res = self.makeRef();
      List<Term> spawnArgs = List.of(res, Atom.of(module), Atom.of(function), ErlList.of(args));
      Ref reqId = self.spawnRequest(mb, node, ERPC, EXECUTE_CALL, spawnArgs);
      {
        Term got = mb.receive(t -> t instanceof Tuple tu && tu.arity() >= 4
            && reqId.equals(tu.get(1)), timeout);
        if (got == null) {
          mb.demonitor(reqId);
          throw new RpcException(RpcException.Kind.TIMEOUT, Atom.of("timeout"),
              "no answer from " + node + " within " + timeout.toMillis() + " ms");
        }
        Tuple t = (Tuple) got;
        if (t.isTagged("spawn_reply", 4)) {
          throw new RpcException(RpcException.Kind.BADRPC, t.get(3),
              node + " refused to spawn erpc:execute_call/4: " + t.get(3));
        }
        // {'DOWN', ReqId, process, Pid, Reason}
        return erpcResult(node, res, t.get(4));
      }
    }
  }

  static Term erpcResult(String node, Ref res, Term reason) throws RpcException {
    if (reason instanceof Tuple r && r.arity() >= 3 && res.equals(r.get(0))
        && r.get(1) instanceof Atom kind) {
      switch (kind.name()) {
        case "return":
          return r.get(2);
        case "throw":
          return r.get(2); // rpc:call returns a thrown value
        case "exit":
          throw badrpc(node, Tuple.of(Atom.of("EXIT"), r.get(2)));
        case "error":
          if (r.arity() == 4) {
            throw badrpc(node, Tuple.of(Atom.of("EXIT"), Tuple.of(r.get(2), r.get(3))));
          }
          throw badrpc(node, Tuple.of(Atom.of("EXIT"), r.get(2)));
        default:
          break;
      }
    }
    if (Atom.of("noconnection").equals(reason)) {
      throw new RpcException(RpcException.Kind.NODEDOWN, NODEDOWN,
          "connection to " + node + " went down during the call: its outcome is unknown");
    }
    throw badrpc(node, Tuple.of(Atom.of("EXIT"), reason));
  }

  private static RpcException badrpc(String node, Term reason) {
    return new RpcException(RpcException.Kind.BADRPC, reason,
        node + " answered {badrpc, " + reason + "}");
  }

  private static void connect(LocalNode self, String node, Duration timeout)
      throws RpcException {
    if (self.isConnected(node)) {
      return;
    }
    try {
      self.connect(node, timeout);
    } catch (NodeConnectException e) {
      throw new RpcException(RpcException.Kind.NOT_CONNECTED, NODEDOWN,
          "cannot connect to " + node + ": " + e.getMessage());
    }
  }

  /**
   * As {@code gen_server:call({Name, Node}, Request, Timeout)}: sends
   * {@code {'$gen_call', {From, Ref}, Request}} and waits for {@code {Ref, Reply}}.
   */
  public static Term genCall(LocalNode self, String name, String node, Term request,
      Duration timeout) throws RpcException, InterruptedException {
    connect(self, node, timeout);
    try (Mailbox mb = self.createMailbox()) {
      mb.monitorNode(node);
      Ref ref = self.makeRef();
      mb.send(name, node, Tuple.of(GEN_CALL, Tuple.of(mb.self(), ref), request));
      Term got = mb.receive(t -> t instanceof Tuple tu && tu.arity() == 2
          && (ref.equals(tu.get(0))
              || (NODEDOWN.equals(tu.get(0)) && Atom.of(node).equals(tu.get(1)))), timeout);
      if (got == null) {
        throw new RpcException(RpcException.Kind.TIMEOUT, Atom.of("timeout"),
            "no answer from {" + name + ", " + node + "} within " + timeout.toMillis() + " ms");
      }
      Tuple t = (Tuple) got;
      if (NODEDOWN.equals(t.get(0))) {
        throw new RpcException(RpcException.Kind.NODEDOWN, NODEDOWN,
            "connection to " + node + " went down during the call: its outcome is unknown");
      }
      return t.get(1);
    }
  }
}
