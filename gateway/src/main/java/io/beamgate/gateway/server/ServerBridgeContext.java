package io.beamgate.gateway.server;

import io.beamgate.gateway.admission.Admission;
import io.beamgate.gateway.admission.BackendPool;
import io.beamgate.gateway.bridge.BridgeContext;
import io.beamgate.node.rpc.RpcClient;
import io.beamgate.node.rpc.RpcException;
import io.beamgate.node.term.Term;
import io.beamgate.security.audit.AuditRecord;
import io.beamgate.gateway.config.GatewayConfig;
import io.beamgate.security.guard.TermGuard;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ScheduledExecutorService;
import java.util.function.Consumer;
import java.util.function.Supplier;

/** The gateway as its bridge links see it: {@link BridgeContext} over its parts. */
final class ServerBridgeContext implements BridgeContext {
  private final GatewayConfig.BridgeSettings settings;
  private final ScheduledExecutorService timer;
  private final Consumer<AuditRecord> audit;
  private final Admission admission;
  private final TermGuard guard;
  private final Supplier<GatewayState> state;
  private final BackendPool backends;
  private final RpcClient rpc;
  private final io.beamgate.gateway.ops.GatewayMetrics metrics;

  ServerBridgeContext(GatewayConfig.BridgeSettings settings, ScheduledExecutorService timer,
      Consumer<AuditRecord> audit, Admission admission, TermGuard guard,
      Supplier<GatewayState> state, BackendPool backends, RpcClient rpc,
      io.beamgate.gateway.ops.GatewayMetrics metrics) {
    this.metrics = metrics;
    this.settings = settings;
    this.timer = timer;
    this.audit = audit;
    this.admission = admission;
    this.guard = guard;
    this.state = state;
    this.backends = backends;
    this.rpc = rpc;
  }

  @Override
  public GatewayConfig.BridgeSettings bridgeSettings() {
    return settings;
  }

  @Override
  public ScheduledExecutorService timer() {
    return timer;
  }

  @Override
  public void audit(AuditRecord r) {
    audit.accept(r);
  }

  @Override
  public Admission admission() {
    return admission;
  }

  @Override
  public TermGuard guard() {
    return guard;
  }

  @Override
  public TlsInForce tlsInForce() {
    GatewayState st = state.get();
    return new TlsInForce(st.generation(), st.tls());
  }

  @Override
  public void completed(BackendPool.Backend backend, BackendPool.Outcome outcome) {
    backends.completed(backend, outcome);
  }

  @Override
  public void callRelayed(String role) {
    metrics.bridgeCall(role);
  }

  @Override
  public void cast(String node, String module, String function, List<? extends Term> args,
      Duration timeout) throws RpcException {
    rpc.cast(node, module, function, args, timeout);
  }
}
