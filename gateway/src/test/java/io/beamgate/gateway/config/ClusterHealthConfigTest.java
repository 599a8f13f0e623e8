package io.beamgate.gateway.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.beamgate.security.yaml.ConfigException;
import org.junit.jupiter.api.Test;

/** cluster.net_ticktime_seconds and cluster.outlier: defaults, limits, and past them. */
class ClusterHealthConfigTest {
  static GatewayConfig.Cluster cluster(String keys) throws ConfigException {
    return GatewayConfigFileTest.parse(GatewayConfigFileTest.BASE.replace("  backends:",
        keys + "  backends:")).cluster();
  }

  static String error(String keys) {
    return assertThrows(ConfigException.class, () -> cluster(keys), keys).getMessage();
  }

  @Test
  void defaultsAreOtpsTickTimeAndOutlierDetectionOn() throws Exception {
    GatewayConfig.Cluster c = cluster("");
    assertEquals(60, c.netTicktimeSeconds());
    assertEquals(new GatewayConfig.Outlier(5, 5_000, 10_000, 50, 2_000), c.outlier());
    assertEquals(GatewayConfigFile.DEFAULT_OUTLIER, c.outlier());
  }

  @Test
  void netTicktimeIsOneToAnHour() throws Exception {
    assertEquals(1, cluster("  net_ticktime_seconds: 1\n").netTicktimeSeconds());
    assertEquals(3600, cluster("  net_ticktime_seconds: 3600\n").netTicktimeSeconds());
    String e = error("  net_ticktime_seconds: 3601\n");
    assertTrue(e.contains("net_ticktime_seconds: 3601 (expected: 1..3600, the backends'"
        + " -kernel net_ticktime)"), e);
    assertTrue(error("  net_ticktime_seconds: 0\n").contains("0 (expected: 1..3600"));
  }

  @Test
  void outlierKeysAtAndPastTheirLimits() throws Exception {
    GatewayConfig.Outlier o = cluster("  outlier: {consecutive_timeouts: 0, max_silence_ms: 0,"
        + " eject_ms: 1, max_ejection_percent: 100, probe_timeout_ms: 1}\n").outlier();
    assertEquals(new GatewayConfig.Outlier(0, 0, 1, 100, 1), o);
    assertEquals(new GatewayConfig.Outlier(3, 5_000, 10_000, 0, 2_000),
        cluster("  outlier: {consecutive_timeouts: 3, max_ejection_percent: 0}\n").outlier());
    assertTrue(error("  outlier: {max_ejection_percent: 101}\n")
        .contains("max_ejection_percent: 101 (expected: 0..100)"));
    assertTrue(error("  outlier: {consecutive_timeouts: -1}\n").contains("(expected: >= 0)"));
    assertTrue(error("  outlier: {max_silence_ms: -1}\n").contains("(expected: >= 0)"));
    assertTrue(error("  outlier: {eject_ms: 0}\n").contains("(expected: >= 1)"));
    assertTrue(error("  outlier: {probe_timeout_ms: 0}\n").contains("(expected: >= 1)"));
    String unknown = error("  outlier: {eject_seconds: 10}\n");
    assertTrue(unknown.contains("eject_seconds"), unknown);
  }
}
