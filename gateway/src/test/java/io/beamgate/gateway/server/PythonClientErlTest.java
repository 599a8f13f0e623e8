package io.beamgate.gateway.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.beamgate.client.BeamgateClient;
import io.beamgate.client.ClientConfig;
import io.beamgate.client.GatewayException;
import io.beamgate.node.term.Int;
import io.beamgate.node.term.Term;
import io.beamgate.node.testing.ErlNode;
import io.beamgate.node.testing.RealEpmd;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Python example client (docs/examples/python/beamgate_call.py, written from the client
 * guide's protocol section with Debian's python3-protobuf) against a real gateway and a real
 * erl backend: allowed and refused calls come back as they do to the Java client. Fails,
 * never skips, under CI=true when python3-protobuf or protoc is missing.
 */
class PythonClientErlTest {
  static final String PYTHON = "/usr/bin/python3";
  static final String POLICY = """
      version: 1
      rules:
        - id: py
          principals: ["uri:spiffe://test/alice"]
          calls: ["lists:seq/2", "string:uppercase/1"]
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
    e1 = ErlNode.startLong(ErlNode.uniqueName("py") + "@127.0.0.1", bed.cookie, epmd.port());
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
      io.beamgate.node.testing.Needs.missing(what
          + " is not installed (Debian: protobuf-compiler, python3-protobuf)");
    }
  }

  /** Runs the example; returns its exit status and output. */
  String[] python(Path gen, String... call) throws Exception {
    List<String> cmd = new ArrayList<>(List.of(PYTHON,
        repo.resolve("docs/examples/python/beamgate_call.py").toString(),
        "--gateway", "localhost:" + gw.listenAddress().getPort(),
        "--cert", alice.cert().toString(), "--key", alice.key().toString(),
        "--ca", alice.ca().toString()));
    cmd.addAll(List.of(call));
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
    pb.environment().put("PYTHONPATH", gen.toString());
    Process p = pb.start();
    try {
      assertTrue(p.waitFor(30, TimeUnit.SECONDS), "python hangs");
      return new String[] {Integer.toString(p.exitValue()),
          new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip()};
    } finally {
      p.destroyForcibly();
    }
  }

  @Test
  void thePythonClientIsAllowedAndRefusedAsTheJavaClientIs() throws Exception {
    require(Files.isExecutable(Path.of("/usr/bin/protoc")), "protoc");
    require(Files.isExecutable(Path.of(PYTHON)) && new ProcessBuilder(PYTHON, "-c",
        "import google.protobuf").start().waitFor() == 0, "python3-protobuf");
    Path gen = dir.resolve("gen");
    Files.createDirectories(gen);
    Process protoc = new ProcessBuilder("/usr/bin/protoc", "-I",
        repo.resolve("client/src/main/proto").toString(), "--python_out=" + gen,
        "beamgate/v1/gateway.proto").redirectErrorStream(true).start();
    assertTrue(protoc.waitFor(30, TimeUnit.SECONDS));
    assertEquals(0, protoc.exitValue(), new String(protoc.getInputStream().readAllBytes()));

    String[] seq = python(gen, "lists", "seq", "1", "5");
    assertEquals("0", seq[0], seq[1]);
    assertEquals("ok [1, 2, 3, 4, 5]", seq[1]);
    String[] upper = python(gen, "string", "uppercase", "gr\u00fc\u00dfe");
    assertEquals("ok <<'GR\u00dcSSE'>>", upper[1]);
    String[] denied = python(gen, "os", "cmd", "id");
    assertEquals("1", denied[0], denied[1]);
    assertTrue(denied[1].startsWith("error PERMISSION_DENIED "), denied[1]);
    String[] wrong = python(gen, "lists", "seq", ":a", "2");
    assertTrue(wrong[1].startsWith("error BAD_RPC "), wrong[1]);

    // the Java client, same calls: the same answers and codes
    try (BeamgateClient c = BeamgateClient.connect(ClientConfig.builder().host("localhost")
        .port(gw.listenAddress().getPort()).tls(alice.cert(), alice.key(), alice.ca())
        .build())) {
      Term r = c.blocking().call("lists", "seq", List.of(Int.of(1), Int.of(5)));
      assertEquals(io.beamgate.node.term.TermText.parse("[1,2,3,4,5]"), r);
      GatewayException e = org.junit.jupiter.api.Assertions.assertThrows(
          GatewayException.class, () -> c.blocking().call("os", "cmd", List.of(
              Term.binary("id"))));
      assertEquals(GatewayException.Code.PERMISSION_DENIED, e.code());
    }
    assertTrue(bed.auditText().contains("\"mfa\":\"os:cmd/1\""), bed.auditText());
  }
}
