package io.beamgate.gateway.grpc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.beamgate.client.BeamgateClient;
import io.beamgate.client.ClientConfig;
import io.beamgate.client.GatewayException;
import io.beamgate.gateway.server.GatewayServer;
import io.beamgate.gateway.server.TestBed;
import io.beamgate.node.term.Int;
import io.beamgate.node.term.Term;
import io.beamgate.node.term.TermText;
import io.beamgate.node.testing.ErlNode;
import io.beamgate.node.testing.RealEpmd;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The gRPC example clients of docs/examples (Python with Debian's python3-grpcio, Go built
 * offline in GOPATH mode with Debian's Go packages) against a real gateway and a real erl
 * backend: allowed and refused calls come back as they do to the Java client and to the
 * Python client of the native protocol, with the same codes and messages. Fails, never skips,
 * under CI=true when a tool is missing.
 */
class GrpcClientsErlTest {
  static final String PYTHON = "/usr/bin/python3";
  static final String PROTOC = "/usr/bin/protoc";
  static final String GO = "/usr/bin/go";
  static final String POLICY = """
      version: 1
      rules:
        - id: grpc
          principals: ["uri:spiffe://test/alice"]
          calls: ["lists:seq/2", "string:uppercase/1", "timer:sleep/1"]
      """;

  @TempDir Path dir;
  TestBed bed;
  RealEpmd epmd;
  ErlNode e1;
  GatewayServer gw;
  TestBed.Client alice;
  final Path repo = Path.of("..").toAbsolutePath().normalize();

  @BeforeEach
  void setUp() throws Exception {
    bed = new TestBed(dir.resolve("gw"));
    bed.writePolicy(POLICY);
    epmd = RealEpmd.start();
    e1 = ErlNode.startLong(ErlNode.uniqueName("grpcc") + "@127.0.0.1", bed.cookie,
        epmd.port());
    gw = GatewayServer.start(bed.writeConfig(List.of(e1.name()), epmd.port(), "round_robin",
        ""), GatewayServer.Options.DEFAULTS.withBackendWait(Duration.ofSeconds(10)));
    alice = bed.client("alice");
  }

  @AfterEach
  void tearDown() throws Exception {
    if (gw != null) {
      gw.close();
    }
    e1.close();
    epmd.close();
  }

  static void require(boolean present, String what) {
    if (!present) {
      io.beamgate.node.testing.Needs.missing(what + " is not installed");
    }
  }

  /** Runs {@code cmd}; returns its exit status and output. */
  static String[] run(List<String> cmd, Map<String, String> env, int seconds) throws Exception {
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
    pb.environment().putAll(env);
    Process p = pb.start();
    try {
      p.getOutputStream().close();
      assertTrue(p.waitFor(seconds, TimeUnit.SECONDS), cmd.get(0) + " hangs: " + cmd);
      return new String[] {Integer.toString(p.exitValue()),
          new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip()};
    } finally {
      p.destroyForcibly();
    }
  }

  List<String> tlsFlags(String dash) {
    return List.of(dash + "gateway", "localhost:" + gw.listenAddress().getPort(),
        dash + "cert", alice.cert().toString(), dash + "key", alice.key().toString(),
        dash + "ca", alice.ca().toString());
  }

  String[] python(Path gen, String script, String... args) throws Exception {
    List<String> cmd = new ArrayList<>(List.of(PYTHON,
        repo.resolve("docs/examples/python/" + script).toString()));
    cmd.addAll(tlsFlags("--"));
    cmd.addAll(List.of(args));
    return run(cmd, Map.of("PYTHONPATH", gen.toString()), 30);
  }

  String[] go(Path bin, String... args) throws Exception {
    List<String> cmd = new ArrayList<>(List.of(bin.toString()));
    cmd.addAll(tlsFlags("-"));
    cmd.addAll(List.of(args));
    return run(cmd, Map.of(), 30);
  }

  /** The codes the Java client of the native protocol gets for the same requests. */
  void javaClientGets(String... codes) throws Exception {
    try (BeamgateClient c = BeamgateClient.connect(ClientConfig.builder().host("localhost")
        .port(gw.listenAddress().getPort()).tls(alice.cert(), alice.key(), alice.ca())
        .build())) {
      Term r = c.blocking().call("lists", "seq", List.of(Int.of(1), Int.of(5)));
      assertEquals(TermText.parse("[1,2,3,4,5]"), r);
      GatewayException denied = org.junit.jupiter.api.Assertions.assertThrows(
          GatewayException.class, () -> c.blocking().call("os", "cmd",
              List.of(Term.binary("id"))));
      assertEquals(codes[0], denied.code().name());
      GatewayException bad = org.junit.jupiter.api.Assertions.assertThrows(
          GatewayException.class, () -> c.blocking().call("lists", "seq",
              List.of(TermText.parse("a"), Int.of(2))));
      assertEquals(codes[1], bad.code().name());
    }
  }

  @Test
  void thePythonGrpcClientIsAllowedAndRefusedAsTheJavaClientIs() throws Exception {
    require(Files.isExecutable(Path.of(PROTOC)), "protoc (Debian: protobuf-compiler)");
    require(Files.isExecutable(Path.of("/usr/bin/grpc_python_plugin")),
        "grpc_python_plugin (Debian: protobuf-compiler-grpc)");
    require(Files.isExecutable(Path.of(PYTHON)) && new ProcessBuilder(PYTHON, "-c",
        "import grpc, google.protobuf").start().waitFor() == 0,
        "python3-grpcio and python3-protobuf");
    // Stubs from Debian's protoc and its gRPC plugin: python3-grpc-tools bundles protoc 3.5,
    // whose generated code the python3-protobuf runtime (4.x) refuses.
    Path gen = dir.resolve("py");
    Files.createDirectories(gen);
    String[] protoc = run(List.of(PROTOC, "-I", repo.resolve("client/src/main/proto")
        .toString(), "--python_out=" + gen, "--grpc_python_out=" + gen,
        "--plugin=protoc-gen-grpc_python=/usr/bin/grpc_python_plugin",
        "beamgate/v1/gateway.proto"), Map.of(), 30);
    assertEquals("0", protoc[0], protoc[1]);

    String[] seq = python(gen, "beamgate_grpc.py", "lists", "seq", "1", "5");
    assertEquals("ok [1, 2, 3, 4, 5]", seq[1]);
    assertEquals("0", seq[0]);
    assertEquals("ok <<'GR\u00dcSSE'>>", python(gen, "beamgate_grpc.py", "string",
        "uppercase", "gr\u00fc\u00dfe")[1]);
    String[] denied = python(gen, "beamgate_grpc.py", "os", "cmd", "id");
    assertEquals("1", denied[0], denied[1]);
    String[] bad = python(gen, "beamgate_grpc.py", "lists", "seq", ":a", "2");
    // the native protocol's Python client: the very same lines
    String[] nativeDenied = python(gen, "beamgate_call.py", "os", "cmd", "id");
    assertEquals(nativeDenied[1], denied[1]);
    assertTrue(denied[1].startsWith("error PERMISSION_DENIED "), denied[1]);
    String[] nativeBad = python(gen, "beamgate_call.py", "lists", "seq", ":a", "2");
    assertEquals(nativeBad[1].replaceAll("<[0-9.]+>", "<pid>"),
        bad[1].replaceAll("<[0-9.]+>", "<pid>"));
    assertTrue(bad[1].startsWith("error BAD_RPC "), bad[1]);
    javaClientGets("PERMISSION_DENIED", "BAD_RPC");

    String[] late = python(gen, "beamgate_grpc.py", "--deadline-ms", "300", "timer", "sleep",
        "5000");
    assertEquals("1", late[0], late[1]);
    assertTrue(late[1].startsWith("error DEADLINE_EXCEEDED") || late[1].startsWith(
        "error TIMEOUT"), late[1]);
    assertEquals("pong spiffe://test/alice", python(gen, "beamgate_grpc.py", "--ping")[1]);
    assertEquals("health SERVING", python(gen, "beamgate_grpc.py", "--health")[1]);
    assertTrue(bed.auditText().contains("\"mfa\":\"os:cmd/1\""), bed.auditText());
  }

  @Test
  void theGoClientIsAllowedAndRefusedAsTheJavaClientIs() throws Exception {
    require(Files.isExecutable(Path.of(GO)), "go (Debian: golang-go)");
    require(Files.isExecutable(Path.of(PROTOC)), "protoc (Debian: protobuf-compiler)");
    require(Files.isExecutable(Path.of("/usr/bin/protoc-gen-go"))
        && Files.isExecutable(Path.of("/usr/bin/protoc-gen-go-grpc")),
        "protoc-gen-go and protoc-gen-go-grpc (Debian: protoc-gen-go, protoc-gen-go-grpc)");
    require(Files.isDirectory(Path.of("/usr/share/gocode/src/google.golang.org/grpc"))
        && Files.isDirectory(Path.of("/usr/share/gocode/src/google.golang.org/protobuf")),
        "Go's grpc and protobuf sources (Debian: golang-google-grpc-dev,"
            + " golang-google-protobuf-dev)");
    // GOPATH mode with Debian's Go sources: modules would need the network.
    Path gopath = dir.resolve("gopath");
    Files.createDirectories(gopath.resolve("src"));
    String[] protoc = run(List.of(PROTOC, "-I", repo.resolve("client/src/main/proto")
        .toString(), "--go_out=" + gopath.resolve("src"), "--go-grpc_out="
        + gopath.resolve("src"), "beamgate/v1/gateway.proto"), Map.of(), 30);
    assertEquals("0", protoc[0], protoc[1]);
    Path bin = dir.resolve("beamgate-grpc");
    Path cache = repo.resolve("gateway/target/go-build-cache");
    Path src = repo.resolve("docs/examples/go/beamgate-grpc");
    String[] build = run(List.of(GO, "build", "-o", bin.toString(),
        src.resolve("main.go").toString(), src.resolve("failover.go").toString()), Map.of(
            "GOPATH", gopath + ":/usr/share/gocode", "GO111MODULE", "off", "GOFLAGS", "",
            "GOCACHE", cache.toString(), "HOME", dir.toString()), 300);
    assertEquals("0", build[0], build[1]);

    assertEquals("ok [1, 2, 3, 4, 5]", go(bin, "lists", "seq", "1", "5")[1]);
    assertEquals("ok <<'GR\u00dcSSE'>>", go(bin, "string", "uppercase", "gr\u00fc\u00dfe")[1]);
    String[] denied = go(bin, "os", "cmd", "id");
    assertEquals("1", denied[0], denied[1]);
    assertTrue(denied[1].startsWith("error PERMISSION_DENIED permission denied: "),
        denied[1]);
    String[] bad = go(bin, "lists", "seq", ":a", "2");
    assertTrue(bad[1].startsWith("error BAD_RPC lists:seq/2 on "), bad[1]);
    javaClientGets("PERMISSION_DENIED", "BAD_RPC");
    String[] late = go(bin, "-deadline", "300ms", "timer", "sleep", "5000");
    assertTrue(late[1].startsWith("error DEADLINE_EXCEEDED") || late[1].startsWith(
        "error TIMEOUT"), late[1]);
    assertEquals("pong spiffe://test/alice", go(bin, "-ping")[1]);
  }
}
