package io.beamgate.gateway.server;

import io.beamgate.gateway.admission.Admission;
import io.beamgate.gateway.admission.BackendPool;
import io.beamgate.gateway.admission.Limiter;
import io.beamgate.gateway.bridge.BridgeContext;
import io.beamgate.gateway.bridge.BridgeHandler;
import io.beamgate.gateway.bridge.BridgeHub;
import io.beamgate.gateway.bridge.BridgeLink;
import io.beamgate.gateway.bridge.BridgeSession;
import io.beamgate.gateway.bridge.ServerSession;
import io.beamgate.gateway.proto.ClientFrame;
import io.beamgate.gateway.proto.Error;
import io.beamgate.gateway.protocol.FrameDecoder;
import io.beamgate.gateway.protocol.FrameEncoder;
import io.beamgate.gateway.protocol.TermProto;
import io.beamgate.node.Cookie;
import io.beamgate.node.LocalNode;
import io.beamgate.node.Mailbox;
import io.beamgate.node.NodeConfig;
import io.beamgate.node.rpc.RpcClient;
import io.beamgate.security.audit.AuditLog;
import io.beamgate.security.audit.AuditRecord;
import io.beamgate.security.config.ConfigException;
import io.beamgate.security.config.GatewayConfig;
import io.beamgate.security.guard.AtomBudget;
import io.beamgate.security.guard.TermGuard;
import io.beamgate.gateway.transport.TlsContexts;
import io.beamgate.security.tls.TlsException;
import io.beamgate.security.tls.TlsSettings;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.timeout.IdleStateHandler;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.security.cert.CertificateException;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
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
  public record Options(TlsSettings.Provider provider, Duration backendWait, int workerThreads) {
    public static final Options DEFAULTS = new Options(TlsSettings.Provider.AUTO,
        Duration.ofSeconds(10), 0);

    public Options withProvider(TlsSettings.Provider p) {
      return new Options(p, backendWait, workerThreads);
    }

    public Options withBackendWait(Duration d) {
      return new Options(provider, d, workerThreads);
    }
  }

  private final GatewayConfig config;
  private final Options options;
  private final AtomicReference<GatewayState> state = new AtomicReference<>();
  private final Set<ClientConnection> connections = ConcurrentHashMap.newKeySet();
  private final AtomicInteger open = new AtomicInteger();
  // Connections past max_connections being told so (FullRefusal).
  private final AtomicInteger telling = new AtomicInteger();
  private final Limiter limiter = new Limiter();
  private Admission admission;
  private final ScheduledExecutorService timer;
  private LocalNode node;
  private RpcClient rpc;
  private Mailbox sender;
  private BackendPool backends;
  private TermGuard guard;
  private AuditLog audit;
  private EventLoopGroup boss;
  private EventLoopGroup workers;
  private boolean sharedWorkers;
  private Channel listener;
  private AdminSocket admin;
  private final io.beamgate.gateway.ops.GatewayMetrics metrics =
      new io.beamgate.gateway.ops.GatewayMetrics();
  private io.beamgate.gateway.ops.AdminHttp adminHttp;
  private volatile String lastReloadError;
  private BridgeHub clusterHub;
  private final java.util.List<BridgeLink> bridgeLinks =
      new java.util.concurrent.CopyOnWriteArrayList<>();
  private volatile boolean closed;
  // The files as they were when a reload was last refused, and why: not retried until they
  // change, but the error is repeated while they stay so (at most every REPEAT_REFUSAL).
  private volatile Map<java.nio.file.Path, String> refusedStamps;
  private volatile String refusedWhy;
  private volatile long refusalLoggedAt;
  static final Duration REPEAT_REFUSAL = Duration.ofSeconds(2);
  final AtomicInteger refusalRepeats = new AtomicInteger(); // for tests

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
    registerGauges();
    try {
      if (!backends.awaitAny(options.backendWait())) {
        log.warn("no backend is up yet ({}); serving anyway: calls fail with UNAVAILABLE"
            + " until one is", backendSummary());
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted while waiting for backends");
    }
    bind();
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
    String problem = io.beamgate.security.config.ConfigCheck.secretProblem(file, what);
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

  private void bind() throws IOException {
    GatewayConfig.Limits lim = config.limits();
    boss = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    // By default the client and bridge connections share the cluster-side node's I/O threads:
    // a request and its call to a backend then often stay on one thread, with no hand-off.
    sharedWorkers = options.workerThreads() == 0;
    workers = sharedWorkers ? (EventLoopGroup) node.ioExecutor()
        : new MultiThreadIoEventLoopGroup(options.workerThreads(), NioIoHandler.newFactory());
    int idleMillis = lim.idleTimeoutMillis();
    ServerBootstrap b = new ServerBootstrap().group(boss, workers)
        .channel(NioServerSocketChannel.class)
        .option(ChannelOption.SO_BACKLOG, 1024)
        .childOption(ChannelOption.TCP_NODELAY, true)
        .childOption(ChannelOption.WRITE_BUFFER_WATER_MARK,
            new WriteBufferWaterMark(lim.outputHighWater() / 4, lim.outputHighWater()))
        .childHandler(new ChannelInitializer<SocketChannel>() {
          @Override
          protected void initChannel(SocketChannel ch) {
            if (open.incrementAndGet() > lim.maxConnections()) {
              open.decrementAndGet();
              metrics.connection(false);
              String why = "the gateway is full: " + lim.maxConnections()
                  + " connections are open (limits.max_connections); try again later";
              boolean told = FullRefusal.install(ch, state.get(), telling,
                  lim.maxConnections(), why);
              log.warn("refusing a connection from {}: {} connections open"
                  + " (limits.max_connections){}", ch.remoteAddress(), lim.maxConnections(),
                  told ? "" : "; too many refused at once to tell this one why");
              audit(new AuditRecord(java.time.Instant.now(), null, null, null,
                  String.valueOf(ch.remoteAddress()), null, null, AuditRecord.Decision.DENIED,
                  null, "limits.max_connections reached", 0, "closed"));
              return;
            }
            metrics.connection(true);
            ch.closeFuture().addListener(f -> open.decrementAndGet());
            GatewayState st = state.get();
            ch.pipeline()
                .addLast("tls", TlsContexts.handler(st.ssl(), ch.alloc(), st.tls()))
                .addLast("alpn", new BridgeSwitch())
                .addLast("idle", new IdleStateHandler(0, 0, idleMillis, TimeUnit.MILLISECONDS))
                .addLast("frames", new FrameDecoder<>(ClientFrame.parser(),
                    lim.maxFrameBytes(), 2 * TermProto.DEFAULT_MAX_DEPTH + 8))
                .addLast("encoder", FrameEncoder.INSTANCE)
                .addLast("client", new ClientConnection(GatewayServer.this));
          }
        });
    InetSocketAddress addr = new InetSocketAddress(config.listen().address(),
        config.listen().port());
    try {
      listener = b.bind(addr).sync().channel();
    } catch (Exception e) {
      if (e instanceof InterruptedException) {
        Thread.currentThread().interrupt();
      }
      throw new IOException("cannot listen on " + addr + ": " + e.getMessage(), e);
    }
  }

  /**
   * After the TLS handshake: a connection that chose the bridge protocol (ALPN
   * beamgate-bridge/1) leaves the client pipeline for the bridge's.
   */
  private final class BridgeSwitch extends io.netty.channel.ChannelInboundHandlerAdapter {
    @Override
    public void userEventTriggered(io.netty.channel.ChannelHandlerContext ctx, Object evt)
        throws Exception {
      if (evt instanceof io.netty.handler.ssl.SslHandshakeCompletionEvent e && e.isSuccess()
          && TlsSettings.BRIDGE_ALPN.equals(ctx.pipeline()
              .get(io.netty.handler.ssl.SslHandler.class).applicationProtocol())) {
        io.netty.channel.ChannelPipeline p = ctx.pipeline();
        int q = config.bridge().maxQueueBytes();
        ctx.channel().config().setWriteBufferWaterMark(new WriteBufferWaterMark(q / 2, q));
        p.remove("idle");
        p.remove("frames");
        p.remove("encoder");
        p.remove("client");
        BridgeHandler h = BridgeHandler.forServer(bridgeContext, new ServerSide(),
            "bridge from " + ctx.channel().remoteAddress());
        BridgeHandler.install(p, bridgeContext, h);
        p.remove(this);
        h.tlsUp(p.context(h));
        return;
      }
      ctx.pipeline().remove(this);
      ctx.fireUserEventTriggered(evt);
    }
  }

  /** The accepting side of bridge links: this cluster, served to another under the policy. */
  private final class ServerSide implements BridgeHandler.Side {
    @Override
    public String admit(io.beamgate.security.identity.Principal peer) {
      boolean named = state.get().policy().names(peer);
      return named ? null : "no rule names " + peer.name() + ": it may not bridge to this"
          + " cluster";
    }

    @Override
    public BridgeSession open(io.netty.channel.ChannelHandlerContext ctx,
        io.beamgate.security.identity.Principal peer) {
      BridgeSession s = new ServerSession(node, ctx.channel(), peer,
          "bridge from " + peer.name(), clusterHub.nextNumber(), bridgeContext);
      s.chain(BridgeHandler.chainOf(ctx));
      clusterHub.attach(s);
      log.info("bridge from {} ({}) up: serving this cluster under the policy", peer.name(),
          ctx.channel().remoteAddress());
      audit(new AuditRecord(java.time.Instant.now(), peer.name(), peer.fingerprintSha256(),
          peer.serialHex(), String.valueOf(ctx.channel().remoteAddress()).replaceFirst("^/", ""),
          null, "bridge", AuditRecord.Decision.ALLOWED, null, null, 0, "link up"));
      if (closed) {
        ctx.close();
      }
      return s;
    }

    @Override
    public void closed(BridgeSession s, String why) {
      if (s != null) {
        clusterHub.detach(s);
        s.closed();
        log.info("{} down: {}", s.label(), why);
        audit(new AuditRecord(java.time.Instant.now(), s.peer().name(),
            s.peer().fingerprintSha256(), s.peer().serialHex(), s.label(), null, "bridge",
            AuditRecord.Decision.ALLOWED, null, why, 0, "link down"));
      }
    }
  }

  /** What the bridge may reach of this gateway (and nothing else of it). */
  private final BridgeContext bridgeContext = new BridgeDoors();

  private final class BridgeDoors implements BridgeContext {
    @Override
    public GatewayConfig.BridgeSettings bridgeSettings() {
      return config.bridge();
    }

    @Override
    public ScheduledExecutorService timer() {
      return timer;
    }

    @Override
    public void audit(AuditRecord r) {
      GatewayServer.this.audit(r);
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
    public void cast(String node, String module, String function,
        java.util.List<? extends io.beamgate.node.term.Term> args, Duration timeout)
        throws io.beamgate.node.rpc.RpcException {
      rpc.cast(node, module, function, args, timeout);
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
    int every = config.reload().watchIntervalMillis();
    if (every > 0) {
      timer.scheduleWithFixedDelay(() -> {
        try {
          Map<java.nio.file.Path, String> now = GatewayState.stamps(config);
          if (!now.equals(state.get().stamps())) {
            if (!now.equals(refusedStamps)) {
              log.info("a policy, certificate or CRL file changed: reloading");
              reload();
            } else if (System.nanoTime() - refusalLoggedAt >= REPEAT_REFUSAL.toNanos()) {
              refusalLoggedAt = System.nanoTime();
              refusalRepeats.incrementAndGet();
              log.error("{} (the files are still as they were)", refusedWhy);
            }
          }
        } catch (RuntimeException e) {
          log.error("reload check failed", e);
        }
      }, every, every, TimeUnit.MILLISECONDS);
    }
    try {
      admin = AdminSocket.open(config.reload().adminSocket(), this);
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
   * invalid, nothing changes and the reason is returned (and logged).
   */
  public synchronized ReloadResult reload() {
    String auditNote = reopenAudit();
    GatewayState old = state.get();
    GatewayState fresh;
    try {
      fresh = GatewayState.load(config, options.provider(), old.generation() + 1);
    } catch (ConfigException | IOException | RuntimeException e) {
      String why = "reload refused, the previous policy and certificates stay in force: "
          + e.getMessage() + auditNote;
      log.error(why);
      refusedWhy = why;
      refusalLoggedAt = System.nanoTime();
      refusedStamps = GatewayState.stamps(config);
      lastReloadError = why;
      metrics.reload(false);
      return new ReloadResult(false, why);
    }
    for (String w : fresh.warnings()) {
      log.warn("policy {}: {}", config.policy(), w);
    }
    if (fresh.policy().atomBudget() != guard.budget().limit()) {
      log.warn("policy atom_budget changed to {}; it takes effect at the next restart (in force:"
          + " {})", fresh.policy().atomBudget(), guard.budget().limit());
    }
    state.set(fresh);
    lastReloadError = null;
    metrics.reload(true);
    certificateDates(fresh);
    int closedCount = 0;
    for (ClientConnection c : connections) {
      String why = lostAccess(c, fresh);
      if (why != null) {
        closedCount++;
        log.info("closing {} from {}: {}", c.principal().name(), c.peer(), why);
        audit(new AuditRecord(java.time.Instant.now(), c.principal().name(),
            c.principal().fingerprintSha256(), c.principal().serialHex(), c.peer(), null, null,
            AuditRecord.Decision.DENIED, null, "reload: " + why, 0, "closed"));
        c.closeWith(Error.Code.CLOSING, "access revoked by a policy or certificate reload: "
            + why);
      }
    }
    for (BridgeSession b : clusterHub.sessions()) {
      String why = lostAccess(b.peer(), b.chain(), fresh);
      if (why != null) {
        closedCount++;
        log.info("closing {}: {}", b.label(), why);
        audit(new AuditRecord(java.time.Instant.now(), b.peer().name(),
            b.peer().fingerprintSha256(), b.peer().serialHex(), b.label(), null, "bridge",
            AuditRecord.Decision.DENIED, null, "reload: " + why, 0, "closed"));
        b.channel().close();
      }
    }
    String msg = "reloaded (generation " + fresh.generation() + "): policy with "
        + fresh.policy().rules().size() + " rules; " + closedCount
        + " connection(s) closed for lost access" + auditNote;
    log.info(msg);
    return new ReloadResult(true, msg);
  }

  /** Reopens the audit file (for logrotate's postrotate); a note for the result if it fails. */
  private String reopenAudit() {
    try {
      if (audit != null) {
        audit.reopen();
      }
      return "";
    } catch (IOException e) {
      return "; the audit file cannot be reopened: " + e.getMessage();
    }
  }

  /** Why an open connection may no longer stay under {@code st}, or null. */
  static String lostAccess(ClientConnection c, GatewayState st) {
    return lostAccess(c.principal(), c.chain(), st);
  }

  static String lostAccess(io.beamgate.security.identity.Principal p,
      java.security.cert.X509Certificate[] chain, GatewayState st) {
    if (p == null) {
      return null;
    }
    try {
      st.validator().checkClientTrusted(chain, "UNKNOWN");
    } catch (CertificateException e) {
      return "certificate no longer accepted (" + e.getMessage() + ")";
    }
    boolean named = st.policy().names(p);
    return named ? null : "no rule names " + p.name() + " any more";
  }

  // ---- for connections -------------------------------------------------------------------

  GatewayConfig.Limits limits() {
    return config.limits();
  }

  RpcClient rpc() {
    return rpc;
  }

  Mailbox sender() {
    return sender;
  }

  BackendPool backends() {
    return backends;
  }

  int maxTermDepth() {
    return TermProto.DEFAULT_MAX_DEPTH;
  }

  int maxResultDepth() {
    return TermProto.DEFAULT_MAX_DEPTH;
  }

  Admission admission() {
    return admission;
  }

  void audit(AuditRecord r) {
    AuditLog a = audit;
    if (a != null) {
      // batched per event-loop turn, written before the turn's answers are flushed
      a.record(r, io.netty.util.internal.ThreadExecutorMap.currentExecutor());
    }
  }

  void connected(ClientConnection c) {
    connections.add(c);
    if (closed) {
      c.closeWith(Error.Code.CLOSING, "the gateway is shutting down");
    }
  }

  void disconnected(ClientConnection c) {
    connections.remove(c);
  }

  String backendSummary() {
    return backends.summary();
  }

  // ---- for operators and tests -----------------------------------------------------------

  /** The address the client listener is bound to. */
  public InetSocketAddress listenAddress() {
    return (InetSocketAddress) listener.localAddress();
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
    java.util.List<Object> bridges = new java.util.ArrayList<>();
    for (BridgeLink l : bridgeLinks) {
      bridges.add(l.status());
    }
    if (clusterHub != null) {
      for (BridgeSession s : clusterHub.sessions()) {
        bridges.add(s.status());
      }
    }
    java.util.List<Object> each = new java.util.ArrayList<>();
    for (BackendPool.Backend b : backends.backends()) {
      Map<String, Object> m = new java.util.LinkedHashMap<>();
      m.put("node", b.node);
      m.put("up", b.up);
      m.put("ejected", b.ejected);
      m.put("in_flight", b.inFlight.get());
      m.put("state", b.describe());
      each.add(m);
    }
    GatewayState st = state.get();
    Map<String, Object> m = new java.util.LinkedHashMap<>();
    m.put("version", version());
    m.put("node", config.cluster().nodeName());
    m.put("listen", listener == null ? null : listenAddress().getAddress().getHostAddress()
        + ":" + listenAddress().getPort());
    m.put("ready", io.beamgate.gateway.ops.Health.ready(readiness(), java.time.Instant.now())
        .ready());
    m.put("connections", connections.size());
    m.put("in_flight", admission.inFlight());
    m.put("backends_up", backends.upCount());
    m.put("backends", backendSummary());
    m.put("backend_list", each);
    m.put("generation", st.generation());
    m.put("policy_rules", st.policy().rules().size());
    m.put("files_changed", !GatewayState.stamps(config).equals(st.stamps()));
    m.put("last_reload_error", lastReloadError);
    m.put("atoms_used", guard.budget().used());
    m.put("atom_budget", guard.budget().limit());
    m.put("bridges", bridges);
    m.put("audit", audit.status());
    return m;
  }

  /** What {@code /ready} decides from. */
  io.beamgate.gateway.ops.Health.Facts readiness() {
    GatewayState st = state.get();
    int inRotation = 0;
    for (BackendPool.Backend b : backends.backends()) {
      if (b.up && !b.ejected) {
        inRotation++;
      }
    }
    return new io.beamgate.gateway.ops.Health.Facts(
        !closed && listener != null && listener.isActive(), inRotation,
        backends.backends().size(), st != null && st.policy() != null,
        certificates.certificateNotAfter(), certificates.crlNextUpdate(), auditRefusal());
  }

  private volatile io.beamgate.gateway.ops.CertificateDates certificates =
      new io.beamgate.gateway.ops.CertificateDates(null, null, null);

  private void certificateDates(GatewayState st) {
    certificates = io.beamgate.gateway.ops.CertificateDates.read(config.tls().certificate(),
        config.tls().clientCas(), config.tls().crl());
    metrics.certificates(certificates.certificateNotAfter(), certificates.clientCasNotAfter(),
        certificates.crlNextUpdate());
  }

  /** Gauges read at each scrape. */
  private void registerGauges() {
    certificateDates(state.get());
    metrics.gauge("beamgate.requests.in.flight", "Requests admitted and not finished",
        admission::inFlight);
    metrics.gauge("beamgate.connections.open", "Client connections open",
        connections::size);
    metrics.gauge("beamgate.backends.up", "Backends connected and in rotation",
        () -> readiness().backendsUp());
    for (BackendPool.Backend b : backends.backends()) {
      metrics.flag("beamgate.backend.up", "1 when the backend is connected and in rotation",
          () -> b.up && !b.ejected, "backend", b.node);
      metrics.gauge("beamgate.backend.in.flight", "Calls in flight to the backend",
          b.inFlight::get, "backend", b.node);
    }
    metrics.gauge("beamgate.bridge.links.up", "Bridge links up, opened or accepted",
        () -> (int) bridgeLinks.stream().filter(BridgeLink::up).count()
            + (clusterHub == null ? 0 : clusterHub.sessions().size()));
    metrics.flag("beamgate.audit.writable", "1 while audit records can be written",
        () -> Boolean.TRUE.equals(audit.status().get("writable")));
    metrics.gauge("beamgate.audit.lost", "Audit records not written since the start",
        () -> (int) Math.min(Integer.MAX_VALUE,
            ((Number) audit.status().getOrDefault("lost", 0)).longValue()));
    metrics.gauge("beamgate.atom.budget.used", "Atoms forwarded to the cluster so far",
        () -> (int) Math.min(Integer.MAX_VALUE, guard.budget().used()));
    metrics.gauge("beamgate.atom.budget.limit", "The policy's atom budget",
        () -> (int) Math.min(Integer.MAX_VALUE, guard.budget().limit()));
  }

  io.beamgate.gateway.ops.GatewayMetrics metrics() {
    return metrics;
  }

  /** The admin HTTP listener's address, or null when none is configured. */
  public InetSocketAddress adminAddress() {
    return adminHttp == null ? null : adminHttp.address();
  }

  public static String version() {
    String v = GatewayServer.class.getPackage().getImplementationVersion();
    return "beamgate " + (v == null ? "dev" : v);
  }

  /**
   * Stops accepting, tells every client it is closing, waits up to {@code grace} for calls in
   * flight, then leaves the cluster.
   */
  public void shutdown(Duration grace) {
    closed = true;
    if (listener != null) {
      listener.close().awaitUninterruptibly();
    }
    long end = System.nanoTime() + grace.toNanos();
    while (admission != null && admission.inFlight() > 0 && System.nanoTime() < end) {
      try {
        Thread.sleep(20);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        break;
      }
    }
    for (ClientConnection c : connections) {
      c.closeWith(Error.Code.CLOSING, "the gateway is shutting down");
    }
    close();
  }

  @Override
  public void close() {
    closed = true;
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
      listener.close().awaitUninterruptibly();
    }
    if (workers != null) {
      if (!sharedWorkers) {
        workers.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly();
      }
      boss.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly();
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
