package io.beamgate.gateway.bridge;

import io.beamgate.gateway.admission.Admission;
import io.beamgate.gateway.admission.BackendPool;
import io.beamgate.node.rpc.RpcException;
import io.beamgate.node.term.Term;
import io.beamgate.security.audit.AuditRecord;
import io.beamgate.gateway.config.GatewayConfig;
import io.beamgate.security.guard.TermGuard;
import io.beamgate.security.tls.TlsSettings;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ScheduledExecutorService;

/**
 * Everything the bridge uses of the gateway around it, and nothing more: the gateway builds
 * one and hands it to the links it opens and to the links it accepts. The bridge never sees
 * the server itself, so what it may reach is listed here (docs/architecture.md).
 */
public interface BridgeContext {
  /** The files the gateway's TLS is made from now, and their generation (bumped by reloads). */
  record TlsInForce(int generation, TlsSettings tls) {}

  /** The {@code bridge:} section of the configuration (limits and timings of every link). */
  GatewayConfig.BridgeSettings bridgeSettings();

  /** The gateway's timer: retries, sweeps of expired calls. */
  ScheduledExecutorService timer();

  /** Writes one audit record (dropped when the gateway has no audit log). */
  void audit(AuditRecord r);

  /** The one path every call, cast, send and monitor by name from the other side takes. */
  Admission admission();

  /** The term guard of the policy in force (checks what goes back out across a link). */
  TermGuard guard();

  /** The TLS files in force, for a link's next connection attempt. */
  TlsInForce tlsInForce();

  /** Tells the backend pool how a call served across a link ended on {@code backend}. */
  void completed(BackendPool.Backend backend, BackendPool.Outcome outcome);

  /**
   * A call crossed a link: {@code role} exposer (this cluster's call sent to the other
   * gateway) or server (the other side's call admitted and sent to a backend here). For the
   * gateway's metrics; nothing by default.
   */
  default void callRelayed(String role) {}

  /** Sends a cast admitted from a link to its backend node. */
  void cast(String node, String module, String function, List<? extends Term> args,
      Duration timeout) throws RpcException;
}
