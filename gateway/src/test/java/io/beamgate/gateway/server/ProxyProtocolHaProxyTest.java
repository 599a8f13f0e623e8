package io.beamgate.gateway.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.beamgate.client.BeamgateClient;
import io.beamgate.client.ClientConfig;
import io.beamgate.client.GatewayException;
import io.beamgate.node.term.ErlList;
import io.beamgate.node.term.Term;
import io.beamgate.node.testing.ErlNode;
import io.beamgate.node.testing.RealEpmd;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * PROXY protocol with a real HAProxy in TCP mode in front of two gateways and a real erl
 * backend. HAProxy connects to the gateways from 127.0.0.3 (the only listed load balancer);
 * clients connect to HAProxy from 127.0.0.1, which the gateways' audit must then name.
 */
class ProxyProtocolHaProxyTest {
  static final String POLICY = """
      version: 1
      rules:
        - id: app
          principals: ["uri:spiffe://test/alice"]
          calls: ["lists:reverse/1"]
      """;
  static final String LB = "127.0.0.3";

  @TempDir Path dir;
  RealEpmd epmd;
  ErlNode backend;
  TestBed bedA;
  TestBed bedB;
  GatewayServer gwA;
  GatewayServer gwB;
  HaProxy haproxy;
  final List<BeamgateClient> clients = new ArrayList<>();

  @BeforeEach
  void setUp() throws Exception {
    HaProxy.require();
    bedA = new TestBed(dir.resolve("a"));
    bedB = new TestBed(dir.resolve("b"), bedA, null);
    Files.writeString(bedB.dir.resolve("cookie"), bedA.cookie); // one cluster, one cookie
    bedA.writePolicy(POLICY);
    bedB.writePolicy(POLICY);
    epmd = RealEpmd.start();
    backend = ErlNode.startLong(ErlNode.uniqueName("pp") + "@127.0.0.1", bedA.cookie,
        epmd.port());
    String proxy = "listen: {address: 127.0.0.1, port: %d, proxy_protocol: {from: [" + LB
        + "/32]}}\n";
    gwA = start(bedA, proxy);
    gwB = start(bedB, proxy);
  }

  GatewayServer start(TestBed bed, String listen) throws Exception {
    io.beamgate.gateway.config.GatewayConfig c = bed.writeConfig(List.of(backend.name()),
        epmd.port(), "round_robin", "");
    // the listen line TestBed wrote, with its free port, gains proxy_protocol
    String yaml = Files.readString(bed.config);
    int port = c.listen().port();
    yaml = yaml.replaceFirst("listen: \\{[^}]*\\}\n", String.format(listen, port));
    Files.writeString(bed.config, yaml);
    return GatewayServer.start(io.beamgate.gateway.config.GatewayConfigFile.load(bed.config),
        GatewayServer.Options.DEFAULTS.withBackendWait(Duration.ofSeconds(10)));
  }

  @AfterEach
  void tearDown() throws Exception {
    clients.forEach(BeamgateClient::close);
    if (haproxy != null) {
      haproxy.close();
    }
    for (GatewayServer g : new GatewayServer[] {gwA, gwB}) {
      if (g != null) {
        g.close();
      }
    }
    backend.close();
    epmd.close();
  }

  String haproxyConfig(int v2Port, int v1Port, int plainPort) {
    int a = gwA.listenAddress().getPort();
    int b = gwB.listenAddress().getPort();
    return """
        global
          maxconn 200
        defaults
          mode tcp
          timeout connect 2s
          timeout client 30s
          timeout server 30s
        frontend v2
          bind 127.0.0.1:%d
          default_backend gateways_v2
        backend gateways_v2
          balance roundrobin
          source %s
          server a 127.0.0.1:%d send-proxy-v2
          server b 127.0.0.1:%d send-proxy-v2
        frontend v1
          bind 127.0.0.1:%d
          default_backend gateway_v1
        backend gateway_v1
          source %s
          server a 127.0.0.1:%d send-proxy
        frontend plain
          bind 127.0.0.1:%d
          default_backend gateway_plain
        backend gateway_plain
          source %s
          server a 127.0.0.1:%d
        """.formatted(v2Port, LB, a, b, v1Port, LB, a, plainPort, LB, a);
  }

  BeamgateClient client(TestBed bed, int port) throws Exception {
    TestBed.Client c = bed.client("alice");
    BeamgateClient b = BeamgateClient.connect(ClientConfig.builder().host("localhost")
        .port(port).tls(c.cert(), c.key(), c.ca()).build());
    clients.add(b);
    return b;
  }

  static List<String> peers(TestBed bed, Predicate<String> line) throws Exception {
    List<String> out = new ArrayList<>();
    for (String l : bed.auditText().split("\n")) {
      if (!l.isBlank() && line.test(l)) {
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("\"peer\":\"([^\"]*)\"")
            .matcher(l);
        out.add(m.find() ? m.group(1) : "(no peer)");
      }
    }
    return out;
  }

  static void awaitAudit(TestBed bed, String text) throws Exception {
    long end = System.nanoTime() + 5_000_000_000L;
    while (!bed.auditText().contains(text)) {
      if (System.nanoTime() > end) {
        throw new AssertionError("no audit record with '" + text + "' in " + bed.auditText());
      }
      Thread.sleep(50);
    }
  }

  int[] freePorts(int n) throws Exception {
    int[] p = new int[n];
    for (int i = 0; i < n; i++) {
      p[i] = io.beamgate.node.testing.RealEpmd.freePort();
    }
    return p;
  }

  @Test
  void behindHaProxyWithSendProxyV2TheAuditNamesTheClientNotTheBalancer() throws Exception {
    int[] ports = freePorts(3);
    haproxy = HaProxy.start(dir, haproxyConfig(ports[0], ports[1], ports[2]), ports);
    // round robin over two gateways: four connections, two on each
    for (int i = 0; i < 4; i++) {
      BeamgateClient c = client(bedA, ports[0]);
      assertEquals(ErlList.of(Term.integer(2), Term.integer(1)), c.blocking().call("lists",
          "reverse", List.of(ErlList.of(Term.integer(1), Term.integer(2)))));
    }
    for (TestBed bed : new TestBed[] {bedA, bedB}) {
      awaitAudit(bed, "lists:reverse/1");
      List<String> peers = peers(bed, l -> l.contains("lists:reverse/1"));
      assertEquals(2, peers.size(), bed.auditText());
      for (String p : peers) {
        assertTrue(p.startsWith("127.0.0.1:"), "the client's address, not the balancer's ("
            + LB + "): " + p);
      }
    }
  }

  @Test
  void sendProxyV1IsReadToo() throws Exception {
    int[] ports = freePorts(3);
    haproxy = HaProxy.start(dir, haproxyConfig(ports[0], ports[1], ports[2]), ports);
    BeamgateClient c = client(bedA, ports[1]);
    c.blocking().call("lists", "reverse", List.of(ErlList.of(Term.integer(1))));
    awaitAudit(bedA, "lists:reverse/1");
    List<String> peers = peers(bedA, l -> l.contains("lists:reverse/1"));
    assertEquals(1, peers.size());
    assertTrue(peers.get(0).startsWith("127.0.0.1:"), peers.get(0));
  }

  @Test
  void aListedBalancerThatSendsNoHeaderIsRefused() throws Exception {
    int[] ports = freePorts(3);
    haproxy = HaProxy.start(dir, haproxyConfig(ports[0], ports[1], ports[2]), ports);
    GatewayException e = assertThrows(GatewayException.class, () -> client(bedA, ports[2]));
    assertTrue(e.code() == GatewayException.Code.CONNECTION
        || e.code() == GatewayException.Code.TLS, e.toString());
    awaitAudit(bedA, "no PROXY header from a load balancer");
    assertTrue(peers(bedA, l -> l.contains("no PROXY header")).get(0).startsWith(LB + ":"));
  }

  @Test
  void anUnlistedSenderOfAProxyHeaderIsRefusedAndADirectClientIsServed() throws Exception {
    for (String header : new String[] {"PROXY TCP4 198.51.100.7 127.0.0.1 4000 443\r\n",
        "\r\n\r\n\0\r\nQUIT\n"}) {
      try (Socket s = new Socket()) {
        s.connect(new InetSocketAddress("127.0.0.1", gwA.listenAddress().getPort()), 2000);
        s.setSoTimeout(5000);
        OutputStream out = s.getOutputStream();
        out.write(header.getBytes(StandardCharsets.ISO_8859_1));
        out.write(new byte[32]);
        out.flush();
        InputStream in = s.getInputStream();
        assertEquals(-1, in.read(), "the gateway closes the connection");
      }
    }
    awaitAudit(bedA, "from an address not in listen.proxy_protocol.from");
    assertTrue(bedA.auditText().lines().noneMatch(l -> l.contains("198.51.100.7")),
        "the forged address is never believed");
    // a client that connects directly (not through the balancer) is served as before
    BeamgateClient c = client(bedA, gwA.listenAddress().getPort());
    c.blocking().call("lists", "reverse", List.of(ErlList.of(Term.integer(1))));
  }
}
