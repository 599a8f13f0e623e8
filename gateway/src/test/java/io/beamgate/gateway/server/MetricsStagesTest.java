package io.beamgate.gateway.server;

import static io.beamgate.gateway.server.AdminHttpTest.sample;
import static io.beamgate.gateway.server.GatewayServerTest.call;
import static io.beamgate.gateway.server.GatewayServerTest.error;
import static io.beamgate.gateway.server.GatewayServerTest.result;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.beamgate.certs.DevCa;
import io.beamgate.certs.HeldCertificate;
import io.beamgate.gateway.transport.TlsContexts;
import io.beamgate.node.LocalNode;
import io.beamgate.node.term.Atom;
import io.beamgate.node.term.Binary;
import io.beamgate.node.term.Int;
import io.beamgate.gateway.config.GatewayConfigFile;
import io.beamgate.security.tls.TlsSettings;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The metrics of issue 13 beyond the request counters: the latency of each stage (decision,
 * backend) beside the total, and failed handshakes by reason, each seen moving in a scrape.
 */
class MetricsStagesTest {
  @TempDir Path dir;
  final GatewayServerTest t = new GatewayServerTest();
  GatewayServer gw;

  @BeforeEach
  void setUp() throws Exception {
    t.dir = dir;
    t.setUp();
  }

  @AfterEach
  void tearDown() {
    t.tearDown();
  }

  /** A gateway whose TLS handshakes time out after {@code handshakeMs}. */
  GatewayServer start(int handshakeMs) throws Exception {
    List<String> names = t.backends.stream().map(LocalNode::name).toList();
    t.bed.writeConfig(names, t.epmd.port(), "round_robin", "");
    String yaml = Files.readString(t.bed.config).replace("  crl: clients.crl\n",
        "  crl: clients.crl\n  handshake_timeout_ms: " + handshakeMs + "\n");
    Files.writeString(t.bed.config, yaml);
    gw = GatewayServer.start(GatewayConfigFile.load(t.bed.config), GatewayServer.Options
        .DEFAULTS.withBackendWait(Duration.ofSeconds(5)));
    t.gw = gw;
    return gw;
  }

  String scrape() {
    return gw.metrics().scrape(null).body();
  }

  @Test
  void decisionAndBackendStagesAreTimedBesideTheTotal() throws Exception {
    t.backend("kvstage");
    start(10_000);
    t.awaitUp(1);
    RawClient c = t.connect("alice");
    c.send(call(1, "kv", "sleep", Int.of(500)));
    assertEquals(Atom.OK, result(c.next()));
    c.send(call(2, "kv", "get", Binary.of("k".getBytes())));
    assertEquals(Atom.UNDEFINED, result(c.next()));
    c.send(call(3, "kv", "drop", Int.of(1))); // denied: a decision, no backend stage
    error(c.next());
    String m = scrape();
    assertEquals(3, sample(m, "beamgate_request_decision_duration_seconds_count",
        "kind=\"call\""), m);
    assertEquals(2, sample(m, "beamgate_request_backend_duration_seconds_count",
        "kind=\"call\""), m);
    // the sleep sits in the backend stage, not in the decision
    assertTrue(sample(m, "beamgate_request_backend_duration_seconds_sum", "kind=\"call\"")
        >= 0.5, m);
    assertTrue(sample(m, "beamgate_request_decision_duration_seconds_sum", "kind=\"call\"")
        < 0.4, m);
    assertEquals(1, sample(m, "beamgate_request_backend_duration_seconds_bucket",
        "kind=\"call\"", "le=\"0.25\""), m);
    assertEquals(2, sample(m, "beamgate_request_backend_duration_seconds_bucket",
        "kind=\"call\"", "le=\"+Inf\""), m);
    assertTrue(sample(m, "beamgate_request_duration_seconds_sum", "decision=\"allowed\"")
        >= sample(m, "beamgate_request_backend_duration_seconds_sum", "kind=\"call\""), m);
  }

  @Test
  void failedHandshakesAreCountedByReason() throws Exception {
    t.backend("kvtls");
    start(400);
    Instant now = Instant.now();
    // expired, and not yet valid
    TestBed.Client old = t.bed.client("old", HeldCertificate.builder().commonName("old")
        .uri("spiffe://test/old").clientAuth()
        .validity(now.minus(Duration.ofDays(3)), now.minus(Duration.ofDays(1))));
    assertThrows(Exception.class, () -> talk(old));
    TestBed.Client young = t.bed.client("young", HeldCertificate.builder().commonName("young")
        .uri("spiffe://test/young").clientAuth()
        .validity(now.plus(Duration.ofDays(1)), now.plus(Duration.ofDays(3))));
    assertThrows(Exception.class, () -> talk(young));
    // a CA the gateway does not trust: the gateway's certificate request names its CAs, so
    // the client sends no certificate (unknown_ca is what a client that sends one anyway
    // gets: HandshakeFailureTest)
    DevCa foreign = DevCa.init(dir.resolve("foreign"), "foreign CA", Duration.ofDays(1), false);
    TestBed.Client stranger = t.bed.write("stranger", foreign.issue(HeldCertificate.builder()
        .commonName("stranger").uri("spiffe://test/stranger").clientAuth()));
    assertThrows(Exception.class, () -> talk(TlsContexts.client(TlsSettings.of(
        stranger.cert(), stranger.key(), t.bed.dir.resolve("ca.pem")))));
    // no client certificate at all
    SslContext none = SslContextBuilder.forClient().trustManager(t.bed.dir.resolve("ca.pem")
        .toFile()).protocols("TLSv1.3").build();
    assertThrows(Exception.class, () -> talk(none));
    // not TLS at all
    try (Socket s = new Socket("127.0.0.1", gw.listenAddress().getPort())) {
      OutputStream o = s.getOutputStream();
      o.write("GET / HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
      o.flush();
      s.setSoTimeout(5000);
      s.getInputStream().read(new byte[256]);
    } catch (java.io.IOException expected) {
      // reset by the gateway: fine
    }
    // silent past the handshake timeout
    try (Socket s = new Socket("127.0.0.1", gw.listenAddress().getPort())) {
      s.setSoTimeout(5000);
      s.getInputStream().read(new byte[256]); // the gateway closes it after 400 ms
    } catch (java.io.IOException expected) {
      // reset: fine
    }
    // and one good handshake
    RawClient ok = t.connect("alice");
    ok.send(call(1, "kv", "get", Binary.of("k".getBytes())));
    assertEquals(Atom.UNDEFINED, result(ok.next()));
    GatewayServerTest.waitUntil(() -> sample(scrape(), "beamgate_tls_handshakes_total",
        "result=\"failed\"") >= 6);
    String m = scrape();
    assertEquals(2, sample(m, "beamgate_tls_handshakes_total", "result=\"failed\"",
        "reason=\"no_client_cert\""), m);
    for (String reason : List.of("expired", "not_yet_valid", "protocol", "timeout")) {
      assertEquals(1, sample(m, "beamgate_tls_handshakes_total", "result=\"failed\"",
          "reason=\"" + reason + "\""), reason + " in\n" + m);
    }
    assertEquals(6, sample(m, "beamgate_tls_handshakes_total", "result=\"failed\""), m);
    assertEquals(1, sample(m, "beamgate_tls_handshakes_total", "result=\"ok\"",
        "reason=\"none\""), m);
  }

  /** Connects with {@code c} and makes one call (a refused handshake throws on the way). */
  void talk(TestBed.Client c) throws Exception {
    talk(TlsContexts.client(TlsSettings.of(c.cert(), c.key(), c.ca())));
  }

  void talk(SslContext ctx) throws Exception {
    RawClient r = RawClient.connect(gw.listenAddress(), ctx);
    try {
      r.send(call(1, "kv", "get", Int.of(1)));
      if (r.next(Duration.ofSeconds(2)) == null || !r.isOpen()) {
        throw new java.io.IOException("closed");
      }
    } finally {
      r.close();
    }
  }
}
