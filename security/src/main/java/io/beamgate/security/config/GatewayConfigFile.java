package io.beamgate.security.config;

import io.beamgate.security.audit.AuditLog;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.snakeyaml.engine.v2.nodes.Node;

/**
 * Reads the gateway configuration: strict YAML (unknown or duplicate keys, wrong types and
 * missing fields are errors with file and line).
 *
 * <pre>
 * version: 1
 * listen: {address: 0.0.0.0, port: 9443}
 *   # proxy_protocol: {from: [10.0.0.2, 10.0.1.0/28]}  # PROXY v1/v2 from these LBs only
 * tls:
 *   certificate: gateway.pem        # chain, PEM
 *   key: gateway.key                # PKCS#8 PEM, owner-only
 *   client_cas: clients-ca.pem      # CAs that issue client certificates
 *   crl: clients.crl                # optional; when set, must be readable and current
 *   allow_tls12: false
 *   handshake_timeout_ms: 10000
 * cluster:
 *   node_name: beamgate_gw@10.0.0.5
 *   cookie_file: cookie             # owner-only; never logged
 *   listen_address: 10.0.0.5        # distribution listens here only (the LAN)
 *   epmd_port: 4369
 *   backends:                       # node names; EPMD on each host gives the port...
 *     - app@10.0.0.10
 *     - {node: app@10.0.0.11, port: 9100}   # ...or an explicit distribution port
 *   routing: round_robin            # round_robin | least_in_flight | hash
 *   hash_argument: 0                # routing: hash: which argument is the key
 *   reconnect_min_ms: 200
 *   reconnect_max_ms: 30000
 *   io_threads: 0                   # the node's I/O threads, shared by clients (0: cores, <= 4)
 *   net_ticktime_seconds: 60        # as OTP's net_ticktime; must equal the backends'
 *   outlier: {consecutive_timeouts: 5, max_silence_ms: 5000, eject_ms: 10000,
 *             max_ejection_percent: 50, probe_timeout_ms: 2000}  # unanswering backends out
 * limits: {max_connections: 10000, max_in_flight: 10000, max_in_flight_per_connection: 256,
 *          max_frame_bytes: 1048576, idle_timeout_ms: 300000}
 * policy: policy.yaml
 * audit: {file: audit.jsonl, on_failure: refuse}   # or just: audit: audit.jsonl
 * reload: {watch_interval_ms: 2000, admin_socket: beamgate-admin.sock}
 * bridge: {max_proxies: 100000, keepalive_ms: 5000, max_queue_bytes: 16777216,
 *          max_frame_bytes: 16777216, call_timeout_ms: 30000,
 *          names: {kv_server: app@10.0.0.11}}   # where a registered name from a bridge goes
 * admin: {listen: 127.0.0.1:9464}   # metrics, health, status over HTTP (default: off);
 *                                   # a port alone means loopback; another address needs
 *                                   # allow_remote: true (no authentication on it)
 * scale: {group: edge1, poll_ms: 1000}  # limits shared with the group's other gateways
 * bridges:                          # links to other clusters' gateways
 *   - name: cluster-a
 *     connect: {host: gw-a.example.org, port: 9443}
 *     expect: dns:gw-a.example.org  # the other gateway's certificate must match
 *     node_name: clusterA@10.0.0.5  # cluster A appears here under this name
 *     listen_port: 0                # its distribution port (0: any, told to EPMD)
 *     visible: false                # hidden by default (global never waits for it)
 * </pre>
 */
public final class GatewayConfigFile {
  private static final Set<String> TOP = Set.of("version", "listen", "tls", "cluster", "limits",
      "policy", "audit", "reload", "bridge", "bridges", "atom_state", "admin", "scale");
  private static final Set<String> SCALE = Set.of("group", "poll_ms");
  private static final Set<String> ADMIN = Set.of("listen", "allow_remote");
  private static final Set<String> BRIDGE = Set.of("max_proxies", "keepalive_ms",
      "max_queue_bytes", "max_frame_bytes", "call_timeout_ms", "names");
  private static final Set<String> BRIDGES = Set.of("name", "connect", "expect", "node_name",
      "listen_port", "reconnect_min_ms", "reconnect_max_ms", "visible");
  private static final Set<String> CONNECT = Set.of("host", "port");

  /** The bridge bounds when the file sets none. */
  public static final GatewayConfig.BridgeSettings DEFAULT_BRIDGE =
      new GatewayConfig.BridgeSettings(100_000, 5_000, 16 << 20, 16 << 20, 30_000, Map.of());
  private static final Set<String> AUDIT = Set.of("file", "on_failure");
  private static final Set<String> RELOAD = Set.of("watch_interval_ms", "admin_socket");
  private static final Set<String> BACKEND = Set.of("node", "port");
  private static final Set<String> LISTEN = Set.of("address", "port", "proxy_protocol");
  private static final Set<String> PROXY_PROTOCOL = Set.of("from");
  private static final Set<String> TLS = Set.of("certificate", "key", "client_cas", "crl",
      "allow_tls12", "handshake_timeout_ms");
  private static final Set<String> CLUSTER = Set.of("node_name", "cookie_file",
      "listen_address", "epmd_port", "backends", "routing", "hash_argument", "reconnect_min_ms",
      "reconnect_max_ms", "io_threads", "net_ticktime_seconds", "outlier");
  private static final Set<String> OUTLIER = Set.of("consecutive_timeouts",
      "max_silence_ms", "eject_ms", "max_ejection_percent", "probe_timeout_ms");

  /** Outlier detection when the file sets none. */
  public static final GatewayConfig.Outlier DEFAULT_OUTLIER =
      new GatewayConfig.Outlier(5, 5_000, 10_000, 50, 2_000);
  private static final Set<String> LIMITS = Set.of("max_connections", "max_in_flight",
      "max_in_flight_per_connection", "max_frame_bytes", "idle_timeout_ms",
      "control_per_second", "max_output_bytes", "output_stall_ms");
  private static final Set<String> ROUTING = Set.of("round_robin", "least_in_flight", "hash");

  /** The limits when the file sets none. */
  public static final GatewayConfig.Limits DEFAULT_LIMITS = new GatewayConfig.Limits(10_000,
      10_000, 256, 1 << 20, 300_000);

  private GatewayConfigFile() {}

  public static GatewayConfig load(Path file) throws ConfigException, IOException {
    StrictYaml.checkNotWritableByOthers(file);
    return parse(file, Files.readString(file, StandardCharsets.UTF_8));
  }

  public static GatewayConfig parse(Path file, String text) throws ConfigException {
    StrictYaml y = new StrictYaml(file.toString());
    Path dir = file.toAbsolutePath().getParent();
    Node root = y.root(text, "configuration");
    Map<String, Node> top = y.mapping(root, "configuration", TOP);
    // Each section is read on its own: a problem in one does not hide those of the others
    // (gateway check reports them all in one run).
    List<String> errors = new ArrayList<>();
    part(errors, () -> {
      int version = y.integer(top, "version", root, 1, 1, true);
      if (version != 1) {
        throw y.err(top.get("version"), "version", version + " (expected: 1)");
      }
      return version;
    });
    GatewayConfig.Listen listen = part(errors, () -> {
      Map<String, Node> l = y.mapping(y.required(top, "listen", root, "configuration"),
          "listen", LISTEN);
      GatewayConfig.Listen li = new GatewayConfig.Listen(
          y.string(l, "address", root, true), y.integer(l, "port", root, 0, 1, true),
          proxyProtocol(y, l));
      if (li.port() > 65535) {
        throw y.err(l.get("port"), "port", li.port() + " (expected: 1..65535)");
      }
      return li;
    });
    GatewayConfig.Tls tls = part(errors, () -> {
      Map<String, Node> t = y.mapping(y.required(top, "tls", root, "configuration"), "tls",
          TLS);
      Node tlsNode = top.get("tls");
      return new GatewayConfig.Tls(
          path(dir, y.string(t, "certificate", tlsNode, true)),
          path(dir, y.string(t, "key", tlsNode, true)),
          path(dir, y.string(t, "client_cas", tlsNode, true)),
          path(dir, y.string(t, "crl", tlsNode, false)),
          y.bool(t, "allow_tls12", false),
          y.integer(t, "handshake_timeout_ms", tlsNode, 10_000, 1, false));
    });
    List<GatewayConfig.Backend> backends = new ArrayList<>();
    GatewayConfig.Cluster cluster = part(errors, () -> {
      Node clusterNode = y.required(top, "cluster", root, "configuration");
      Map<String, Node> c = y.mapping(clusterNode, "cluster", CLUSTER);
      Node bn = y.required(c, "backends", clusterNode, "cluster");
      java.util.Set<String> seen = new java.util.HashSet<>();
      for (Node b : y.sequence(bn, "backends")) {
        String name;
        int port = 0;
        if (b instanceof org.snakeyaml.engine.v2.nodes.MappingNode) {
          Map<String, Node> bm = y.mapping(b, "backends", BACKEND);
          name = y.string(bm, "node", b, true);
          port = y.integer(bm, "port", b, 0, 1, true);
          if (port > 65535) {
            throw y.err(bm.get("port"), "port", port + " (expected: 1..65535)");
          }
        } else {
          name = y.scalar(b, "backends");
        }
        if (name.indexOf('@') <= 0 || name.endsWith("@")) {
          throw y.err(b, "backends", "'" + name + "' (expected: a node name, alive@host)");
        }
        if (!seen.add(name)) {
          throw y.err(b, "backends", "'" + name + "' is listed twice");
        }
        backends.add(new GatewayConfig.Backend(name, port));
      }
      if (backends.isEmpty()) {
        throw y.err(bn, "backends", "empty: the gateway would have nowhere to send calls");
      }
      String routing = c.containsKey("routing") ? y.scalar(c.get("routing"), "routing")
          : "round_robin";
      if (!ROUTING.contains(routing)) {
        throw y.err(c.get("routing"), "routing", "'" + routing + "' (expected one of "
            + new java.util.TreeSet<>(ROUTING) + ")");
      }
      String nodeName = y.string(c, "node_name", clusterNode, true);
      if (nodeName.indexOf('@') <= 0) {
        throw y.err(c.get("node_name"), "node_name", "'" + nodeName + "' (expected: alive@host)");
      }
      int reconnectMin = y.integer(c, "reconnect_min_ms", clusterNode, 200, 1, false);
      int reconnectMax = y.integer(c, "reconnect_max_ms", clusterNode, 30_000, 1, false);
      if (reconnectMax < reconnectMin) {
        throw y.err(c.get("reconnect_max_ms"), "reconnect_max_ms", reconnectMax
            + " (expected: >= reconnect_min_ms, " + reconnectMin + ")");
      }
      return new GatewayConfig.Cluster(nodeName,
          path(dir, y.string(c, "cookie_file", clusterNode, true)),
          y.string(c, "listen_address", clusterNode, true),
          y.integer(c, "epmd_port", clusterNode, 4369, 1, false), List.copyOf(backends), routing,
          y.integer(c, "hash_argument", clusterNode, 0, 0, false), reconnectMin, reconnectMax,
          ioThreads(y, c, clusterNode), netTicktime(y, c, clusterNode),
          outlier(y, c));
    });
    String nodeName = cluster == null ? null : cluster.nodeName();
    GatewayConfig.Limits limits = part(errors, () -> {
      GatewayConfig.Limits limits0 = DEFAULT_LIMITS;
      if (top.containsKey("limits")) {
        Map<String, Node> m = y.mapping(top.get("limits"), "limits", LIMITS);
        Node ln = top.get("limits");
        GatewayConfig.Limits d = limits0;
        limits0 = new GatewayConfig.Limits(
            y.integer(m, "max_connections", ln, d.maxConnections(), 1, false),
            y.integer(m, "max_in_flight", ln, d.maxInFlight(), 1, false),
            y.integer(m, "max_in_flight_per_connection", ln, d.maxInFlightPerConnection(),
                1, false),
            y.integer(m, "max_frame_bytes", ln, d.maxFrameBytes(), 64, false),
            y.integer(m, "idle_timeout_ms", ln, d.idleTimeoutMillis(), 1, false),
            y.integer(m, "control_per_second", ln, d.controlPerSecond(), 1, false),
            y.integer(m, "max_output_bytes", ln, d.maxOutputBytes(), 4096, false),
          y.integer(m, "output_stall_ms", ln, d.outputStallMillis(), 1, false));
      }
      return limits0;
    });
    GatewayConfig.Reload reload = part(errors, () -> {
      GatewayConfig.Reload reload0 = new GatewayConfig.Reload(2_000,
          dir.resolve("beamgate-admin.sock"));
      if (top.containsKey("reload")) {
        Map<String, Node> m = y.mapping(top.get("reload"), "reload", RELOAD);
        Node rn = top.get("reload");
        String sock = y.string(m, "admin_socket", rn, false);
        reload0 = new GatewayConfig.Reload(
            y.integer(m, "watch_interval_ms", rn, reload0.watchIntervalMillis(), 0, false),
            sock == null ? reload0.adminSocket() : path(dir, sock));
      }
      return reload0;
    });
    GatewayConfig.BridgeSettings bridge = part(errors, () -> {
      GatewayConfig.BridgeSettings bridge0 = DEFAULT_BRIDGE;
      if (top.containsKey("bridge")) {
        Map<String, Node> m = y.mapping(top.get("bridge"), "bridge", BRIDGE);
        Node bn2 = top.get("bridge");
        GatewayConfig.BridgeSettings d = bridge0;
        bridge0 = new GatewayConfig.BridgeSettings(
            y.integer(m, "max_proxies", bn2, d.maxProxies(), 16, false),
            y.integer(m, "keepalive_ms", bn2, d.keepaliveMillis(), 10, false),
            y.integer(m, "max_queue_bytes", bn2, d.maxQueueBytes(), 4096, false),
            y.integer(m, "max_frame_bytes", bn2, d.maxFrameBytes(), 1024, false),
            y.integer(m, "call_timeout_ms", bn2, d.callTimeoutMillis(), 1, false),
            names(y, m, backends));
      }
      return bridge0;
    });
    List<GatewayConfig.Bridge> bridges = new ArrayList<>();
    part(errors, () -> {
      if (top.containsKey("bridges")) {
        java.util.Set<String> names = new java.util.HashSet<>();
        for (Node b : y.sequence(top.get("bridges"), "bridges")) {
          Map<String, Node> m = y.mapping(b, "bridges", BRIDGES);
          String name = y.string(m, "name", b, true);
          if (!names.add(name)) {
            throw y.err(b, "bridges", "'" + name + "' is listed twice");
          }
          Node cn = y.required(m, "connect", b, "bridges");
          Map<String, Node> cm = y.mapping(cn, "connect", CONNECT);
          int port = y.integer(cm, "port", cn, 0, 1, true);
          if (port > 65535) {
            throw y.err(cm.get("port"), "port", port + " (expected: 1..65535)");
          }
          String expect = y.string(m, "expect", b, true);
          try {
            io.beamgate.security.identity.PrincipalMatcher.parse(expect);
          } catch (IllegalArgumentException e) {
            throw y.err(m.get("expect"), "expect", e.getMessage());
          }
          String node = y.string(m, "node_name", b, true);
          if (node.indexOf('@') <= 0 || node.endsWith("@")) {
            throw y.err(m.get("node_name"), "node_name", "'" + node
                + "' (expected: alive@host, the name the other cluster takes here)");
          }
          if (node.equals(nodeName)) { // (null when the cluster section is broken)
            throw y.err(m.get("node_name"), "node_name", "'" + node
                + "' is cluster.node_name already");
          }
          int lp = y.integer(m, "listen_port", b, 0, 0, false);
          if (lp > 65535) {
            throw y.err(m.get("listen_port"), "listen_port", lp + " (expected: 0..65535)");
          }
          int rmin = y.integer(m, "reconnect_min_ms", b, 200, 1, false);
          int rmax = y.integer(m, "reconnect_max_ms", b, 30_000, 1, false);
          if (rmax < rmin) {
            throw y.err(m.get("reconnect_max_ms"), "reconnect_max_ms", rmax
                + " (expected: >= reconnect_min_ms, " + rmin + ")");
          }
          bridges.add(new GatewayConfig.Bridge(name, y.string(cm, "host", cn, true), port, expect,
              node, lp, rmin, rmax, y.bool(m, "visible", false)));
        }
      }
      return bridges;
    });
    Path policy = part(errors, () -> path(dir, y.string(top, "policy", root, true)));
    GatewayConfig.Audit audit = part(errors, () -> audit(y, top, root, dir));
    Path atomState = part(errors, () -> dir.resolve(Optional.ofNullable(
        y.string(top, "atom_state", root, false)).orElse(GatewayConfig.DEFAULT_ATOM_STATE)));
    GatewayConfig.Admin admin = part(errors, () -> admin(y, top));
    GatewayConfig.Scale scale = part(errors, () -> scale(y, top));
    if (!errors.isEmpty()) {
      throw new ConfigException(file.toString(), errors);
    }
    return new GatewayConfig(file, listen, tls, cluster, limits, policy, audit, reload, bridge,
        List.copyOf(bridges), atomState, admin, scale);
  }

  private interface Part<T> {
    T read() throws ConfigException;
  }

  /** Reads one part of the file; its problem, if any, is recorded and null returned. */
  private static <T> T part(List<String> errors, Part<T> p) {
    try {
      return p.read();
    } catch (ConfigException e) {
      errors.add(e.getMessage());
      return null;
    }
  }

  /**
   * admin: {listen: [ADDRESS:]PORT, allow_remote: false}. The listener serves plain HTTP with
   * no authentication: loopback unless the file says, in so many words, that others may
   * reach it.
   */
  private static GatewayConfig.Admin admin(StrictYaml y, Map<String, Node> top)
      throws ConfigException {
    Node n = top.get("admin");
    if (n == null) {
      return null;
    }
    Map<String, Node> m = y.mapping(n, "admin", ADMIN);
    Node ln = y.required(m, "listen", n, "admin");
    String listen = y.scalar(ln, "listen");
    String host = "127.0.0.1";
    String portText = listen;
    int colon = listen.lastIndexOf(':');
    if (colon >= 0) {
      host = listen.substring(0, colon);
      portText = listen.substring(colon + 1);
      if (host.startsWith("[") && host.endsWith("]")) {
        host = host.substring(1, host.length() - 1);
      }
    }
    int port;
    try {
      port = Integer.parseInt(portText);
    } catch (NumberFormatException e) {
      port = -1;
    }
    if (host.isEmpty() || port < 1 || port > 65535) {
      throw y.err(ln, "listen", "'" + listen + "' (expected: PORT or ADDRESS:PORT, port"
          + " 1..65535, e.g. 127.0.0.1:9464)");
    }
    boolean remote = y.bool(m, "allow_remote", false);
    if (!remote && !isLoopback(host)) {
      throw y.err(ln, "listen", "'" + listen + "' is not a loopback address (expected:"
          + " 127.0.0.1, ::1 or localhost; the admin listener has no authentication, so set"
          + " allow_remote: true only behind a firewall that lets the monitoring in alone)");
    }
    return new GatewayConfig.Admin(host, port, remote);
  }

  /** scale: {group: NAME, poll_ms: 1000}; absent: limits kept by this gateway alone. */
  private static GatewayConfig.Scale scale(StrictYaml y, Map<String, Node> top)
      throws ConfigException {
    Node n = top.get("scale");
    if (n == null) {
      return null;
    }
    Map<String, Node> m = y.mapping(n, "scale", SCALE);
    String group = m.containsKey("group") ? y.scalar(m.get("group"), "group") : "default";
    if (!group.matches("[A-Za-z0-9_.-]{1,64}")) {
      throw y.err(m.get("group"), "group", "'" + group + "' (expected: 1..64 letters, digits,"
          + " '_', '.' or '-')");
    }
    int poll = y.integer(m, "poll_ms", n, 1_000, 100, false);
    if (poll > 60_000) {
      throw y.err(m.get("poll_ms"), "poll_ms", poll + " (expected: 100..60000)");
    }
    return new GatewayConfig.Scale(group, poll);
  }

  /** listen.proxy_protocol: {from: [ADDRESS or ADDRESS/PREFIX, ...]}; absent: off. */
  private static GatewayConfig.ProxyProtocol proxyProtocol(StrictYaml y, Map<String, Node> l)
      throws ConfigException {
    Node n = l.get("proxy_protocol");
    if (n == null) {
      return GatewayConfig.ProxyProtocol.OFF;
    }
    Map<String, Node> m = y.mapping(n, "proxy_protocol", PROXY_PROTOCOL);
    Node fn = y.required(m, "from", n, "proxy_protocol");
    List<Cidr> from = new ArrayList<>();
    for (Node e : y.sequence(fn, "from")) {
      String text = y.scalar(e, "from");
      try {
        from.add(Cidr.parse(text));
      } catch (IllegalArgumentException ex) {
        throw y.err(e, "from", ex.getMessage());
      }
    }
    if (from.isEmpty()) {
      throw y.err(fn, "from", "empty (expected: the load balancers' addresses; remove"
          + " proxy_protocol to turn it off)");
    }
    return new GatewayConfig.ProxyProtocol(from);
  }

  /** Loopback by its literal form only: a host name is not resolved while reading a file. */
  static boolean isLoopback(String host) {
    if (host.equals("localhost")) {
      return true;
    }
    if (!host.matches("[0-9.]+") && !host.contains(":")) {
      return false;
    }
    try {
      return java.net.InetAddress.getByName(host).isLoopbackAddress();
    } catch (java.net.UnknownHostException e) {
      return false;
    }
  }

  /**
   * audit: a path (the first form, still accepted), or {file, on_failure}. Without a file,
   * records go to standard output. on_failure defaults to refuse: a security gateway that
   * cannot record its decisions stops making them.
   */
  private static GatewayConfig.Audit audit(StrictYaml y, Map<String, Node> top, Node root,
      Path dir) throws ConfigException {
    AuditLog.OnFailure dflt = AuditLog.OnFailure.REFUSE;
    Node n = top.get("audit");
    if (n == null) {
      return new GatewayConfig.Audit(null, dflt);
    }
    if (!(n instanceof org.snakeyaml.engine.v2.nodes.MappingNode)) {
      return new GatewayConfig.Audit(path(dir, y.string(top, "audit", root, true)), dflt);
    }
    Map<String, Node> m = y.mapping(n, "audit", AUDIT);
    AuditLog.OnFailure onFailure = dflt;
    if (m.containsKey("on_failure")) {
      String v = y.scalar(m.get("on_failure"), "on_failure");
      onFailure = java.util.Arrays.stream(AuditLog.OnFailure.values())
          .filter(f -> f.configName().equals(v)).findFirst()
          .orElseThrow(() -> y.err(m.get("on_failure"), "on_failure", "'" + v
              + "' (expected: refuse, to refuse requests while records cannot be written,"
              + " or continue, to serve them and count the lost records)"));
    }
    return new GatewayConfig.Audit(path(dir, y.string(m, "file", n, false)), onFailure);
  }

  /** bridge.names: registered name to a backend node; each node must be a backend. */
  private static Map<String, String> names(StrictYaml y, Map<String, Node> bridge,
      List<GatewayConfig.Backend> backends) throws ConfigException {
    if (!bridge.containsKey("names")) {
      return Map.of();
    }
    Map<String, String> out = new java.util.LinkedHashMap<>();
    for (Map.Entry<String, Node> e : y.mapping(bridge.get("names"), "names", null).entrySet()) {
      String node = y.scalar(e.getValue(), e.getKey());
      if (backends.stream().noneMatch(b -> b.node().equals(node))) {
        throw y.err(e.getValue(), e.getKey(), "'" + node + "' is not in cluster.backends");
      }
      out.put(e.getKey(), node);
    }
    return out;
  }

  private static int ioThreads(StrictYaml y, Map<String, Node> c, Node clusterNode)
      throws ConfigException {
    int n = y.integer(c, "io_threads", clusterNode, 0, 0, false);
    if (n > 256) {
      throw y.err(c.get("io_threads"), "io_threads", n + " (expected: 0..256)");
    }
    return n;
  }

  private static int netTicktime(StrictYaml y, Map<String, Node> c, Node clusterNode)
      throws ConfigException {
    int n = y.integer(c, "net_ticktime_seconds", clusterNode, 60, 1, false);
    if (n > 3600) {
      throw y.err(c.get("net_ticktime_seconds"), "net_ticktime_seconds", n
          + " (expected: 1..3600, the backends' -kernel net_ticktime)");
    }
    return n;
  }

  /** cluster.outlier: when a backend whose calls time out leaves the rotation. */
  private static GatewayConfig.Outlier outlier(StrictYaml y, Map<String, Node> c)
      throws ConfigException {
    GatewayConfig.Outlier d = DEFAULT_OUTLIER;
    if (!c.containsKey("outlier")) {
      return d;
    }
    Node on = c.get("outlier");
    Map<String, Node> m = y.mapping(on, "outlier", OUTLIER);
    int pct = y.integer(m, "max_ejection_percent", on, d.maxEjectionPercent(), 0, false);
    if (pct > 100) {
      throw y.err(m.get("max_ejection_percent"), "max_ejection_percent", pct
          + " (expected: 0..100)");
    }
    return new GatewayConfig.Outlier(
        y.integer(m, "consecutive_timeouts", on, d.consecutiveTimeouts(), 0, false),
        y.integer(m, "max_silence_ms", on, d.maxSilenceMillis(), 0, false),
        y.integer(m, "eject_ms", on, d.ejectMillis(), 1, false), pct,
        y.integer(m, "probe_timeout_ms", on, d.probeTimeoutMillis(), 1, false));
  }

  private static Path path(Path dir, String p) {
    return p == null ? null : dir.resolve(p).normalize();
  }
}
