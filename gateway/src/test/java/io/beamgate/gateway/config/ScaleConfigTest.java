package io.beamgate.gateway.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.beamgate.security.yaml.ConfigException;
import org.junit.jupiter.api.Test;

/** The scale section: off by default, its bounds. */
class ScaleConfigTest {
  static GatewayConfig parse(String extra) throws ConfigException {
    return GatewayConfigFileTest.parse(GatewayConfigFileTest.BASE + extra);
  }

  @Test
  void offUnlessPresentWithDefaults() throws Exception {
    assertNull(parse("").scale());
    assertEquals(new GatewayConfig.Scale("default", 1000), parse("scale: {}\n").scale());
    assertEquals(new GatewayConfig.Scale("edge-1", 100),
        parse("scale: {group: edge-1, poll_ms: 100}\n").scale());
    assertEquals(60_000, parse("scale: {poll_ms: 60000}\n").scale().pollMillis());
  }

  @Test
  void pastTheBoundsAndBadNamesAreErrors() {
    for (String bad : new String[] {"{poll_ms: 99}", "{poll_ms: 60001}", "{group: 'a b'}",
        "{group: ''}", "{groups: x}"}) {
      ConfigException e = assertThrows(ConfigException.class, () -> parse("scale: " + bad
          + "\n"), bad);
      assertTrue(e.getMessage().contains("scale") || e.getMessage().contains("poll_ms")
          || e.getMessage().contains("group"), e.getMessage());
    }
  }
}
