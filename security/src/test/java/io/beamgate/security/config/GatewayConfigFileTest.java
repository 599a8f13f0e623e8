package io.beamgate.security.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

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
}
