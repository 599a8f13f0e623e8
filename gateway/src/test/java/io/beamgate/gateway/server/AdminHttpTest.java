package io.beamgate.gateway.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static io.beamgate.gateway.server.GatewayServerTest.call;
import static io.beamgate.gateway.server.GatewayServerTest.error;
import static io.beamgate.gateway.server.GatewayServerTest.result;

import io.beamgate.gateway.ops.Json;
import io.beamgate.node.LocalNode;
import io.beamgate.node.term.Atom;
import io.beamgate.node.term.Binary;
import io.beamgate.node.term.Int;
import io.beamgate.node.testing.RealEpmd;
import java.net.URI;
import java.nio.file.Path;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The admin HTTP listener: metrics that move with traffic, liveness, readiness, status. */
class AdminHttpTest {
  @TempDir Path dir;
  // The gateway and its Java backends as GatewayServerTest makes them (not inherited: its
  // own tests would run again here).
  final GatewayServerTest t = new GatewayServerTest();
  GatewayServer gw;
  final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  @BeforeEach
  void setUp() throws Exception {
    t.dir = dir;
    t.setUp();
  }

  @AfterEach
  void tearDown() {
    t.tearDown();
  }

  LocalNode backend(String alive) throws Exception {
    return t.backend(alive);
  }

  GatewayServer start(String routing, String extra) throws Exception {
    gw = t.start(routing, extra);
    return gw;
  }

  void awaitUp(int n) throws Exception {
    t.awaitUp(n);
  }

  RawClient connect(String who) throws Exception {
    return t.connect(who);
  }

  GatewayServer startWithAdmin() throws Exception {
    return start("round_robin", "admin: {listen: '127.0.0.1:" + RealEpmd.freePort() + "'}\n");
  }

  HttpResponse<String> get(String path) throws Exception {
    return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
        + gw.adminAddress().getPort() + path)).timeout(Duration.ofSeconds(10)).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  /** The value of the one sample of {@code metric} whose labels include all of {@code labels}. */
  static double sample(String text, String metric, String... labels) {
    Double found = null;
    for (String line : text.lines().toList()) {
      if (!line.startsWith(metric + "{") && !line.startsWith(metric + " ")) {
        continue;
      }
      boolean all = true;
      for (String l : labels) {
        all &= line.contains(l);
      }
      if (all) {
        Matcher m = Pattern.compile(" ([-+0-9.eE]+|NaN)$").matcher(line);
        assertTrue(m.find(), line);
        found = (found == null ? 0 : found) + Double.parseDouble(m.group(1));
      }
    }
    return found == null ? -1 : found;
  }

  @Test
  void noAdminSectionNoListener() throws Exception {
    backend("kv1");
    start("round_robin", "");
    assertNull(gw.adminAddress());
  }

  @Test
  void aScrapeAfterAFewCallsShowsTheCountersMoving() throws Exception {
    LocalNode kv = backend("kv1");
    startWithAdmin();
    awaitUp(1);
    String before = get("/metrics").body();
    assertEquals(-1, sample(before, "beamgate_requests_total", "outcome=\"ok\""), before);
    RawClient c = connect("alice");
    for (int i = 1; i <= 3; i++) {
      c.send(call(i, "kv", "get", Binary.of("k".getBytes())));
      assertEquals(Atom.UNDEFINED, result(c.next()));
    }
    RawClient b = connect("bob");
    b.send(call(9, "kv", "put", Binary.of("k".getBytes()), Int.of(0)));
    error(b.next());
    HttpResponse<String> r = get("/metrics");
    assertEquals(200, r.statusCode());
    assertTrue(r.headers().firstValue("Content-Type").orElse("").startsWith("text/plain"));
    String text = r.body();
    assertEquals(3, sample(text, "beamgate_requests_total", "kind=\"call\"",
        "decision=\"allowed\"", "outcome=\"ok\"", "rule=\"kv-users\""), text);
    assertEquals(1, sample(text, "beamgate_requests_total", "kind=\"call\"",
        "decision=\"denied\"", "outcome=\"permission_denied\"", "rule=\"none\""), text);
    assertEquals(3, sample(text, "beamgate_request_duration_seconds_count",
        "decision=\"allowed\""), text);
    assertTrue(sample(text, "beamgate_request_duration_seconds_bucket", "le=\"+Inf\"") >= 4,
        text);
    assertEquals(2, sample(text, "beamgate_tls_handshakes_total", "result=\"ok\""), text);
    assertEquals(2, sample(text, "beamgate_connections_total", "result=\"accepted\""), text);
    assertEquals(2, sample(text, "beamgate_connections_open"), text);
    assertEquals(1, sample(text, "beamgate_backend_up", "backend=\"" + kv.name() + "\""), text);
    assertEquals(0, sample(text, "beamgate_backend_in_flight"), text);
    assertEquals(0, sample(text, "beamgate_requests_in_flight"), text);
    assertEquals(0, sample(text, "beamgate_bridge_links_up"), text);
    assertEquals(100, sample(text, "beamgate_atom_budget_limit"), text);
    assertTrue(sample(text, "beamgate_certificate_not_after_seconds",
        "certificate=\"server\"") > System.currentTimeMillis() / 1000.0, text);
    assertTrue(sample(text, "beamgate_crl_next_update_seconds")
        > System.currentTimeMillis() / 1000.0, text);
    assertTrue(sample(text, "jvm_memory_used_bytes") > 0, text);
    assertEquals(1, sample(text, "beamgate_audit_writable"), text);
    assertEquals(0, sample(text, "beamgate_audit_lost"), text);
    assertTrue(gw.reload().ok());
    t.bed.writePolicy("version: 1\nrules: []\n");
    assertTrue(!gw.reload().ok());
    text = get("/metrics").body();
    assertEquals(1, sample(text, "beamgate_reloads_total", "result=\"ok\""), text);
    assertEquals(1, sample(text, "beamgate_reloads_total", "result=\"refused\""), text);
    String om = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
        + gw.adminAddress().getPort() + "/metrics"))
        .header("Accept", "application/openmetrics-text; version=1.0.0").build(),
        HttpResponse.BodyHandlers.ofString()).body();
    assertTrue(om.trim().endsWith("# EOF"), om);
  }

  @Test
  void readyTurnsUnreadyWhenTheLastBackendGoesDownAndReadyWhenItIsBack() throws Exception {
    LocalNode n = backend("kvready");
    String name = n.name();
    startWithAdmin();
    awaitUp(1);
    assertEquals(200, get("/live").statusCode());
    HttpResponse<String> r = get("/ready");
    assertEquals(200, r.statusCode(), r.body());
    assertEquals("ready", ((Map<?, ?>) Json.parse(r.body())).get("status"));
    n.close();
    t.backends.clear();
    awaitUp(0);
    r = get("/ready");
    assertEquals(503, r.statusCode(), r.body());
    Map<?, ?> body = (Map<?, ?>) Json.parse(r.body());
    assertEquals("unready", body.get("status"));
    assertTrue(((List<?>) body.get("problems")).get(0).toString().contains("no backend is up"),
        r.body());
    assertEquals(200, get("/live").statusCode(), "still live");
    backend(name.substring(0, name.indexOf('@')));
    awaitUp(1);
    r = get("/ready");
    assertEquals(200, r.statusCode(), r.body());
  }

  @Test
  void clientsThatSendHalfARequestDoNotStopProbes() throws Exception {
    backend("kv1");
    startWithAdmin();
    List<java.net.Socket> half = new java.util.ArrayList<>();
    try {
      for (int i = 0; i < 8; i++) {
        java.net.Socket s = new java.net.Socket("127.0.0.1", gw.adminAddress().getPort());
        s.getOutputStream().write("GET /live HTTP/1.1\r\nHost: x\r\n".getBytes(
            java.nio.charset.StandardCharsets.US_ASCII));
        half.add(s);
      }
      Thread.sleep(200);
      long t0 = System.nanoTime();
      assertEquals(200, get("/live").statusCode());
      long ms = (System.nanoTime() - t0) / 1_000_000;
      assertTrue(ms < 5000, ms + " ms");
    } finally {
      for (java.net.Socket s : half) {
        s.close();
      }
    }
  }

  @Test
  void statusIsJsonAndOtherPathsAndMethodsAreRefused() throws Exception {
    backend("kv1");
    startWithAdmin();
    awaitUp(1);
    HttpResponse<String> r = get("/status");
    assertEquals(200, r.statusCode());
    Map<?, ?> st = (Map<?, ?>) Json.parse(r.body());
    assertEquals(1L, st.get("backends_up"), r.body());
    assertEquals(Boolean.FALSE, st.get("files_changed"), r.body());
    assertEquals(Boolean.TRUE, st.get("ready"), r.body());
    assertEquals(404, get("/nothing").statusCode());
    HttpResponse<String> post = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
        + gw.adminAddress().getPort() + "/ready")).POST(HttpRequest.BodyPublishers.noBody())
        .build(), HttpResponse.BodyHandlers.ofString());
    assertEquals(405, post.statusCode());
  }
}
