package io.beamgate.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.beamgate.client.GatewayException.Code;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/** What the client retries on another gateway, and its configuration of several gateways. */
class FailoverTest {
  @Test
  void onlyWhatNeverRanOrMayRunTwiceIsRetried() {
    for (Code c : List.of(Code.CONNECTION, Code.TLS, Code.UNAVAILABLE, Code.CLOSING)) {
      assertTrue(Failover.retryable(GatewayException.local(c, "x"), false), c.name());
    }
    assertFalse(Failover.retryable(GatewayException.local(Code.OUTCOME_UNKNOWN, "x"), false));
    assertTrue(Failover.retryable(GatewayException.local(Code.OUTCOME_UNKNOWN, "x"), true));
    for (Code c : List.of(Code.TIMEOUT, Code.RESOURCE_EXHAUSTED, Code.BAD_RPC,
        Code.PERMISSION_DENIED, Code.CLOSED, Code.CANCELLED, Code.INVALID_ARGUMENT)) {
      assertFalse(Failover.retryable(GatewayException.local(c, "x"), true), c.name());
    }
  }

  static ClientConfig.Builder tls() {
    return ClientConfig.builder().tls(Path.of("c.pem"), Path.of("c.key"), Path.of("ca.pem"));
  }

  @Test
  void severalGatewaysTheFirstBeingHostAndPort() {
    ClientConfig c = tls().gateways("gw1.example:9443", "[::1]:9444", "10.0.0.3:9443").build();
    assertEquals("gw1.example", c.host());
    assertEquals(9443, c.port());
    assertEquals(List.of(new ClientConfig.Gateway("gw1.example", 9443),
        new ClientConfig.Gateway("::1", 9444), new ClientConfig.Gateway("10.0.0.3", 9443)),
        c.gateways());
    assertEquals(ClientConfig.DEFAULT_MAX_ATTEMPTS, c.maxAttempts());
    assertEquals(1, tls().gateway("gw:1").build().gateways().size());
  }

  @Test
  void badListsAndBoundsAreRefusedSayingWhy() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> tls().gateways("gw:1", "gw:1").build());
    assertTrue(e.getMessage().contains("listed twice"), e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> tls().gateways(List.of()));
    assertThrows(IllegalArgumentException.class, () -> tls().gateways("gw:1", "nope"));
    assertEquals(16, tls().gateway("gw:1").maxAttempts(16).build().maxAttempts());
    assertEquals(1, tls().gateway("gw:1").maxAttempts(1).build().maxAttempts());
    assertThrows(IllegalArgumentException.class,
        () -> tls().gateway("gw:1").maxAttempts(17).build());
    assertThrows(IllegalArgumentException.class,
        () -> tls().gateway("gw:1").maxAttempts(0).build());
  }
}
