package io.beamgate.gateway.grpc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.beamgate.gateway.proto.ClientFrame;
import io.beamgate.gateway.proto.Ping;
import io.beamgate.gateway.proto.ServerFrame;
import io.beamgate.gateway.server.GatewayServer;
import io.beamgate.gateway.server.TestBed;
import io.beamgate.node.testing.RealEpmd;
import io.beamgate.security.tls.TlsMaterial;
import io.beamgate.security.tls.TlsSettings;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLHandshakeException;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManager;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * ALPN is enforced on the listener, with either TLS provider: a client offering only
 * protocols the gateway does not speak gets the alert no_application_protocol (RFC 7301) and
 * an audit record; one offering h2 among others gets h2; one offering nothing is served the
 * native protocol, as before. No backend is needed.
 */
class AlpnEnforcementTest {
  @TempDir Path dir;
  TestBed bed;
  GatewayServer gw;
  TestBed.Client alice;

  void start(TlsSettings.Provider provider) throws Exception {
    bed = new TestBed(dir.resolve("gw"));
    bed.writePolicy("""
        version: 1
        rules:
          - id: r
            principals: ["uri:spiffe://test/alice"]
            calls: ["lists:seq/2"]
        """);
    gw = GatewayServer.start(bed.writeConfig(List.of("nobody@127.0.0.1"),
        RealEpmd.freePort(), "round_robin", ""), GatewayServer.Options.DEFAULTS
            .withProvider(provider).withBackendWait(Duration.ofMillis(10)));
    alice = bed.client("alice");
  }

  @AfterEach
  void tearDown() {
    if (gw != null) {
      gw.close();
    }
  }

  String sClient(String... extra) throws Exception {
    List<String> cmd = new ArrayList<>(List.of("openssl", "s_client", "-connect",
        "127.0.0.1:" + gw.listenAddress().getPort(), "-CAfile", alice.ca().toString(),
        "-cert", alice.cert().toString(), "-key", alice.key().toString()));
    cmd.addAll(List.of(extra));
    Process p;
    try {
      p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    } catch (IOException e) {
      if ("true".equalsIgnoreCase(System.getenv("CI"))) {
        throw new AssertionError("openssl missing under CI=true", e);
      }
      org.junit.jupiter.api.Assumptions.abort("openssl not installed");
      return "";
    }
    p.getOutputStream().close();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(p.waitFor(20, TimeUnit.SECONDS));
    return out;
  }

  SSLSocket jdkClient(String... alpn) throws Exception {
    TlsMaterial m = TlsMaterial.load(TlsSettings.of(alice.cert(), alice.key(), alice.ca()));
    SSLContext ctx = SSLContext.getInstance("TLSv1.3");
    ctx.init(m.keyManagers(), new TrustManager[] {m.trustManager()}, null);
    SSLSocket s = (SSLSocket) ctx.getSocketFactory().createSocket("127.0.0.1",
        gw.listenAddress().getPort());
    s.setSoTimeout(10_000);
    SSLParameters p = s.getSSLParameters();
    if (alpn.length > 0) {
      p.setApplicationProtocols(alpn);
    }
    s.setSSLParameters(p);
    return s;
  }

  @ParameterizedTest
  @EnumSource(value = TlsSettings.Provider.class, names = {"JDK", "OPENSSL"})
  void aClientOfferingOnlyUnknownProtocolsGetsNoApplicationProtocol(
      TlsSettings.Provider provider) throws Exception {
    org.junit.jupiter.api.Assumptions.assumeTrue(provider != TlsSettings.Provider.OPENSSL
        || io.netty.handler.ssl.OpenSsl.isAvailable(), "netty-tcnative does not load here");
    start(provider);
    String out = sClient("-alpn", "foo");
    assertTrue(out.contains("no application protocol") || out.contains("alert number 120"),
        out);
    assertTrue(out.contains("Cipher is (NONE)"), out);
    try (SSLSocket s = jdkClient("foo", "http/1.1")) {
      SSLHandshakeException e = assertThrows(SSLHandshakeException.class, s::startHandshake);
      assertTrue(e.getMessage().contains("no_application_protocol"), e.getMessage());
    }
    // Audit records are written at the end of the event loop's turn: wait for the second one.
    long until = System.nanoTime() + 5_000_000_000L;
    while (!bed.auditText().contains("[foo, http/1.1]") && System.nanoTime() < until) {
      Thread.sleep(20);
    }
    String audit = bed.auditText();
    assertTrue(audit.contains("no application protocol in common: the client offered [foo]"),
        audit);
    assertTrue(audit.contains("[foo, http/1.1]"), audit);
    assertEquals(1, audit.split("the client offered \\[foo\\]", -1).length - 1,
        "one audit record per refused client: " + audit);

    String h2 = sClient("-alpn", "foo,h2");
    assertTrue(h2.contains("ALPN protocol: h2"), h2);
  }

  @ParameterizedTest
  @EnumSource(value = TlsSettings.Provider.class, names = {"JDK", "OPENSSL"})
  void aClientOfferingNoAlpnIsServedTheNativeProtocol(TlsSettings.Provider provider)
      throws Exception {
    org.junit.jupiter.api.Assumptions.assumeTrue(provider != TlsSettings.Provider.OPENSSL
        || io.netty.handler.ssl.OpenSsl.isAvailable(), "netty-tcnative does not load here");
    start(provider);
    try (SSLSocket s = jdkClient()) {
      s.startHandshake();
      assertEquals("", s.getApplicationProtocol());
      ClientFrame.newBuilder().setId(7).setPing(Ping.getDefaultInstance()).build()
          .writeDelimitedTo(s.getOutputStream());
      s.getOutputStream().flush();
      ServerFrame f = ServerFrame.parseDelimitedFrom(s.getInputStream());
      assertEquals(7, f.getId());
      assertEquals("spiffe://test/alice", f.getPong().getPrincipal());
    }
  }
}
