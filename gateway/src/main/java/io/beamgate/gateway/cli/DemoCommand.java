package io.beamgate.gateway.cli;

import io.beamgate.certs.DevCa;
import io.beamgate.certs.HeldCertificate;
import io.beamgate.client.BeamgateClient;
import io.beamgate.client.ClientConfig;
import io.beamgate.client.GatewayException;
import io.beamgate.gateway.server.GatewayServer;
import io.beamgate.node.LocalNode;
import io.beamgate.node.NodeConfig;
import io.beamgate.node.epmd.EpmdServer;
import io.beamgate.node.rpc.RpcServer;
import io.beamgate.node.term.Atom;
import io.beamgate.node.term.ExternalFun;
import io.beamgate.node.term.Term;
import io.beamgate.node.term.TermText;
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
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code beamgate demo}: the main job on an embedded default, in one process. A dev PKI in a
 * temporary directory, an embedded EPMD, a backend node offering a small key-value service
 * (a Java node, or a real {@code erl} with {@code --erl}), the gateway with a demo policy, and
 * clients showing what is allowed and what is refused. Everything it made is deleted at the
 * end; the private keys never leave the temporary directory.
 */
@Command(name = "demo", mixinStandardHelpOptions = true,
    versionProvider = VersionProvider.class,
    description = {"Run a self-contained demo of the gateway: a dev PKI, an embedded EPMD, a"
        + " key-value backend node, the gateway with a demo policy, and clients that are allowed"
        + " or refused. No Erlang installation needed.",
        "With --erl the backend is a real erl node (needs erl on the PATH).",
        "With --bridge: two clusters joined by two gateways instead."})
public final class DemoCommand implements Callable<Integer> {
  static final String POLICY = """
      version: 1
      atom_budget: 1000
      rules:
        - id: demo-app
          principals: ["uri:spiffe://demo/app"]
          calls: ["kv:put/2", "kv:get/1"]
          limits: {rate_per_second: 100, concurrency: 8, timeout_ms: 5000}
      """;
  static final String KV_ERL = """
      -module(kv).
      -export([start/0, put/2, get/1]).
      start() ->
          Self = self(),
          spawn(fun() -> ets:new(kv, [named_table, public]), Self ! ready,
                         receive stop -> ok end end),
          receive ready -> ok end.
      put(K, V) -> true = ets:insert(kv, {K, V}), ok.
      get(K) -> case ets:lookup(kv, K) of [{_, V}] -> V; [] -> undefined end.
      """;

  @Option(names = "--erl", description = "Use a real erl node as the backend.")
  boolean erl;

  @Option(names = "--bridge", description = "Show a bridge instead: two clusters, each with"
      + " its own EPMD and cookie, joined by two gateways (see docs/bridge-guide.md).")
  boolean bridge;

  private PrintStream out;

  private void say(String who, String what) {
    out.printf("[%-8s] %s%n", who, what);
  }

  @Override
  public Integer call() throws Exception {
    out = System.out;
    long t0 = System.nanoTime();
    if (bridge) {
      out.println("beamgate demo --bridge: a node of cluster B calls cluster A through two"
          + " gateways; each cluster keeps its own cookie, and gateway A's policy decides");
      out.println();
      Path dir = Files.createTempDirectory("beamgate-bridge-demo");
      ExecutorService workers = Executors.newFixedThreadPool(2);
      try {
        int code = new BridgeDemo(out).run(dir, workers);
        out.println();
        out.printf("demo complete in %d ms. Next: docs/bridge-guide.md joins two real erl"
            + " clusters step by step.%n", (System.nanoTime() - t0) / 1_000_000);
        return code;
      } finally {
        workers.shutdownNow();
        deleteTree(dir);
      }
    }
    out.println("beamgate demo: remote clients call an Erlang cluster through the gateway,"
        + " over mutual TLS, within a policy");
    out.println();
    Path dir = Files.createTempDirectory("beamgate-demo");
    Process erlProcess = null;
    ExecutorService workers = Executors.newFixedThreadPool(2);
    try (EpmdServer epmd = EpmdServer.start(EpmdServer.Config.loopback(0))) {
      // 1. A dev PKI: one CA for the gateway and its clients, and a stranger's CA.
      DevCa ca = DevCa.init(dir.resolve("ca"), "beamgate demo CA", Duration.ofDays(1), false);
      ca.issue(HeldCertificate.builder().commonName("gateway").dns("localhost")
          .ip("127.0.0.1").serverAuth()).writeTo(dir.resolve("gateway.pem"),
              dir.resolve("gateway.key"));
      Files.copy(dir.resolve("ca").resolve(DevCa.CERT), dir.resolve("ca.pem"));
      ca.issue(HeldCertificate.builder().commonName("app").uri("spiffe://demo/app")
          .clientAuth()).writeTo(dir.resolve("app.pem"), dir.resolve("app.key"));
      HeldCertificate stranger = HeldCertificate.builder().commonName("elsewhere CA")
          .certificateAuthority(0).build();
      HeldCertificate.builder().commonName("intruder").uri("spiffe://demo/app").clientAuth()
          .signedBy(stranger).build()
          .writeTo(dir.resolve("intruder.pem"), dir.resolve("intruder.key"));
      say("pki", "dev CA, gateway certificate, and a client certificate for"
          + " spiffe://demo/app in " + dir);
      say("pki", "also an intruder's certificate claiming spiffe://demo/app, from another CA");
      say("epmd", "embedded EPMD on 127.0.0.1:" + epmd.port());

      // 2. The backend: the LAN cluster, with its own cookie.
      byte[] rnd = new byte[12];
      new SecureRandom().nextBytes(rnd);
      String cookie = HexFormat.of().formatHex(rnd);
      Path cookieFile = dir.resolve("cookie");
      Files.writeString(cookieFile, cookie, StandardCharsets.US_ASCII);
      Files.setPosixFilePermissions(cookieFile, PosixFilePermissions.fromString("r--------"));
      String backendName;
      LocalNode javaBackend = null;
      if (erl) {
        backendName = "kv" + Long.toHexString(System.nanoTime() & 0xFFFFFF) + "@127.0.0.1";
        erlProcess = startErl(dir, backendName, cookie, epmd.port());
        say("backend", "real erl node " + backendName + " (pid " + erlProcess.pid()
            + ") with module kv: put/2, get/1 on an ets table");
      } else {
        javaBackend = LocalNode.start(NodeConfig.builder("kv@127.0.0.1").cookie(cookie)
            .epmdPort(epmd.port()).build());
        backendName = javaBackend.name();
        serveKv(javaBackend, workers);
        say("backend", "Java node " + backendName + " offers kv:put/2 and kv:get/1"
            + " (run `beamgate demo --erl` for a real erl backend)");
      }

      // 3. The gateway.
      Files.writeString(dir.resolve("policy.yaml"), POLICY, StandardCharsets.UTF_8);
      Files.writeString(dir.resolve("gateway.yaml"), config(backendName, epmd.port()),
          StandardCharsets.UTF_8);
      try (GatewayServer gw = GatewayServer.start(
          GatewayConfigFile.load(dir.resolve("gateway.yaml")),
          GatewayServer.Options.DEFAULTS.withBackendWait(Duration.ofSeconds(10)))) {
        int port = gw.listenAddress().getPort();
        say("gateway", "mTLS (TLS 1.3, client certificate required) on 127.0.0.1:" + port
            + "; hidden node " + gw.node().name() + " connected to " + backendName);
        say("gateway", "policy: spiffe://demo/app may call kv:put/2 and kv:get/1; nothing"
            + " else, for no one");
        out.println();

        // 4. An allowed client.
        ClientConfig app = ClientConfig.builder().host("localhost").port(port)
            .tls(dir.resolve("app.pem"), dir.resolve("app.key"), dir.resolve("ca.pem"))
            .build();
        try (BeamgateClient c = BeamgateClient.connect(app)) {
          say("app", "connected; the gateway sees principal "
              + c.blocking().ping().principal());
          show(c, "kv", "put", List.of(Term.binary("greeting"), Term.binary("hello")));
          show(c, "kv", "get", List.of(Term.binary("greeting")));
          show(c, "os", "cmd", List.of(Term.string("id")));
          show(c, "kv", "put", List.of(Term.binary("k"),
              new ExternalFun(Atom.of("erlang"), Atom.of("halt"), 0)));
          show(c, "kv", "put", List.of(Term.binary("k"), Term.binary("v"), Atom.OK));
        }

        // 5. A client whose certificate the gateway does not trust.
        ClientConfig intruder = ClientConfig.builder().host("localhost").port(port)
            .tls(dir.resolve("intruder.pem"), dir.resolve("intruder.key"),
                dir.resolve("ca.pem"))
            .connectTimeout(Duration.ofSeconds(3)).waitForConnection(false).build();
        try (BeamgateClient c = BeamgateClient.connect(intruder)) {
          say("intruder", "connected?! " + c.blocking().ping());
          return 1;
        } catch (GatewayException e) {
          say("intruder", "refused at the TLS handshake (" + e.code() + "): the gateway trusts"
              + " only its own CA, whatever name the certificate claims");
        }
        out.println();
        say("audit", "one JSON line per decision (" + dir.resolve("audit.jsonl").getFileName()
            + "), for example:");
        Thread.sleep(100);
        for (String line : Files.readAllLines(dir.resolve("audit.jsonl"))) {
          out.println("  " + line.replaceAll("\"(fingerprint|serial|time|peer)\":\"[^\"]*\",?",
              "").replace(",\"latency_us\":0", ""));
        }
      } finally {
        if (javaBackend != null) {
          javaBackend.close();
        }
      }
    } finally {
      if (erlProcess != null) {
        erlProcess.destroyForcibly();
        erlProcess.waitFor(5, TimeUnit.SECONDS);
      }
      workers.shutdownNow();
      deleteTree(dir);
    }
    out.println();
    out.printf("demo complete in %d ms. Next: docs/getting-started.md puts the gateway in front"
        + " of a real erl cluster.%n", (System.nanoTime() - t0) / 1_000_000);
    return 0;
  }

  /** The demo's key-value service on a Java node: kv:put/2 and kv:get/1 on a map. */
  static void serveKv(LocalNode node, ExecutorService workers) {
    Map<Term, Term> store = new ConcurrentHashMap<>();
    RpcServer.start(node, workers)
        .register("kv", "put", 2, a -> {
          store.put(a.get(0), a.get(1));
          return Atom.OK;
        })
        .register("kv", "get", 1, a -> store.getOrDefault(a.get(0), Atom.UNDEFINED));
  }

  private void show(BeamgateClient c, String m, String f, List<Term> args) {
    String what = m + ":" + f + "(" + TermText.format(Term.list(args.toArray(Term[]::new)))
        .replaceAll("^\\[|\\]$", "") + ")";
    try {
      say("app", what + " -> " + TermText.format(c.blocking().call(m, f, args)));
    } catch (GatewayException e) {
      say("app", what + " -> refused: " + e.code() + " (" + e.reason().orElse(e.getMessage())
          + (e.path().isPresent() ? ", at " + e.path().get() : "") + ")");
    }
  }

  private static String config(String backend, int epmdPort) throws IOException {
    int port;
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort();
    }
    return "version: 1\n"
        + "listen: {address: 127.0.0.1, port: " + port + "}\n"
        + "tls: {certificate: gateway.pem, key: gateway.key, client_cas: ca.pem}\n"
        + "cluster:\n"
        + "  node_name: beamgate_demo" + Long.toHexString(System.nanoTime() & 0xFFFF)
        + "@127.0.0.1\n"
        + "  cookie_file: cookie\n  listen_address: 127.0.0.1\n  epmd_port: " + epmdPort + "\n"
        + "  backends: [" + backend + "]\n"
        + "policy: policy.yaml\naudit: audit.jsonl\n"
        + "reload: {watch_interval_ms: 0, admin_socket: admin.sock}\n";
  }

  private static Process startErl(Path dir, String name, String cookie, int epmdPort)
      throws IOException, InterruptedException {
    Files.writeString(dir.resolve("kv.erl"), KV_ERL, StandardCharsets.UTF_8);
    String eval = "{ok, kv} = compile:file(\"" + dir.resolve("kv.erl") + "\", [{outdir, \""
        + dir + "\"}]), code:add_patha(\"" + dir + "\"), ok = kv:start(),"
        + " io:format(\"ready~n\").";
    ProcessBuilder pb = new ProcessBuilder("erl", "-noshell", "-name", name, "-setcookie",
        cookie, "-eval", eval).redirectErrorStream(true);
    pb.environment().put("ERL_EPMD_PORT", Integer.toString(epmdPort));
    Process p;
    try {
      p = pb.start();
    } catch (IOException e) {
      throw new IOException("cannot start erl (is Erlang installed? apt-get install"
          + " erlang-nox): " + e.getMessage(), e);
    }
    java.io.BufferedReader r = new java.io.BufferedReader(new java.io.InputStreamReader(
        p.getInputStream(), StandardCharsets.UTF_8));
    long end = System.nanoTime() + Duration.ofSeconds(20).toNanos();
    String line;
    while ((line = r.readLine()) != null) {
      if (line.contains("ready")) {
        Thread drain = new Thread(() -> {
          try {
            while (r.readLine() != null) {
              // keep erl's output pipe flowing
            }
          } catch (IOException ignored) {
            // erl ended
          }
        }, "demo-erl-output");
        drain.setDaemon(true);
        drain.start();
        return p;
      }
      if (System.nanoTime() > end) {
        break;
      }
    }
    p.destroyForcibly();
    throw new IOException("erl did not start: last output: " + line);
  }

  private static void deleteTree(Path dir) {
    try (Stream<Path> s = Files.walk(dir)) {
      s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException ignored) {
      // a temporary directory: the OS cleans it eventually
    }
  }
}
