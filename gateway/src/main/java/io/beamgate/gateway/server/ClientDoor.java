package io.beamgate.gateway.server;

import io.beamgate.gateway.admission.Admission;
import io.beamgate.gateway.admission.BackendPool;
import io.beamgate.gateway.protocol.TermProto;
import io.beamgate.node.Mailbox;
import io.beamgate.node.rpc.RpcClient;
import io.beamgate.node.rpc.RpcException;
import io.beamgate.node.term.Term;
import io.beamgate.security.audit.AuditRecord;
import io.beamgate.gateway.config.GatewayConfig;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;

/** The gateway as its client connections see it: {@link ClientContext} over its parts. */
final class ClientDoor implements ClientContext {
  private final GatewayConfig.Limits limits;
  private final Admission admission;
  private final Consumer<AuditRecord> audit;
  private final BackendPool backends;
  private final RpcClient rpc;
  private final Mailbox sender;
  private final ClientConnections connections;

  ClientDoor(GatewayConfig.Limits limits, Admission admission, Consumer<AuditRecord> audit,
      BackendPool backends, RpcClient rpc, Mailbox sender, ClientConnections connections) {
    this.limits = limits;
    this.admission = admission;
    this.audit = audit;
    this.backends = backends;
    this.rpc = rpc;
    this.sender = sender;
    this.connections = connections;
  }

  @Override
  public GatewayConfig.Limits limits() {
    return limits;
  }

  @Override
  public Admission admission() {
    return admission;
  }

  @Override
  public void audit(AuditRecord r) {
    audit.accept(r);
  }

  @Override
  public String version() {
    return GatewayVersion.text();
  }

  @Override
  public int maxTermDepth() {
    return TermProto.DEFAULT_MAX_DEPTH;
  }

  @Override
  public int maxResultDepth() {
    return TermProto.DEFAULT_MAX_DEPTH;
  }

  @Override
  public CompletableFuture<Term> call(BackendPool.Backend backend, String module,
      String function, List<Term> args, Duration timeout, long maxAnswerBytes,
      Consumer<BackendPool.Backend> rerouted) {
    return backends.callAsync(rpc, backend, module, function, args, timeout, maxAnswerBytes,
        rerouted);
  }

  @Override
  public void cast(String node, String module, String function, List<? extends Term> args,
      Duration timeout) throws RpcException {
    rpc.cast(node, module, function, args, timeout);
  }

  @Override
  public void send(String name, String node, Term message) {
    sender.send(name, node, message);
  }

  @Override
  public void connected(ClientConnection c) {
    connections.add(c);
  }

  @Override
  public void disconnected(ClientConnection c) {
    connections.remove(c);
  }
}
