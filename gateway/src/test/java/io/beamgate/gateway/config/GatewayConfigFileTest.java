package io.beamgate.gateway.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.beamgate.security.audit.AuditLog;
import io.beamgate.security.yaml.ConfigException;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The gateway configuration's cluster, limits and reload sections. */
class GatewayConfigFileTest {
  static final String BASE = """
      version: 1
      listen: {address: 0.0.0.0, port: 9443}
      tls: {certificate: g.pem, key: g.key, client_cas: ca.pem}
      cluster:
        node_name: gw@10.0.0.5
        cookie_file: cookie
        listen_address: 10.0.0.5
        backends:
          - app@10.0.0.10
          - {node: app@10.0.0.11, port: 9100}
      policy: policy.yaml
      """;
  static final Path FILE = Path.of("/etc/beamgate/gateway.yaml");

  static GatewayConfig parse(String text) throws ConfigException {
    return GatewayConfigFile.parse(FILE, text);
  }

  @Test
  void backendsByNameOrWithAPortAndDefaults() throws Exception {
    GatewayConfig c = parse(BASE);
    assertEquals(List.of(new GatewayConfig.Backend("app@10.0.0.10", 0),
        new GatewayConfig.Backend("app@10.0.0.11", 9100)), c.cluster().backends());
    assertEquals("round_robin", c.cluster().routing());
    assertEquals(0, c.cluster().hashArgument());
    assertEquals(200, c.cluster().reconnectMinMillis());
    assertEquals(30_000, c.cluster().reconnectMaxMillis());
    assertEquals(0, c.cluster().ioThreads());
    assertEquals(256, parse(BASE.replace("  backends:", "  io_threads: 256\n  backends:"))
        .cluster().ioThreads());
    ConfigException io = assertThrows(ConfigException.class,
        () -> parse(BASE.replace("  backends:", "  io_threads: 257\n  backends:")));
    assertTrue(io.getMessage().contains("io_threads: 257"), io.getMessage());
    assertEquals(GatewayConfigFile.DEFAULT_LIMITS, c.limits());
    assertEquals(2_000, c.reload().watchIntervalMillis());
    assertEquals(Path.of("/etc/beamgate/beamgate-admin.sock"), c.reload().adminSocket());
  }

  @Test
  void limitsAndReloadAtTheirBounds() throws Exception {
    GatewayConfig c = parse(BASE + "limits: {max_connections: 1, max_in_flight: 1,"
        + " max_in_flight_per_connection: 1, max_frame_bytes: 64, idle_timeout_ms: 1}\n"
        + "reload: {watch_interval_ms: 0, admin_socket: /run/bg.sock}\n");
    assertEquals(new GatewayConfig.Limits(1, 1, 1, 64, 1), c.limits());
    assertEquals(0, c.reload().watchIntervalMillis());
    assertEquals(Path.of("/run/bg.sock"), c.reload().adminSocket());
    for (String bad : List.of("max_connections: 0", "max_in_flight: 0",
        "max_in_flight_per_connection: 0", "max_frame_bytes: 63", "idle_timeout_ms: 0")) {
      ConfigException e = assertThrows(ConfigException.class,
          () -> parse(BASE + "limits: {" + bad + "}\n"), bad);
      assertTrue(e.getMessage().contains(bad.substring(0, bad.indexOf(':'))), e.getMessage());
    }
    assertThrows(ConfigException.class,
        () -> parse(BASE + "reload: {watch_interval_ms: -1}\n"));
  }

  @Test
  void badBackendsAndReconnectBoundsAreErrorsWithTheirLine() {
    ConfigException e = assertThrows(ConfigException.class, () -> parse(BASE.replace(
        "    - {node: app@10.0.0.11, port: 9100}", "    - {node: app@10.0.0.11, port: 70000}")));
    assertTrue(e.getMessage().contains("gateway.yaml:10: port: 70000"), e.getMessage());
    e = assertThrows(ConfigException.class, () -> parse(BASE.replace(
        "    - {node: app@10.0.0.11, port: 9100}", "    - app@10.0.0.10")));
    assertTrue(e.getMessage().contains("listed twice"), e.getMessage());
    e = assertThrows(ConfigException.class, () -> parse(BASE.replace(
        "    - {node: app@10.0.0.11, port: 9100}", "    - {node: app@10.0.0.11, colour: 1}")));
    assertTrue(e.getMessage().contains("colour: unknown key"), e.getMessage());
    e = assertThrows(ConfigException.class, () -> parse(BASE.replace("  backends:",
        "  reconnect_min_ms: 500\n  reconnect_max_ms: 100\n  backends:")));
    assertTrue(e.getMessage().contains("reconnect_max_ms: 100"), e.getMessage());
  }

  static final String BRIDGE = """
      bridges:
        - name: cluster-a
          connect: {host: gw-a.example.org, port: 9443}
          expect: dns:gw-a.example.org
          node_name: clusterA@10.0.0.5
      """;

  @Test
  void bridgesWithDefaultsAndBridgeLimitsAtTheirBounds() throws Exception {
    GatewayConfig c = parse(BASE);
    assertEquals(List.of(), c.bridges());
    assertEquals(GatewayConfigFile.DEFAULT_BRIDGE, c.bridge());
    c = parse(BASE + BRIDGE);
    assertEquals(List.of(new GatewayConfig.Bridge("cluster-a", "gw-a.example.org", 9443,
        "dns:gw-a.example.org", "clusterA@10.0.0.5", 0, 200, 30_000, false)), c.bridges());
    assertEquals(true, parse(BASE + BRIDGE + "    visible: true\n").bridges().get(0)
        .visible());
    c = parse(BASE + "bridge: {max_proxies: 16, keepalive_ms: 10, max_queue_bytes: 4096,"
        + " max_frame_bytes: 1024, call_timeout_ms: 1}\n");
    assertEquals(new GatewayConfig.BridgeSettings(16, 10, 4096, 1024, 1, java.util.Map.of()),
        c.bridge());
    // registered names go to a chosen backend, which must be one of cluster.backends
    assertEquals(java.util.Map.of("kv_server", "app@10.0.0.11"), parse(BASE
        + "bridge: {names: {kv_server: app@10.0.0.11}}\n").bridge().names());
    ConfigException notABackend = assertThrows(ConfigException.class, () -> parse(BASE
        + "bridge: {names: {kv_server: other@10.0.0.12}}\n"));
    assertTrue(notABackend.getMessage().contains("'other@10.0.0.12' is not in"
        + " cluster.backends"), notABackend.getMessage());
    for (String bad : List.of("max_proxies: 15", "keepalive_ms: 9", "max_queue_bytes: 4095",
        "max_frame_bytes: 1023", "call_timeout_ms: 0")) {
      ConfigException e = assertThrows(ConfigException.class,
          () -> parse(BASE + "bridge: {" + bad + "}\n"), bad);
      assertTrue(e.getMessage().contains(bad.substring(0, bad.indexOf(':'))), e.getMessage());
    }
  }

  @Test
  void badBridgesAreErrorsWithTheirLine() {
    String[][] cases = {
        {"expect: dns:gw-a.example.org", "expect: gw-a.example.org", "expect:"},
        {"node_name: clusterA@10.0.0.5", "node_name: clusterA", "expected: alive@host"},
        {"node_name: clusterA@10.0.0.5", "node_name: gw@10.0.0.5", "cluster.node_name already"},
        {"port: 9443}", "port: 65536}", "port: 65536"},
        {"node_name: clusterA@10.0.0.5", "node_name: clusterA@10.0.0.5\n    listen_port: 65536",
            "listen_port: 65536"},
        {"node_name: clusterA@10.0.0.5", "node_name: clusterA@10.0.0.5\n    colour: red",
            "colour: unknown key"},
        {"node_name: clusterA@10.0.0.5", "node_name: clusterA@10.0.0.5\n"
            + "    reconnect_min_ms: 500\n    reconnect_max_ms: 100", "reconnect_max_ms: 100"},
    };
    for (String[] c : cases) {
      ConfigException e = assertThrows(ConfigException.class,
          () -> parse(BASE + BRIDGE.replace(c[0], c[1])), c[1]);
      assertTrue(e.getMessage().contains(c[2]) && e.getMessage().contains("gateway.yaml:"),
          e.getMessage());
    }
    ConfigException twice = assertThrows(ConfigException.class, () -> parse(BASE + BRIDGE
        + BRIDGE.substring(BRIDGE.indexOf("  - name"))));
    assertTrue(twice.getMessage().contains("listed twice"), twice.getMessage());
  }

  @Test
  void auditAsAPathOrAMappingFailingClosedByDefault() throws Exception {
    GatewayConfig.Audit refuse = new GatewayConfig.Audit(Path.of("/etc/beamgate/audit.jsonl"),
        AuditLog.OnFailure.REFUSE);
    assertEquals(new GatewayConfig.Audit(null, AuditLog.OnFailure.REFUSE), parse(BASE).audit(),
        "no audit key: standard output, refusing");
    assertEquals(refuse, parse(BASE + "audit: audit.jsonl\n").audit(), "the first form");
    assertEquals(refuse, parse(BASE + "audit: {file: audit.jsonl}\n").audit());
    assertEquals(refuse, parse(BASE + "audit: {file: audit.jsonl, on_failure: refuse}\n")
        .audit());
    assertEquals(new GatewayConfig.Audit(Path.of("/var/log/a.jsonl"),
        AuditLog.OnFailure.CONTINUE), parse(BASE
        + "audit:\n  file: /var/log/a.jsonl\n  on_failure: continue\n").audit());
    assertEquals(new GatewayConfig.Audit(null, AuditLog.OnFailure.CONTINUE),
        parse(BASE + "audit: {on_failure: continue}\n").audit());
  }

  @Test
  void badAuditSettingsAreErrorsWithTheirLine() {
    String[][] cases = {
        {"audit: {file: a.jsonl, on_failure: ignore}", "on_failure: 'ignore' (expected: refuse"},
        {"audit: {file: a.jsonl, rotate: daily}", "rotate: unknown key in audit"},
        {"audit: {file: [a, b]}", "file: expected a single value"},
        {"audit: {file: a.jsonl, file: b.jsonl}", "duplicate"},
        {"audit: ''", "audit: empty"},
        {"audit: [a.jsonl]", "audit: expected a single value"},
    };
    for (String[] c : cases) {
      ConfigException e = assertThrows(ConfigException.class, () -> parse(BASE + c[0] + "\n"),
          c[0]);
      assertTrue(e.getMessage().contains(c[1]) && e.getMessage().contains("gateway.yaml:"),
          e.getMessage());
    }
  }

  @Test
  void everyBrokenSectionIsReportedInOneRead() {
    ConfigException e = assertThrows(ConfigException.class, () -> parse(BASE
        .replace("port: 9443", "port: 70000").replace("  backends:", "  routing: random\n"
            + "  backends:") + "limits: {max_frame_bytes: 10}\nbridge: {keepalive_ms: 1}\n"));
    assertEquals(4, e.problems().size(), e.getMessage());
    assertTrue(e.problems().get(0).contains(":2:") && e.problems().get(0).contains("70000"),
        e.problems().get(0));
    assertTrue(e.problems().get(1).contains("random"), e.problems().get(1));
    assertTrue(e.problems().get(2).contains("max_frame_bytes: 10"), e.problems().get(2));
    assertTrue(e.problems().get(3).contains("keepalive_ms: 1"), e.problems().get(3));
    assertTrue(e.getMessage().startsWith("/etc/beamgate/gateway.yaml: 4 problems:"),
        e.getMessage());
  }

  @Test
  void controlRateAndOutputBytesAtAndPastTheirBounds() throws Exception {
    GatewayConfig c = parse(BASE + "limits: {control_per_second: 1, max_output_bytes: 4096,"
        + " output_stall_ms: 1}\n");
    assertEquals(1, c.limits().outputStallMillis());
    assertEquals(5000, parse(BASE).limits().outputStallMillis());
    assertThrows(ConfigException.class, () -> parse(BASE + "limits: {output_stall_ms: 0}\n"));
    assertEquals(1, c.limits().controlPerSecond());
    assertEquals(4096, c.limits().maxOutputBytes());
    assertEquals(1024, c.limits().outputHighWater());
    assertEquals(100, parse(BASE).limits().controlPerSecond());
    assertEquals(16 << 20, parse(BASE).limits().maxOutputBytes());
    ConfigException control = assertThrows(ConfigException.class,
        () -> parse(BASE + "limits: {control_per_second: 0}\n"));
    assertTrue(control.getMessage().contains("control_per_second: 0"), control.getMessage());
    ConfigException output = assertThrows(ConfigException.class,
        () -> parse(BASE + "limits: {max_output_bytes: 4095}\n"));
    assertTrue(output.getMessage().contains("max_output_bytes: 4095"), output.getMessage());
  }
}
