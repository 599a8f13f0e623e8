package io.beamgate.gateway.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.beamgate.security.yaml.ConfigException;
import java.net.InetAddress;
import org.junit.jupiter.api.Test;

/** listen.proxy_protocol and the address blocks it lists. */
class ProxyProtocolConfigTest {
  static GatewayConfig parse(String listen) throws ConfigException {
    return GatewayConfigFileTest.parse(GatewayConfigFileTest.BASE.replace(
        "listen: {address: 0.0.0.0, port: 9443}", listen));
  }

  @Test
  void offUnlessConfigured() throws Exception {
    GatewayConfig c = GatewayConfigFileTest.parse(GatewayConfigFileTest.BASE);
    assertFalse(c.listen().proxyProtocol().enabled());
    assertFalse(c.listen().proxyProtocol().trusts(InetAddress.getByName("127.0.0.1")));
  }

  @Test
  void listedAddressesAndBlocksAreTrustedAndNothingElse() throws Exception {
    GatewayConfig c = parse("listen: {address: 0.0.0.0, port: 9443,"
        + " proxy_protocol: {from: [10.0.0.2, 10.1.0.0/16, 'fd00::/8']}}");
    GatewayConfig.ProxyProtocol p = c.listen().proxyProtocol();
    assertTrue(p.enabled());
    assertTrue(p.trusts(InetAddress.getByName("10.0.0.2")));
    assertFalse(p.trusts(InetAddress.getByName("10.0.0.3")));
    assertTrue(p.trusts(InetAddress.getByName("10.1.255.255")));
    assertFalse(p.trusts(InetAddress.getByName("10.2.0.0")));
    assertTrue(p.trusts(InetAddress.getByName("fd12::1")));
    assertFalse(p.trusts(InetAddress.getByName("fe80::1")));
    assertTrue(p.trusts(InetAddress.getByName("::ffff:10.0.0.2")));
  }

  @Test
  void badEntriesAreErrorsSayingWhatIsExpected() {
    for (String bad : new String[] {"[lb.example.org]", "[10.0.0.0/33]", "['::1/129']",
        "[10.0.0.0/x]", "[]"}) {
      ConfigException e = assertThrows(ConfigException.class, () -> parse(
          "listen: {address: 0.0.0.0, port: 9443, proxy_protocol: {from: " + bad + "}}"), bad);
      assertTrue(e.getMessage().contains("expected"), e.getMessage());
    }
    assertThrows(ConfigException.class, () -> parse(
        "listen: {address: 0.0.0.0, port: 9443, proxy_protocol: {form: [10.0.0.1]}}"));
  }

  @Test
  void cidrEdges() {
    assertEquals("10.0.0.0/8", Cidr.parse("10.200.3.4/8").toString());
    assertTrue(Cidr.parse("0.0.0.0/0").contains(InetAddress.getLoopbackAddress()));
    assertThrows(IllegalArgumentException.class, () -> Cidr.parse("10.0.0"));
  }
}
