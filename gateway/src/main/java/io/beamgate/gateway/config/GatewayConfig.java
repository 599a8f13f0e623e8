package io.beamgate.gateway.config;

import java.nio.file.Path;
import java.util.List;

/**
 * The gateway's configuration file, as {@link GatewayConfigFile} reads it. Paths are resolved
 * against the file's directory. Each field's key, default, bounds and meaning are in
 * {@link ConfigTables} (and, generated from it, docs/admin-guide.md section 4).
 */
public record GatewayConfig(
    Path file,
    Listen listen,
    Tls tls,
    Cluster cluster,
    Limits limits,
    Path policy,
    Audit audit,
    Reload reload,
    BridgeSettings bridge,
    List<Bridge> bridges,
    Path atomState,
    Admin admin,
    Grpc grpc,
    Scale scale) {

  /** As below, with limits kept by this gateway alone (no {@code scale} section). */
  public GatewayConfig(Path file, Listen listen, Tls tls, Cluster cluster, Limits limits,
      Path policy, Audit audit, Reload reload, BridgeSettings bridge, List<Bridge> bridges,
      Path atomState, Admin admin, Grpc grpc) {
    this(file, listen, tls, cluster, limits, policy, audit, reload, bridge, bridges, atomState,
        admin, grpc, null);
  }

  /** As below, with the gRPC door's defaults (tests, tools). */
  public GatewayConfig(Path file, Listen listen, Tls tls, Cluster cluster, Limits limits,
      Path policy, Audit audit, Reload reload, BridgeSettings bridge, List<Bridge> bridges,
      Path atomState, Admin admin) {
    this(file, listen, tls, cluster, limits, policy, audit, reload, bridge, bridges, atomState,
        admin, Grpc.DEFAULTS, null);
  }

  /**
   * The gRPC door (ALPN h2 on the listener's port; always on, under the same policy).
   *
   * @param reflection whether gRPC server reflection answers (default false): it shows the
   *     public .proto only, but lets anyone with a client certificate list the services
   * @param keepalivePermitSeconds the shortest keepalive ping interval accepted from a client
   */
  public record Grpc(boolean reflection, int keepalivePermitSeconds) {
    public static final Grpc DEFAULTS = new Grpc(false, 5);
  }

  /** As below, with no admin HTTP listener (tests, tools). */
  public GatewayConfig(Path file, Listen listen, Tls tls, Cluster cluster, Limits limits,
      Path policy, Audit audit, Reload reload, BridgeSettings bridge, List<Bridge> bridges,
      Path atomState) {
    this(file, listen, tls, cluster, limits, policy, audit, reload, bridge, bridges, atomState,
        null, Grpc.DEFAULTS, null);
  }

  /**
   * Limits shared by the gateways of one cluster (null: this gateway keeps its own, the
   * default). The gateways find each other through the backends (docs/deployment.md): each
   * enforces its share of every rule's rate and concurrency (the limit divided by the
   * gateways up), and new atoms are charged against the backends' measured atom counts.
   *
   * @param group gateways of one group share; another group on the same backends does not
   * @param pollMillis how often each backend is asked who is up and how many atoms it has
   */
  public record Scale(String group, int pollMillis) {}

  /** The atom budget's state file when the configuration names none, beside it. */
  public static final String DEFAULT_ATOM_STATE = ConfigTables.TOP.row("atom_state").dflt();

  /** As above, with the atom budget's state file in its default place (tests, tools). */
  public GatewayConfig(Path file, Listen listen, Tls tls, Cluster cluster, Limits limits,
      Path policy, Audit audit, Reload reload, BridgeSettings bridge, List<Bridge> bridges) {
    this(file, listen, tls, cluster, limits, policy, audit, reload, bridge, bridges,
        file == null ? null : file.toAbsolutePath().resolveSibling(DEFAULT_ATOM_STATE));
  }

  /**
   * Bounds of every bridge link, opened or accepted (docs/bridge-guide.md).
   *
   * @param maxProxies stand-in pids (and, separately, references) kept per link; the least
   *     recently used are forgotten past it
   * @param keepaliveMillis a ping goes out on a link idle this long; a link silent for three
   *     times this is closed
   * @param maxQueueBytes bytes waiting to go out on a link; past it the link stops reading
   *     (from its cluster, or the link it accepted) until the queue is half as long
   *     (backpressure), and past four times this plus {@code maxFrameBytes} it is closed
   * @param maxFrameBytes largest frame accepted from the other gateway
   * @param callTimeoutMillis longest a call from the other side may run here (its rule's
   *     timeout applies when shorter)
   * @param names where sends and monitors by registered name from another cluster go, by name
   *     (a node of {@code cluster.backends}); a name not listed goes to the first backend that
   *     is up
   */
  public record BridgeSettings(int maxProxies, int keepaliveMillis, int maxQueueBytes,
      int maxFrameBytes, int callTimeoutMillis, java.util.Map<String, String> names) {
    public BridgeSettings {
      names = java.util.Map.copyOf(names);
    }
  }

  /**
   * A link this gateway opens to another cluster's gateway, whose cluster then appears here
   * as the node {@code nodeName}.
   *
   * @param name a label for logs and audit records
   * @param host the other gateway's address
   * @param port its listener port
   * @param expect who the other gateway must be: a principal rule (dns:..., uri:..., cn:...,
   *     sha256:...) its certificate must match
   * @param nodeName the node name the other cluster takes here (alive@host)
   * @param listenPort the distribution port of that node (0: any free one, told to EPMD)
   * @param visible whether that node is a visible node of this cluster (default: hidden, as
   *     erl -hidden; a visible one would be waited for by {@code global}, which it never
   *     answers, so {@code global:sync()} would block on this cluster's nodes)
   */
  public record Bridge(String name, String host, int port, String expect, String nodeName,
      int listenPort, int reconnectMinMillis, int reconnectMaxMillis, boolean visible) {}

  /**
   * The admin HTTP listener: metrics, health and status for operators' tools (null: none, the
   * default). Plain HTTP without authentication, so it listens on loopback unless
   * {@code allowRemote} says otherwise.
   *
   * @param address where it listens (default 127.0.0.1)
   * @param port its port
   * @param allowRemote whether a non-loopback address is accepted: whoever reaches it reads
   *     the gateway's backends, principals' rule ids and counters
   */
  public record Admin(String address, int port, boolean allowRemote) {}

  /**
   * The public mTLS listener.
   *
   * @param proxyProtocol PROXY protocol from load balancers (off: {@link ProxyProtocol#OFF})
   */
  public record Listen(String address, int port, ProxyProtocol proxyProtocol) {
    public Listen(String address, int port) {
      this(address, port, ProxyProtocol.OFF);
    }

    public Listen {
      java.util.Objects.requireNonNull(proxyProtocol, "proxyProtocol");
    }
  }

  /**
   * PROXY protocol (v1 or v2, as HAProxy's send-proxy and send-proxy-v2 write it) on the
   * listener: a connection from one of {@code from} must start with a PROXY header, whose
   * source address then stands for the client in audit records and logs; a connection from
   * anywhere else that starts with one is refused (it would forge its address). Connections
   * from elsewhere without a header are served as before.
   *
   * @param from the load balancers' addresses or blocks (empty: PROXY protocol off, the
   *     default)
   */
  public record ProxyProtocol(List<Cidr> from) {
    public static final ProxyProtocol OFF = new ProxyProtocol(List.of());

    public ProxyProtocol {
      from = List.copyOf(from);
    }

    public boolean enabled() {
      return !from.isEmpty();
    }

    /** Whether {@code a} is a listed load balancer. */
    public boolean trusts(java.net.InetAddress a) {
      return from.stream().anyMatch(c -> c.contains(a));
    }
  }

  /** The listener's TLS files. */
  public record Tls(Path certificate, Path key, Path clientCas, Path crl, boolean allowTls12,
      int handshakeTimeoutMillis, int verifiedChainsCache, int verifiedChainsMaxAgeMillis) {
    /** The cache of validated client chains these settings ask for (0 entries: none). */
    public io.beamgate.security.tls.ChainCacheLimits chainCache() {
      return new io.beamgate.security.tls.ChainCacheLimits(verifiedChainsCache,
          java.time.Duration.ofMillis(verifiedChainsMaxAgeMillis));
    }
  }

  /**
   * The cluster side: the gateway's hidden node and the backends it calls.
   *
   * @param hashArgument with {@code routing: hash}, the argument whose value picks the backend
   * @param reconnectMinMillis first wait before reconnecting to a backend that went down
   * @param reconnectMaxMillis the cap of the doubling wait (with jitter)
   * @param ioThreads the I/O threads of the gateway's node, which its client and bridge
   *     connections share (0: the number of cores, at most 4)
   * @param ioAffinity {@code backend}: a client connection is served by a backend
   *     connection's I/O thread; {@code spread}: by the least busy one
   * @param netTicktimeSeconds OTP's {@code net_ticktime} for the gateway's nodes: a backend
   *     silent this long is declared down; ticks go out every quarter of it. Must equal the
   *     backends' {@code -kernel net_ticktime} (OTP default 60)
   * @param outlier when a backend whose calls time out leaves the rotation
   */
  public record Cluster(String nodeName, Path cookieFile, String listenAddress, int epmdPort,
      List<Backend> backends, String routing, int hashArgument, int reconnectMinMillis,
      int reconnectMaxMillis, int ioThreads, String ioAffinity, int netTicktimeSeconds,
      Outlier outlier) {}

  /**
   * Outlier detection: a backend that is connected but does not answer (frozen, overloaded,
   * or behind a partition that has not reset the connection) leaves the rotation long before
   * {@code net_ticktime} declares it down.
   *
   * @param consecutiveTimeouts this many calls to one backend in a row ending in a timeout
   *     eject it (0: never)
   * @param maxSilenceMillis a backend with calls in flight and no answer to any of them for
   *     this long is ejected, before the calls' own timeouts (0: never). A backend running only
   *     calls longer than this is ejected too, then probed back in
   * @param ejectMillis how long an ejected backend stays out before it is probed
   * @param maxEjectionPercent at most this share of the backends is ejected at once (rounded
   *     down); the last backend in rotation is never ejected, whatever this says
   * @param probeTimeoutMillis how long a probe (net_kernel's is_auth, what net_adm:ping asks)
   *     may take before the backend is ejected again
   */
  public record Outlier(int consecutiveTimeouts, int maxSilenceMillis, int ejectMillis,
      int maxEjectionPercent, int probeTimeoutMillis) {}

  /** A backend node; {@code port} 0 means: ask EPMD on the node's host. */
  public record Backend(String node, int port) {
    @Override
    public String toString() {
      return port == 0 ? node : node + " (port " + port + ")";
    }
  }

  /**
   * Gateway-wide bounds.
   *
   * @param maxConnections client connections open at once
   * @param maxInFlight requests in flight over all connections; past it: RESOURCE_EXHAUSTED
   * @param maxInFlightPerConnection requests in flight on one connection; past it the gateway
   *     stops reading from that connection until answers go out (backpressure)
   * @param maxFrameBytes largest frame accepted from a client
   * @param idleTimeoutMillis a connection with nothing in flight and no frame for this long
   *     is closed
   * @param controlPerSecond pings and cancels one connection may send per second (bursts up
   *     to one second's worth); past it they are answered RESOURCE_EXHAUSTED
   * @param maxOutputBytes answers queued for one client that does not read them; from a
   *     quarter of it (at most 1 MiB) the gateway starts none of that client's requests, and
   *     past it, once the client has read nothing for {@code outputStallMillis}, the
   *     connection is closed
   * @param outputStallMillis how long a client over {@code maxOutputBytes} may go without
   *     reading before it is closed (a client that reads, however slowly, is only slowed)
   */
  public record Limits(int maxConnections, int maxInFlight, int maxInFlightPerConnection,
      int maxFrameBytes, int idleTimeoutMillis, int controlPerSecond, int maxOutputBytes,
      int outputStallMillis) {
    public static final int DEFAULT_CONTROL_PER_SECOND =
        ConfigTables.LIMITS.row("control_per_second").intDefault();
    public static final int DEFAULT_MAX_OUTPUT_BYTES =
        ConfigTables.LIMITS.row("max_output_bytes").intDefault();
    public static final int DEFAULT_OUTPUT_STALL_MILLIS =
        ConfigTables.LIMITS.row("output_stall_ms").intDefault();

    public Limits(int maxConnections, int maxInFlight, int maxInFlightPerConnection,
        int maxFrameBytes, int idleTimeoutMillis) {
      this(maxConnections, maxInFlight, maxInFlightPerConnection, maxFrameBytes,
          idleTimeoutMillis, DEFAULT_CONTROL_PER_SECOND, DEFAULT_MAX_OUTPUT_BYTES,
          DEFAULT_OUTPUT_STALL_MILLIS);
    }

    /** Where the gateway stops starting a connection's requests (Netty's high watermark). */
    public int outputHighWater() {
      return Math.max(1, Math.min(1 << 20, maxOutputBytes / 4));
    }
  }

  /**
   * The audit log.
   *
   * @param file where records are appended (null: standard output)
   * @param onFailure what happens to requests while a record cannot be written: refused
   *     (fail closed, the default) or served with their records lost and counted (fail open)
   */
  public record Audit(Path file, io.beamgate.security.audit.AuditLog.OnFailure onFailure) {
    public Audit {
      java.util.Objects.requireNonNull(onFailure, "onFailure");
    }
  }

  /**
   * Live reloads of the policy, certificates and CRL.
   *
   * @param watchIntervalMillis how often the files are checked for changes (0: never; reload
   *     on request only)
   * @param adminSocket the Unix socket {@code beamgate gateway reload} talks to
   */
  public record Reload(int watchIntervalMillis, Path adminSocket) {}
}
