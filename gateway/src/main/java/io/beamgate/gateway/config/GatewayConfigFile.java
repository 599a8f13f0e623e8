package io.beamgate.gateway.config;

import io.beamgate.security.audit.AuditLog;
import io.beamgate.security.yaml.ConfigException;
import io.beamgate.security.yaml.StrictYaml;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.snakeyaml.engine.v2.nodes.Node;

/**
 * Reads the gateway configuration: strict YAML (unknown or duplicate keys, wrong types and
 * missing fields are errors with file and line). The keys, their defaults and bounds are those
 * of {@link ConfigTables}; what this class adds is what a table cannot say: the short forms
 * (a backend as a bare node name, {@code audit: PATH}), node names, the admin listener's
 * address, and rules between keys (a reconnect cap at least its first wait). A sample file is
 * in docs/admin-guide.md, section 4.
 */
public final class GatewayConfigFile {
  /** The bridge bounds when the file sets none. */
  public static final GatewayConfig.BridgeSettings DEFAULT_BRIDGE;
  /** Outlier detection when the file sets none. */
  public static final GatewayConfig.Outlier DEFAULT_OUTLIER;
  /** The limits when the file sets none. */
  public static final GatewayConfig.Limits DEFAULT_LIMITS;

  static {
    try {
      DEFAULT_BRIDGE = bridge(SectionReader.absent(ConfigTables.BRIDGE, null, null), List.of());
      DEFAULT_OUTLIER = outlier(SectionReader.absent(ConfigTables.OUTLIER, null, null));
      DEFAULT_LIMITS = limits(SectionReader.absent(ConfigTables.LIMITS, null, null));
    } catch (ConfigException e) {
      throw new ExceptionInInitializerError(e); // a default outside its own bounds
    }
  }

  private GatewayConfigFile() {}

  public static GatewayConfig load(Path file) throws ConfigException, IOException {
    return load(file, new ArrayList<>());
  }

  /** As {@link #load(Path)}, adding to {@code settings} the values in force, key by key. */
  public static GatewayConfig load(Path file, List<ConfigSetting> settings)
      throws ConfigException, IOException {
    StrictYaml.checkNotWritableByOthers(file);
    return parse(file, Files.readString(file, StandardCharsets.UTF_8), settings);
  }

  public static GatewayConfig parse(Path file, String text) throws ConfigException {
    return parse(file, text, new ArrayList<>());
  }

  static GatewayConfig parse(Path file, String text, List<ConfigSetting> settings)
      throws ConfigException {
    StrictYaml y = new StrictYaml(file.toString());
    Path dir = file.toAbsolutePath().getParent();
    Node root = y.root(text, "configuration");
    SectionReader top = SectionReader.of(y, ConfigTables.TOP, root, dir, settings);
    // Each section is read on its own: a problem in one does not hide those of the others
    // (gateway check reports them all in one run).
    List<String> errors = new ArrayList<>();
    part(errors, () -> top.integer("version"));
    GatewayConfig.Listen listen = part(errors, () -> {
      SectionReader l = top.section("listen");
      return new GatewayConfig.Listen(l.text("address"), l.integer("port"),
          l.has("proxy_protocol") ? proxyProtocol(l.section("proxy_protocol"))
              : GatewayConfig.ProxyProtocol.OFF);
    });
    GatewayConfig.Tls tls = part(errors, () -> {
      SectionReader t = top.section("tls");
      return new GatewayConfig.Tls(t.path("certificate"), t.path("key"), t.path("client_cas"),
          t.path("crl"), t.bool("allow_tls12"), t.integer("handshake_timeout_ms"),
          t.integer("verified_chains_cache"), t.integer("verified_chains_max_age_ms"));
    });
    List<GatewayConfig.Backend> backends = new ArrayList<>();
    GatewayConfig.Cluster cluster = part(errors, () -> cluster(y, top.section("cluster"),
        backends));
    String nodeName = cluster == null ? null : cluster.nodeName();
    GatewayConfig.Limits limits = part(errors, () -> limits(top.section("limits")));
    GatewayConfig.Reload reload = part(errors, () -> {
      SectionReader r = top.section("reload");
      return new GatewayConfig.Reload(r.integer("watch_interval_ms"), r.path("admin_socket"));
    });
    GatewayConfig.BridgeSettings bridge = part(errors, () -> bridge(top.section("bridge"),
        backends));
    List<GatewayConfig.Bridge> bridges = new ArrayList<>();
    part(errors, () -> bridges(y, top, nodeName, bridges));
    Path policy = part(errors, () -> top.path("policy"));
    GatewayConfig.Audit audit = part(errors, () -> audit(y, top));
    Path atomState = part(errors, () -> top.path("atom_state"));
    GatewayConfig.Admin admin = part(errors, () -> top.has("admin")
        ? admin(top.section("admin")) : null);
    GatewayConfig.Grpc grpc = part(errors, () -> top.has("grpc")
        ? new GatewayConfig.Grpc(top.section("grpc").bool("reflection"),
            top.section("grpc").integer("keepalive_permit_seconds"))
        : GatewayConfig.Grpc.DEFAULTS);
    GatewayConfig.Scale scale = part(errors, () -> top.has("scale")
        ? scale(top.section("scale")) : null);
    if (!errors.isEmpty()) {
      throw new ConfigException(file.toString(), errors);
    }
    return new GatewayConfig(file, listen, tls, cluster, limits, policy, audit, reload, bridge,
        List.copyOf(bridges), atomState, admin, grpc, scale);
  }

  private static GatewayConfig.Cluster cluster(StrictYaml y, SectionReader c,
      List<GatewayConfig.Backend> backends) throws ConfigException {
    java.util.Set<String> seen = new java.util.HashSet<>();
    for (Node b : c.list("backends")) {
      String name;
      int port = 0;
      if (b instanceof org.snakeyaml.engine.v2.nodes.MappingNode) {
        SectionReader bm = c.entry("backends", b);
        name = bm.text("node");
        port = bm.integer("port");
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
      throw c.err("backends", "empty: the gateway would have nowhere to send calls");
    }
    String routing = c.choice("routing");
    String nodeName = c.text("node_name");
    if (nodeName.indexOf('@') <= 0) {
      throw c.err("node_name", "'" + nodeName + "' (expected: alive@host)");
    }
    int reconnectMin = c.integer("reconnect_min_ms");
    int reconnectMax = c.integer("reconnect_max_ms");
    if (reconnectMax < reconnectMin) {
      throw c.err("reconnect_max_ms", reconnectMax + " (expected: >= reconnect_min_ms, "
          + reconnectMin + ")");
    }
    return new GatewayConfig.Cluster(nodeName, c.path("cookie_file"), c.text("listen_address"),
        c.integer("epmd_port"), List.copyOf(backends), routing, c.integer("hash_argument"),
        reconnectMin, reconnectMax, c.integer("io_threads"), c.choice("io_affinity"),
        c.integer("net_ticktime_seconds"),
        outlier(c.section("outlier")));
  }

  /** cluster.outlier: when a backend whose calls time out leaves the rotation. */
  private static GatewayConfig.Outlier outlier(SectionReader o) throws ConfigException {
    return new GatewayConfig.Outlier(o.integer("consecutive_timeouts"),
        o.integer("max_silence_ms"), o.integer("eject_ms"), o.integer("max_ejection_percent"),
        o.integer("probe_timeout_ms"));
  }

  private static GatewayConfig.Limits limits(SectionReader l) throws ConfigException {
    return new GatewayConfig.Limits(l.integer("max_connections"), l.integer("max_in_flight"),
        l.integer("max_in_flight_per_connection"), l.integer("max_frame_bytes"),
        l.integer("idle_timeout_ms"), l.integer("control_per_second"),
        l.integer("max_output_bytes"), l.integer("output_stall_ms"));
  }

  private static GatewayConfig.BridgeSettings bridge(SectionReader b,
      List<GatewayConfig.Backend> backends) throws ConfigException {
    return new GatewayConfig.BridgeSettings(b.integer("max_proxies"), b.integer("keepalive_ms"),
        b.integer("max_queue_bytes"), b.integer("max_frame_bytes"), b.integer("call_timeout_ms"),
        names(b, backends));
  }

  private static List<GatewayConfig.Bridge> bridges(StrictYaml y, SectionReader top,
      String nodeName, List<GatewayConfig.Bridge> bridges) throws ConfigException {
    java.util.Set<String> names = new java.util.HashSet<>();
    for (Node b : top.list("bridges")) {
      SectionReader m = top.entry("bridges", b);
      String name = m.text("name");
      if (!names.add(name)) {
        throw y.err(b, "bridges", "'" + name + "' is listed twice");
      }
      SectionReader cm = m.section("connect");
      int port = cm.integer("port");
      String expect = m.text("expect");
      try {
        io.beamgate.security.identity.PrincipalMatcher.parse(expect);
      } catch (IllegalArgumentException e) {
        throw m.err("expect", e.getMessage());
      }
      String node = m.text("node_name");
      if (node.indexOf('@') <= 0 || node.endsWith("@")) {
        throw m.err("node_name", "'" + node
            + "' (expected: alive@host, the name the other cluster takes here)");
      }
      if (node.equals(nodeName)) { // (null when the cluster section is broken)
        throw m.err("node_name", "'" + node + "' is cluster.node_name already");
      }
      int lp = m.integer("listen_port");
      int rmin = m.integer("reconnect_min_ms");
      int rmax = m.integer("reconnect_max_ms");
      if (rmax < rmin) {
        throw m.err("reconnect_max_ms", rmax + " (expected: >= reconnect_min_ms, " + rmin
            + ")");
      }
      bridges.add(new GatewayConfig.Bridge(name, cm.text("host"), port, expect, node, lp, rmin,
          rmax, m.bool("visible")));
    }
    return bridges;
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
  private static GatewayConfig.Admin admin(SectionReader a) throws ConfigException {
    String listen = a.text("listen");
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
      throw a.err("listen", "'" + listen + "' (expected: PORT or ADDRESS:PORT, port"
          + " 1..65535, e.g. 127.0.0.1:9464)");
    }
    boolean remote = a.bool("allow_remote");
    if (!remote && !isLoopback(host)) {
      throw a.err("listen", "'" + listen + "' is not a loopback address (expected:"
          + " 127.0.0.1, ::1 or localhost; the admin listener has no authentication, so set"
          + " allow_remote: true only behind a firewall that lets the monitoring in alone)");
    }
    return new GatewayConfig.Admin(host, port, remote);
  }

  /** scale: {group: NAME, poll_ms: 1000}. */
  private static GatewayConfig.Scale scale(SectionReader m) throws ConfigException {
    String group = m.has("group") ? m.text("group") : "default";
    if (!group.matches("[A-Za-z0-9_.-]{1,64}")) {
      throw m.err("group", "'" + group + "' (expected: 1..64 letters, digits, '_', '.' or"
          + " '-')");
    }
    return new GatewayConfig.Scale(group, m.integer("poll_ms"));
  }

  /** listen.proxy_protocol: {from: [ADDRESS or ADDRESS/PREFIX, ...]}. */
  private static GatewayConfig.ProxyProtocol proxyProtocol(SectionReader m)
      throws ConfigException {
    List<Cidr> from = new ArrayList<>();
    StrictYaml y = m.yaml();
    for (Node e : m.list("from")) {
      String text = y.scalar(e, "from");
      try {
        from.add(Cidr.parse(text));
      } catch (IllegalArgumentException ex) {
        throw y.err(e, "from", ex.getMessage());
      }
    }
    if (from.isEmpty()) {
      throw m.err("from", "empty (expected: the load balancers' addresses; remove"
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
  private static GatewayConfig.Audit audit(StrictYaml y, SectionReader top)
      throws ConfigException {
    Node n = top.node("audit");
    if (n != null && !(n instanceof org.snakeyaml.engine.v2.nodes.MappingNode)) {
      SectionReader defaults = SectionReader.absent(ConfigTables.AUDIT, null, null);
      String p = y.scalar(n, "audit");
      if (p.isBlank()) {
        throw y.err(n, "audit", "empty");
      }
      return new GatewayConfig.Audit(top.resolve(p), onFailure(defaults));
    }
    SectionReader a = top.section("audit");
    return new GatewayConfig.Audit(a.path("file"), onFailure(a));
  }

  private static AuditLog.OnFailure onFailure(SectionReader a) throws ConfigException {
    String v = a.choice("on_failure");
    return java.util.Arrays.stream(AuditLog.OnFailure.values())
        .filter(f -> f.configName().equals(v)).findFirst().orElseThrow();
  }

  /** bridge.names: registered name to a backend node; each node must be a backend. */
  private static Map<String, String> names(SectionReader bridge,
      List<GatewayConfig.Backend> backends) throws ConfigException {
    Node n = bridge.node("names");
    if (n == null) {
      return Map.of();
    }
    StrictYaml y = bridge.yaml();
    Map<String, String> out = new java.util.LinkedHashMap<>();
    for (Map.Entry<String, Node> e : y.mapping(n, "names", null).entrySet()) {
      String node = y.scalar(e.getValue(), e.getKey());
      if (backends.stream().noneMatch(b -> b.node().equals(node))) {
        throw y.err(e.getValue(), e.getKey(), "'" + node + "' is not in cluster.backends");
      }
      out.put(e.getKey(), node);
    }
    return out;
  }
}
