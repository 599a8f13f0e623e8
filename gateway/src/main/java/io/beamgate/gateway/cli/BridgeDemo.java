package io.beamgate.gateway.cli;

import io.beamgate.certs.DevCa;
import io.beamgate.certs.HeldCertificate;
import io.beamgate.gateway.server.GatewayServer;
import io.beamgate.node.LocalNode;
import io.beamgate.node.Mailbox;
import io.beamgate.node.NodeConfig;
import io.beamgate.node.epmd.EpmdServer;
import io.beamgate.node.rpc.RpcException;
import io.beamgate.node.term.Atom;
import io.beamgate.node.term.Term;
import io.beamgate.node.term.TermText;
import io.beamgate.node.term.Tuple;
import io.beamgate.gateway.config.GatewayConfigFile;
import java.io.IOException;
import java.io.PrintStream;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * {@code beamgate demo --bridge}: two clusters, each with its own EPMD and cookie, joined by
 * two gateways in this process. Cluster A has a key-value node; cluster B has a node that
 * calls it by erpc through {@code cluster_a}, the node gateway B runs to stand for cluster A.
 * Shows what gateway A's policy allows, what it refuses, and that a gateway that stops is a
 * node going down for the other cluster.
 */
final class BridgeDemo {
  static final String POLICY_A = """
      version: 1
      rules:
        - id: cluster-b
          principals: ["dns:gw-b.demo"]
          calls: ["kv:put/2", "kv:get/1"]
      """;
  static final String POLICY_B = """
      version: 1
      rules:
        - id: none-yet
          principals: ["dns:nobody.demo"]
          calls: ["kv:get/1"]
      """;

  private final PrintStream out;

  BridgeDemo(PrintStream out) {
    this.out = out;
  }

  private void say(String who, String what) {
    out.printf("[%-9s] %s%n", who, what);
  }

  int run(Path dir, ExecutorService workers) throws Exception {
    DevCa ca = DevCa.init(dir.resolve("ca"), "beamgate demo CA", Duration.ofDays(1), false);
    for (String side : List.of("a", "b")) {
      Path d = Files.createDirectories(dir.resolve(side));
      ca.issue(HeldCertificate.builder().commonName("gw-" + side + ".demo")
          .dns("gw-" + side + ".demo").dns("localhost").ip("127.0.0.1").serverAuth()
          .clientAuth()).writeTo(d.resolve("gateway.pem"), d.resolve("gateway.key"));
      Files.copy(dir.resolve("ca").resolve(DevCa.CERT), d.resolve("ca.pem"));
      Files.writeString(d.resolve("policy.yaml"), side.equals("a") ? POLICY_A : POLICY_B);
      cookie(d.resolve("cookie"));
    }
    say("pki", "one dev CA; gateway certificates gw-a.demo and gw-b.demo (server and client)");
    try (EpmdServer epmdA = EpmdServer.start(EpmdServer.Config.loopback(0));
        EpmdServer epmdB = EpmdServer.start(EpmdServer.Config.loopback(0))) {
      say("clusters", "cluster A: EPMD on port " + epmdA.port() + "; cluster B: EPMD on port "
          + epmdB.port() + "; each its own cookie");
      String cookieA = Files.readString(dir.resolve("a/cookie"));
      String cookieB = Files.readString(dir.resolve("b/cookie"));
      LocalNode kv = LocalNode.start(NodeConfig.builder("kv@127.0.0.1").cookie(cookieA)
          .epmdPort(epmdA.port()).build());
      LocalNode b1 = null;
      try {
        DemoCommand.serveKv(kv, workers);
        say("cluster A", "node " + kv.name() + " offers kv:put/2 and kv:get/1");
        int portA = freePort();
        Files.writeString(dir.resolve("a/gateway.yaml"), config(portA, "gwa", epmdA.port(),
            kv.name(), ""));
        String standIn = "cluster_a@127.0.0.1";
        Files.writeString(dir.resolve("b/gateway.yaml"), config(freePort(), "gwb",
            epmdB.port(), "nobody@127.0.0.1", "bridges:\n  - name: to-a\n"
                + "    connect: {host: localhost, port: " + portA + "}\n"
                + "    expect: dns:gw-a.demo\n    node_name: " + standIn + "\n"
                + "    reconnect_min_ms: 100\n    reconnect_max_ms: 400\n"));
        GatewayServer gwA = GatewayServer.start(
            GatewayConfigFile.load(dir.resolve("a/gateway.yaml")), GatewayServer.Options.DEFAULTS);
        say("gateway A", "serves cluster A on 127.0.0.1:" + portA + "; its policy lets"
            + " gw-b.demo call kv:put/2 and kv:get/1, nothing else");
        try (GatewayServer gwB = GatewayServer.start(
            GatewayConfigFile.load(dir.resolve("b/gateway.yaml")),
            GatewayServer.Options.DEFAULTS.withBackendWait(Duration.ofMillis(1)))) {
          awaitBridge(gwB, true);
          say("gateway B", "linked to gateway A (mTLS, expects dns:gw-a.demo); cluster A is"
              + " the node " + standIn + " in cluster B");
          out.println();
          b1 = LocalNode.start(NodeConfig.builder("b1@127.0.0.1").cookie(cookieB)
              .epmdPort(epmdB.port()).build());
          say("b1", "a node of cluster B (cluster B's cookie; it knows nothing of cluster A)");
          call(b1, standIn, "kv", "put", List.of(Atom.of("colour"), Term.binary("blue")));
          call(b1, standIn, "kv", "get", List.of(Atom.of("colour")));
          call(b1, standIn, "os", "cmd", List.of(Term.string("id")));
          call(b1, standIn, "kv", "delete", List.of(Atom.of("colour")));
          Mailbox watcher = b1.createMailbox();
          watcher.monitorNode(standIn);
          out.println();
          say("gateway A", "stops");
          gwA.close();
          Term down = watcher.receive(Duration.ofSeconds(10));
          say("b1", "got " + (down == null ? "nothing" : TermText.format(down))
              + ": for cluster B, cluster A went down");
          call(b1, standIn, "kv", "get", List.of(Atom.of("colour")));
          gwA = GatewayServer.start(GatewayConfigFile.load(dir.resolve("a/gateway.yaml")),
              GatewayServer.Options.DEFAULTS);
          say("gateway A", "starts again");
          awaitBridge(gwB, true);
          call(b1, standIn, "kv", "get", List.of(Atom.of("colour")));
          out.println();
          say("audit", "gateway A's records for gw-b.demo, for example:");
          Thread.sleep(100);
          for (String line : Files.readAllLines(dir.resolve("a/audit.jsonl"))) {
            if (line.contains("\"mfa\":\"kv:") || line.contains("\"mfa\":\"os:")) {
              out.println("  " + line.replaceAll(
                  "\"(fingerprint|serial|time|peer|latency_us)\":(\"[^\"]*\"|[0-9]+),?", ""));
            }
          }
        } finally {
          gwA.close();
        }
      } finally {
        if (b1 != null) {
          b1.close();
        }
        kv.close();
      }
    }
    return 0;
  }

  private void call(LocalNode from, String node, String m, String f, List<Term> args) {
    String what = "erpc:call(cluster_a, " + m + ", " + f + ", "
        + TermText.format(Term.list(args.toArray(Term[]::new))) + ")";
    try {
      Term r = from.rpc().callAsync(node, m, f, args, Duration.ofSeconds(5))
          .get(10, TimeUnit.SECONDS);
      say("b1", what + " -> " + TermText.format(r));
    } catch (ExecutionException e) {
      String why = e.getCause() instanceof RpcException re ? re.reason() instanceof Tuple t
          ? TermText.format(t) : String.valueOf(re.reason()) : String.valueOf(e.getCause());
      say("b1", what + " -> error " + why);
    } catch (Exception e) {
      say("b1", what + " -> " + e);
    }
  }

  private static void awaitBridge(GatewayServer gw, boolean up) throws InterruptedException {
    long end = System.nanoTime() + Duration.ofSeconds(15).toNanos();
    while (!Boolean.valueOf(up).equals(gw.bridgesUp().get("to-a"))
        && System.nanoTime() < end) {
      Thread.sleep(20);
    }
  }

  private static void cookie(Path file) throws IOException {
    byte[] rnd = new byte[12];
    new SecureRandom().nextBytes(rnd);
    Files.writeString(file, HexFormat.of().formatHex(rnd), StandardCharsets.US_ASCII);
    Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("r--------"));
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  private static String config(int port, String name, int epmdPort, String backend,
      String extra) {
    return "version: 1\n"
        + "listen: {address: 127.0.0.1, port: " + port + "}\n"
        + "tls: {certificate: gateway.pem, key: gateway.key, client_cas: ca.pem}\n"
        + "cluster:\n"
        + "  node_name: " + name + Long.toHexString(System.nanoTime() & 0xFFFF)
        + "@127.0.0.1\n"
        + "  cookie_file: cookie\n  listen_address: 127.0.0.1\n  epmd_port: " + epmdPort + "\n"
        + "  backends: [" + backend + "]\n"
        + "policy: policy.yaml\naudit: audit.jsonl\n"
        + "reload: {watch_interval_ms: 0, admin_socket: admin.sock}\n" + extra;
  }
}
