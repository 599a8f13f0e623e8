package io.beamgate.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A gateway's name is looked up at each (re)connect, so a DNS change is followed. The DNS is a
 * resolver the test changes ({@link ClientConfig.Builder#resolver}); the name is "localhost",
 * which the gateways' certificate names, and the "hosts" are two loopback addresses,
 * 127.0.0.1 and 127.0.0.2, each with a gateway on the same port.
 */
class GatewayDnsTest {
  @TempDir Path dir;
  TestPki pki;
  final List<AutoCloseable> toClose = new ArrayList<>();
  /** What the name resolves to now; null: the lookup fails. */
  final AtomicReference<List<String>> records = new AtomicReference<>();
  final AtomicInteger lookups = new AtomicInteger();

  @BeforeEach
  void setUp() throws Exception {
    pki = new TestPki(dir);
  }

  @AfterEach
  void tearDown() throws Exception {
    for (AutoCloseable c : toClose) {
      c.close();
    }
  }

  InetAddress[] resolve(String host) throws UnknownHostException {
    assertEquals("localhost", host);
    lookups.incrementAndGet();
    List<String> now = records.get();
    if (now == null) {
      throw new UnknownHostException(host + ": the test's DNS is down");
    }
    InetAddress[] a = new InetAddress[now.size()];
    for (int i = 0; i < a.length; i++) {
      a[i] = InetAddress.getByName(now.get(i)); // literals: no lookup
    }
    return a;
  }

  ScriptedGateway gateway(String address, int port) throws Exception {
    ScriptedGateway g = ScriptedGateway.start(pki.serverCert, pki.serverKey, pki, address,
        port, ScriptedGateway.STANDARD);
    toClose.add(g);
    return g;
  }

  BeamgateClient client(int port, boolean everyAddress) throws Exception {
    BeamgateClient c = BeamgateClient.connect(ClientConfig.builder()
        .gateway("localhost:" + port).everyAddress(everyAddress).resolver(this::resolve)
        .tls(pki.clientCert, pki.clientKey, pki.ca)
        .reconnectBackoff(Duration.ofMillis(20), Duration.ofMillis(200)).build());
    toClose.add(c::close);
    return c;
  }

  /** Pings until one is answered (the client reconnecting meanwhile), within 10 s. */
  static void awaitPing(BeamgateClient c) throws Exception {
    long end = System.nanoTime() + 10_000_000_000L;
    while (true) {
      try {
        assertEquals("spiffe://test/client", c.blocking().ping(Duration.ofSeconds(1))
            .principal());
        return;
      } catch (GatewayException e) {
        if (System.nanoTime() > end) {
          throw e;
        }
        Thread.sleep(50);
      }
    }
  }

  /** The gateway at 127.0.0.1 goes away and the name now lists 127.0.0.2. */
  void moveTheGateway(ScriptedGateway from, int port) throws Exception {
    records.set(List.of("127.0.0.2"));
    gateway("127.0.0.2", port);
    from.close();
  }

  @Test
  void oneGatewayNameIsLookedUpAgainAtEachReconnect() throws Exception {
    int port = BeamgateClientTest.freePort();
    records.set(List.of("127.0.0.1"));
    ScriptedGateway first = gateway("127.0.0.1", port);
    BeamgateClient c = client(port, false);
    awaitPing(c);
    int before = lookups.get();
    moveTheGateway(first, port);
    awaitPing(c);
    assertTrue(lookups.get() > before, "looked up again: " + lookups.get());
  }

  @Test
  void everyAddressFollowsTheNamesRecordsAtReconnects() throws Exception {
    int port = BeamgateClientTest.freePort();
    records.set(List.of("127.0.0.1"));
    ScriptedGateway first = gateway("127.0.0.1", port);
    BeamgateClient c = client(port, true);
    awaitPing(c);
    assertEquals(1, c.connectedGateways());
    moveTheGateway(first, port);
    awaitPing(c);
    assertEquals(1, c.connectedGateways(), "connected to the address listed now");
    // a record added while a connection is down is dialled too; the one dropped is not
    records.set(List.of("127.0.0.2", "127.0.0.1"));
    ScriptedGateway moved = toCloseGateways().get(1);
    ScriptedGateway back = gateway("127.0.0.1", port);
    // nothing reconnects while every connection is up: a drop makes the client look again
    for (ScriptedGateway.Peer p : moved.peers) {
      p.channel.close();
    }
    long end = System.nanoTime() + 10_000_000_000L;
    // (the client's side of a TLS 1.3 handshake ends before the gateway's counts it)
    while ((c.connectedGateways() < 2 || back.connections.get() < 1)
        && System.nanoTime() < end) {
      Thread.sleep(50);
    }
    assertEquals(1, back.connections.get(), "the address listed again is dialled");
    assertEquals(2, c.connectedGateways(), "both listed addresses are dialled");
  }

  @Test
  void aFailedLookupKeepsTheAddressesKnownAndSaysWhy() throws Exception {
    int port = BeamgateClientTest.freePort();
    records.set(List.of("127.0.0.1"));
    ScriptedGateway first = gateway("127.0.0.1", port);
    BeamgateClient every = client(port, true);
    BeamgateClient one = client(port, false);
    awaitPing(every);
    awaitPing(one);
    records.set(null); // the DNS is down
    for (ScriptedGateway.Peer p : first.peers) {
      p.channel.close(); // both reconnect, looking the name up
    }
    Thread.sleep(500);
    // the address known stays dialled; a plain name cannot be dialled without an answer
    awaitPing(every);
    GatewayException e = org.junit.jupiter.api.Assertions.assertThrows(GatewayException.class,
        () -> one.blocking().ping(Duration.ofMillis(300)));
    assertEquals(GatewayException.Code.CONNECTION, e.code(), e.toString());
    assertTrue(e.getMessage().contains("unknown host localhost"), e.getMessage());
    records.set(List.of("127.0.0.1")); // back
    awaitPing(one);
  }

  List<ScriptedGateway> toCloseGateways() {
    List<ScriptedGateway> gs = new ArrayList<>();
    for (AutoCloseable c : toClose) {
      if (c instanceof ScriptedGateway g) {
        gs.add(g);
      }
    }
    return gs;
  }
}
