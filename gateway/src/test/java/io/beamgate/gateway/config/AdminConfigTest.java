package io.beamgate.gateway.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.beamgate.security.yaml.ConfigException;
import org.junit.jupiter.api.Test;

/** The admin HTTP listener's section: off by default, loopback unless said otherwise. */
class AdminConfigTest {
  static GatewayConfig parse(String admin) throws ConfigException {
    return GatewayConfigFileTest.parse(GatewayConfigFileTest.BASE + admin);
  }

  @Test
  void noSectionNoListener() throws Exception {
    assertNull(parse("").admin());
  }

  @Test
  void aPortAloneListensOnLoopback() throws Exception {
    assertEquals(new GatewayConfig.Admin("127.0.0.1", 9464, false),
        parse("admin: {listen: 9464}\n").admin());
    assertEquals(new GatewayConfig.Admin("::1", 1, false),
        parse("admin: {listen: '[::1]:1'}\n").admin());
    assertEquals(new GatewayConfig.Admin("localhost", 65535, false),
        parse("admin: {listen: 'localhost:65535'}\n").admin());
  }

  @Test
  void aRemoteAddressNeedsAllowRemote() throws Exception {
    ConfigException e = assertThrows(ConfigException.class,
        () -> parse("admin: {listen: '0.0.0.0:9464'}\n"));
    assertTrue(e.getMessage().contains("not a loopback address")
        && e.getMessage().contains("allow_remote"), e::getMessage);
    assertThrows(ConfigException.class, () -> parse("admin: {listen: 'mon.example.org:9464'}\n"));
    assertEquals(new GatewayConfig.Admin("0.0.0.0", 9464, true),
        parse("admin: {listen: '0.0.0.0:9464', allow_remote: true}\n").admin());
  }

  @Test
  void badPortsAndUnknownKeysAreErrors() throws Exception {
    for (String bad : new String[] {"admin: {listen: 0}\n", "admin: {listen: 65536}\n",
        "admin: {listen: 'x'}\n", "admin: {listen: ':9464'}\n", "admin: {}\n",
        "admin: {listen: 9464, port: 1}\n"}) {
      assertThrows(ConfigException.class, () -> parse(bad), bad);
    }
  }
}
