package io.beamgate.gateway.server;

import io.beamgate.gateway.admission.Admission;
import io.beamgate.gateway.admission.BackendPool;
import io.beamgate.gateway.admission.Limiter;
import io.beamgate.gateway.bridge.BridgeContext;
import io.beamgate.gateway.bridge.BridgeHandler;
import io.beamgate.gateway.bridge.BridgeHub;
import io.beamgate.gateway.bridge.BridgeLink;
import io.beamgate.gateway.bridge.ServerSide;
import io.beamgate.node.Cookie;
import io.beamgate.node.LocalNode;
import io.beamgate.node.Mailbox;
import io.beamgate.node.NodeConfig;
import io.beamgate.node.rpc.RpcClient;
import io.beamgate.security.audit.AuditLog;
import io.beamgate.security.audit.AuditRecord;
import io.beamgate.security.yaml.ConfigException;
import io.beamgate.gateway.config.GatewayConfig;
import io.beamgate.security.guard.AtomBudget;
import io.beamgate.security.guard.TermGuard;
import io.beamgate.security.tls.TlsException;
import io.beamgate.security.tls.TlsSettings;
import io.netty.channel.EventLoopGroup;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The gateway: a mutual-TLS listener for clients in front of a hidden node that calls the
 * cluster's backends. Every request passes the policy, the term guard and the limits first,
 * and leaves one audit record. The policy, certificates and CRL are reloaded when their files
 * change or on request ({@link #reload()}); a new version is validated whole before it
 * replaces the old, and connections whose principal lost access are closed.
 *
 * <p>The cluster-side node makes outgoing connections only: it binds neither a distribution
 * nor an EPMD port, on any address.
 */
public final class GatewayServer implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(GatewayServer.class);

  /** Startup and tuning choices that are not in the configuration file. */
  public record Options(TlsSettings.Provider provider, Duration backendWait, int workerThreads,
      String gatewayId) {
    public static final Options DEFAULTS = new Options(TlsSettings.Provider.AUTO,
        Duration.ofSeconds(10), 0, null);

    public Options withProvider(TlsSettings.Provider p) {
      return new Options(p, backendWait, workerThreads, gatewayId);
    }

    public Options withBackendWait(Duration d) {
      return new Options(provider, d, workerThreads, gatewayId);
    }

    /**
     * The id audit records carry as {@code gateway} (and in their {@code request_id}); null
     * for the default, this host's name and the listener's port ({@code host:port}).
     */
    public Options withGatewayId(String id) {
      return new Options(provider, backendWait, workerThreads, id);
    }
  }

  private final GatewayConfig config;
  private final Options options;
  private final AtomicReference<GatewayState> state = new AtomicReference<>();
  private final ClientConnections connections = new ClientConnections();
  private final Limiter limiter = new Limiter();
  private Admission admission;
  private final ScheduledExecutorService timer;
  private LocalNode node;
  private RpcClient rpc;
  private Mailbox sender;
  private BackendPool backends;
  private TermGuard guard;
  private AuditLog audit;
  private ClientListener listener;
  /** Where client connections are placed (tests read its loads). */
  ClientLoops clientLoops;
  private Reloader reloader;
  private GatewayStatus status;
  private AdminSocket admin;
  private io.beamgate.gateway.grpc.GrpcDoor grpc;
  private io.beamgate.gateway.scale.ClusterShare scale; // null unless config.scale
  private final io.beamgate.gateway.ops.GatewayMetrics metrics =
      new io.beamgate.gateway.ops.GatewayMetrics();
  private io.beamgate.gateway.ops.AdminHttp adminHttp;
  private BridgeHub clusterHub;
  private BridgeContext bridgeContext;
  private final java.util.List<BridgeLink> bridgeLinks =
      new java.util.concurrent.CopyOnWriteArrayList<>();
  private volatile boolean closed;
  static final Duration REPEAT_REFUSAL = Reloader.REPEAT_REFUSAL;

  private GatewayServer(GatewayConfig config, Options options) {
    this.config = config;
    this.options = options;
    this.timer = Executors.newScheduledThreadPool(2, r -> {
      Thread t = new Thread(r, "beamgate-gateway-timer");
      t.setDaemon(true);
      return t;
    });
  }

  /**
   * Validates everything, joins the cluster, and starts listening. Fails, with nothing left
   * running, when a file is invalid, the policy allows nothing, or the port is taken.
   */
  public static GatewayServer start(GatewayConfig config, Options options)
      throws ConfigException, TlsException, IOException {
    GatewayServer s = new GatewayServer(config, options);
    try {
      s.startUp();
      return s;
    } catch (ConfigException | IOException | RuntimeException e) {
      s.close();
      throw e;
    }
  }

  private void startUp() throws ConfigException, TlsException, IOException {
    GatewayState st = GatewayState.load(config, options.provider(), 1);
    for (String w : st.warnings()) {
      log.warn("policy {}: {}", config.policy(), w);
    }
    state.set(st);
    AtomBudget budget = new AtomBudget(st.policy().atomBudget(),
        st.policy().atomBudgetPerPrincipal());
    if (config.atomState() != null) {
      try {
        budget.persistTo(config.atomState());
        log.info("atom budget: {} of {} atoms already forwarded (state in {})", budget.used(),
            budget.limit(), config.atomState());
      } catch (IOException e) {
        log.error("atom budget state {} cannot be used ({}): the budget is kept in memory only,"
            + " and a restart refills it", config.atomState(), e.getMessage());
      }
    }
    guard = new TermGuard(budget);
    audit = openAudit();
    checkOwnerOnly(config.cluster().cookieFile(), "cookie file");
    Cookie cookie = Cookie.fromFile(config.cluster().cookieFile());
    NodeConfig.Builder ncb = NodeConfig.builder(config.cluster().nodeName()).cookie(cookie)
        .hidden(true).epmdPort(config.cluster().epmdPort())
        .netTickTime(Duration.ofSeconds(config.cluster().netTicktimeSeconds()));
    if (config.cluster().ioThreads() > 0) {
      ncb.ioThreads(config.cluster().ioThreads());
    }
    NodeConfig nc = ncb.build();
    node = LocalNode.startClient(nc);
    clusterHub = BridgeHub.forServer(node);
    rpc = node.rpc();
    sender = node.createMailbox();
    backends = new BackendPool(node, config.cluster(), timer);
    backends.start();
    admission = new Admission(() -> state.get().policy(), guard, limiter,
        () -> config.limits().maxInFlight(), backends, () -> config.bridge().names(),
        this::audit, this::auditRefusal);
    admission.observe(metrics);
    admission.requestIds(audit::nextRequestId);
    // What the bridge may reach of this gateway (and nothing else of it).
    bridgeContext = new ServerBridgeContext(config.bridge(), timer, this::audit, admission,
        guard, state::get, backends, rpc, metrics);
    grpc = io.beamgate.gateway.grpc.GrpcDoor.start(new io.beamgate.gateway.grpc.GrpcDoor.Wiring(
        () -> admission, rpc, sender, backends, config.limits(), config.grpc(), this::audit,
        this::readiness, metrics, version()), timer);
    reloader = new Reloader(config, options.provider(), state, () -> audit, this::audit, metrics,
        guard, connections, () -> clusterHub.sessions(), fresh -> status.certificateDates(fresh));
    // gRPC connections of principals that lost access close on a reload, as native ones do.
    reloader.alsoClose(fresh -> grpc.closeLostAccess(who -> Reloader.lostAccess(who, fresh)));
    status = new GatewayStatus(new GatewayStatus.Parts(config, state::get, backends, admission,
        guard, audit, connections, reloader, bridgeLinks, clusterHub, metrics,
        () -> listener == null ? null : listener.address(),
        () -> !closed && listener != null && listener.isActive()));
    status.certificateDates(state.get());
    status.registerGauges();
    try {
      if (!backends.awaitAny(options.backendWait())) {
        log.warn("no backend is up yet ({}); serving anyway: calls fail with UNAVAILABLE"
            + " until one is", backendSummary());
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted while waiting for backends");
    }
    scale = io.beamgate.gateway.scale.ClusterShare.start(config.scale(), node.name(), rpc,
        backends, guard.budget(), limiter);
    if (scale != null) {
      scale.registerGauges(metrics);
    }
    bind();
    audit.identify(options.gatewayId() != null ? options.gatewayId()
        : hostName() + ":" + listenAddress().getPort());
    for (GatewayConfig.Bridge b : config.bridges()) {
      bridgeLinks.add(BridgeLink.start(bridgeContext, b, config.cluster(), cookie, st.tls()));
    }
    startReloads();
    if (config.admin() != null) {
      adminHttp = io.beamgate.gateway.ops.AdminHttp.start(config.admin().address(),
          config.admin().port(), metrics, this::readiness, this::status);
    }
    log.info("gateway {} listening on {} for {} (policy {}: {} rules; backends: {})",
        version(), listenAddress(), config.cluster().nodeName(), config.policy(),
        st.policy().rules().size(), backendSummary());
  }

  /** A secret readable by others is refused, as erl refuses such a cookie file. */
  static void checkOwnerOnly(java.nio.file.Path file, String what) throws ConfigException {
    String problem = io.beamgate.gateway.config.ConfigCheck.secretProblem(file, what);
    if (problem != null) {
      throw new ConfigException(problem);
    }
  }

  private AuditLog openAudit() throws IOException {
    GatewayConfig.Audit a = config.audit();
    AuditLog opened;
    if (a.file() == null) {
      log.warn("no audit file configured: audit records go to standard output");
      // The descriptor itself: System.out would hide write errors, and keep them for good.
      opened = AuditLog.toStream(new java.io.FileOutputStream(java.io.FileDescriptor.out),
          a.onFailure());
    } else {
      opened = AuditLog.toFile(a.file(), a.onFailure());
    }
    // Notices a rotated or deleted file, and retries during an outage, once a second.
    timer.scheduleWithFixedDelay(() -> {
      try {
        opened.maintain();
      } catch (RuntimeException e) {
        log.error("audit log check failed", e);
      }
    }, 1, 1, TimeUnit.SECONDS);
    return opened;
  }

  /**
   * Null while requests may be admitted as far as the audit is concerned; else why they are
   * refused (the audit log cannot be written and {@code audit.on_failure} is refuse).
   */
  public String auditRefusal() {
    AuditLog a = audit;
    return a == null ? null : a.refusal();
  }

  /**
   * The node's I/O threads as the client listener places connections on them: on a backend
   * connection's thread unless {@code cluster.io_affinity} is {@code spread}.
   */
  private ClientLoops newClientLoops() {
    io.beamgate.node.GatewayDoor door = node.gatewayDoor();
    boolean affinity = config.cluster().ioAffinity().equals("backend");
    return new ClientLoops(door.ioThreads(EventLoopGroup.class), () -> {
      if (!affinity) {
        return List.of();
      }
      List<io.netty.channel.EventLoop> loops = new java.util.ArrayList<>();
      for (BackendPool.Backend b : backends.backends()) {
        io.netty.channel.EventLoop l = b.inRotation()
            ? door.ioThreadOf(b.node, io.netty.channel.EventLoop.class) : null;
        if (l != null) {
          loops.add(l);
        }
      }
      return loops;
    });
  }

  private void bind() throws IOException {
    ClientContext clients = new ClientDoor(config.limits(), admission, this::audit, backends,
        rpc, sender, connections);
    BridgeHandler.Side bridgeSide = new ServerSide(node, clusterHub, bridgeContext,
        p -> state.get().policy().names(p), () -> closed);
    listener = ClientListener.bind(new InetSocketAddress(config.listen().address(),
        config.listen().port()), config.limits(), options.workerThreads(),
        clientLoops = newClientLoops(), metrics, new ClientListener.Parts() {
          @Override
          public GatewayState state() {
            return state.get();
          }

          @Override
          public void audit(AuditRecord r) {
            GatewayServer.this.audit(r);
          }

          @Override
          public TlsUp tlsUp() {
            return new TlsUp(GatewayServer.this::audit, metrics, bridgeContext, bridgeSide,
                grpc);
          }

          @Override
          public GatewayConfig.ProxyProtocol proxyProtocol() {
            return config.listen().proxyProtocol();
          }

          @Override
          public void proxyRefused(String peer, String why) {
            refusedAtConnect(peer, why);
          }

          @Override
          public void alpnRefused(String peer, String why) {
            log.info("TLS handshake from {} refused: {}", peer, why);
            metrics.handshake("failed", "alpn");
            refusedAtConnect(peer, "tls handshake: " + why);
          }

          @Override
          public ClientContext clients() {
            return clients;
          }
        });
  }

  /** This host's name, for the default gateway id; "localhost" when it cannot be read. */
  private static String hostName() {
    try {
      return java.net.InetAddress.getLocalHost().getHostName();
    } catch (IOException e) {
      return "localhost";
    }
  }

  /** The links this gateway opened, by name (for tests and status). */
  public Map<String, Boolean> bridgesUp() {
    Map<String, Boolean> m = new java.util.TreeMap<>();
    for (BridgeLink l : bridgeLinks) {
      m.put(l.name(), l.up());
    }
    return m;
  }

  private void startReloads() {
    reloader.watch(timer);
    try {
      admin = AdminSocket.open(config.reload().adminSocket(), operator());
    } catch (IOException e) {
      log.warn("no admin socket at {} ({}); `beamgate gateway reload` will not reach this"
          + " gateway (file watching and SIGHUP still work)", config.reload().adminSocket(),
          e.getMessage());
    }
  }

  /** The outcome of a reload, for the operator. */
  public record ReloadResult(boolean ok, String message) {}

  /**
   * Loads the policy, certificates and CRL again; when all are valid, they replace the ones in
   * force atomically and connections whose principal lost access are closed. When any is
   * invalid, nothing changes and the reason is returned (and logged). See {@link Reloader}.
   */
  public ReloadResult reload() {
    Reloader.Result r = reloader.reload();
    return new ReloadResult(r.ok(), r.message());
  }

  /** Where reloads are announced (sd_notify RELOADING=1, then READY=1); none by default. */
  public void notifyReloads(io.beamgate.gateway.ops.SdNotify n) {
    reloader.notify(n);
  }

  /**
   * Reopens the audit file now (SIGUSR1, {@code beamgate gateway reopen-audit}): after
   * logrotate moved it away, the next record goes to a new file at the configured path.
   */
  public ReloadResult reopenAuditFile() {
    Reloader.Result r = reloader.reopenAuditFile(config.audit().file());
    return new ReloadResult(r.ok(), r.message());
  }

  /** Refused reloads repeated in the log while the files stay as they were (for tests). */
  int refusalRepeats() {
    return reloader.refusalRepeats.get();
  }

  /** What the admin socket may ask of this gateway. */
  AdminSocket.Operator operator() {
    return new AdminSocket.Operator() {
      @Override
      public String reload() {
        ReloadResult r = GatewayServer.this.reload();
        return (r.ok() ? "ok " : "error ") + r.message();
      }

      @Override
      public String reopenAudit() {
        ReloadResult r = GatewayServer.this.reopenAuditFile();
        return (r.ok() ? "ok " : "error ") + r.message();
      }

      @Override
      public Map<String, Object> status() {
        return GatewayServer.this.status();
      }
    };
  }

  /** A connection refused before it has an identity: one audit record, outcome closed. */
  private void refusedAtConnect(String peer, String reason) {
    audit(AuditRecord.from(peer).decision(AuditRecord.Decision.DENIED).reason(reason)
        .outcome("closed").build());
  }

  void audit(AuditRecord r) {
    AuditLog a = audit;
    if (a != null) {
      // batched per event-loop turn, written before the turn's answers are flushed
      a.record(r, io.netty.util.internal.ThreadExecutorMap.currentExecutor());
    }
  }

  // For tests in this package (connections see the gateway through ClientContext).
  BackendPool backends() {
    return backends;
  }

  Admission admission() {
    return admission;
  }

  String backendSummary() {
    return backends.summary();
  }

  // ---- for operators and tests -----------------------------------------------------------

  /** The address the client listener is bound to. */
  public InetSocketAddress listenAddress() {
    return listener.address();
  }

  /** The cluster-side node (for tests and the demo). */
  public LocalNode node() {
    return node;
  }

  /**
   * The gateway's status as data (the admin socket's and {@code /status}'s JSON): counters,
   * each backend, bridges, the audit log, whether the files on disk differ from those in force
   * and the last reload error.
   */
  public Map<String, Object> status() {
    Map<String, Object> m = status.status();
    m.put("scale", scale == null ? null : scale.status());
    return m;
  }

  /** What {@code /ready} decides from. */
  io.beamgate.gateway.ops.Health.Facts readiness() {
    return status.readiness();
  }

  io.beamgate.gateway.ops.GatewayMetrics metrics() {
    return metrics;
  }

  /** The admin HTTP listener's address, or null when none is configured. */
  public InetSocketAddress adminAddress() {
    return adminHttp == null ? null : adminHttp.address();
  }

  public static String version() {
    return GatewayVersion.text();
  }

  /**
   * Stops accepting, tells every client it is closing, waits up to {@code grace} for calls in
   * flight, then leaves the cluster.
   */
  public void shutdown(Duration grace) {
    closed = true;
    connections.refuseNew();
    if (listener != null) {
      listener.stopAccepting();
    }
    if (admission != null) {
      connections.drain(admission::inFlight, grace);
    }
    connections.closeAll();
    close();
  }

  @Override
  public void close() {
    closed = true;
    connections.refuseNew();
    // Client connections close at once, as a stopped process's do (a drain tells them first);
    // with the node's threads as workers, closing the listener alone would leave them open.
    connections.closeChannels();
    // Accepted bridge links too, here and not only when the node's threads stop: the threads'
    // shutdown did not always close them, and the other gateway then kept its link (and its
    // cluster's view of this one) up until its keepalive (CliTest's bridge demo, 1 run in 3)
    if (clusterHub != null) {
      for (io.beamgate.gateway.bridge.BridgeSession s : clusterHub.sessions()) {
        s.channel().close();
      }
    }
    if (scale != null) {
      scale.close();
    }
    if (grpc != null) {
      grpc.close();
    }
    if (adminHttp != null) {
      adminHttp.close();
    }
    if (admin != null) {
      admin.close();
    }
    for (BridgeLink l : bridgeLinks) {
      l.close();
    }
    timer.shutdownNow();
    if (listener != null) {
      listener.close();
    }
    if (backends != null) {
      backends.close();
    }
    if (node != null) {
      node.close();
    }
    if (guard != null) {
      try {
        guard.budget().close();
      } catch (IOException e) {
        log.warn("closing the atom budget state: {}", e.getMessage());
      }
    }
    if (audit != null) {
      try {
        audit.close();
      } catch (IOException e) {
        log.warn("closing the audit log: {}", e.getMessage());
      }
    }
    metrics.close();
  }
}
