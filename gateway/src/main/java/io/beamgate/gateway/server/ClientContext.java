package io.beamgate.gateway.server;

import io.beamgate.gateway.admission.Admission;
import io.beamgate.gateway.admission.BackendPool;
import io.beamgate.node.rpc.RpcException;
import io.beamgate.node.term.Term;
import io.beamgate.security.audit.AuditRecord;
import io.beamgate.gateway.config.GatewayConfig;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;

/**
 * Everything a client connection uses of the gateway around it, and nothing more (issue 12;
 * the client door's counterpart of {@code BridgeContext}): the gateway builds one
 * ({@link ClientDoor}) and hands it to each {@link ClientConnection}. A connection never sees
 * {@code GatewayServer}, so what it may reach is listed here (docs/architecture.md).
 */
interface ClientContext {
  /** The {@code limits:} section of the configuration. */
  GatewayConfig.Limits limits();

  /** The one path every call, cast and send takes. */
  Admission admission();

  /** Writes one audit record (dropped when the gateway has no audit log). */
  void audit(AuditRecord r);

  /** The gateway's version, for pongs. */
  String version();

  /** How deep a term from a client may nest. */
  int maxTermDepth();

  /** How deep a result may nest to be carried back to a client. */
  int maxResultDepth();

  /**
   * Calls {@code module:function(args)} on {@code backend} (re-routed once to another backend
   * when it was never sent; {@code rerouted} is told which). The future completes on a node
   * thread, not on the connection's event loop.
   */
  CompletableFuture<Term> call(BackendPool.Backend backend, String module, String function,
      List<Term> args, Duration timeout, long maxAnswerBytes,
      Consumer<BackendPool.Backend> rerouted);

  /** Sends an admitted cast to its backend node. */
  void cast(String node, String module, String function, List<? extends Term> args,
      Duration timeout) throws RpcException;

  /** Sends an admitted message to the process registered as {@code name} on {@code node}. */
  void send(String name, String node, Term message);

  /** The connection's peer is known: it is counted open (and closed at once when shutting down). */
  void connected(ClientConnection c);

  /** The connection is gone. */
  void disconnected(ClientConnection c);
}
