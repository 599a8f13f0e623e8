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

  private Rpc() {}

  /**
   * As {@code rpc:call(Node, Module, Function, Args, Timeout)}: the result, or an
   * {@link RpcException} saying why there is none.
   */
  public static Term call(LocalNode self, String node, String module, String function,
      List<? extends Term> args, Duration timeout) throws RpcException, InterruptedException {
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
   * As {@code gen_server:call({Name, Node}, Request, Timeout)}: sends
   * {@code {'$gen_call', {From, Ref}, Request}} and waits for {@code {Ref, Reply}}.
   */
  public static Term genCall(LocalNode self, String name, String node, Term request,
      Duration timeout) throws RpcException, InterruptedException {
    try {
      self.connect(node, timeout);
    } catch (NodeConnectException e) {
      throw new RpcException(RpcException.Kind.NOT_CONNECTED, NODEDOWN,
          "cannot connect to " + node + ": " + e.getMessage());
    }
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
