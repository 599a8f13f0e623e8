package io.beamgate.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.beamgate.node.testing.Erl;
import io.beamgate.node.testing.Needs;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The failover drivers of {@link ClientsFailoverErlTest}, one per client, each built here from
 * the client's sources with the real tools. Every driver connects alice and bob to both
 * gateways, prints {@code ready}, runs the load and prints {@code result KEY ok VALUE} or
 * {@code result KEY error CODE message} per call, {@code after KEY ...} for calls made after
 * the failover, and {@code done}. A missing tool fails under CI=true ({@link Needs}).
 */
final class ClientDrivers {
  static final Path REPO = Path.of("..").toAbsolutePath().normalize();
  static final Path RESOURCES = Path.of("src/test/resources").toAbsolutePath();
  static final String PYTHON = "/usr/bin/python3";
  static final String PROTOC = "/usr/bin/protoc";
  static final String GO = "/usr/bin/go";

  private ClientDrivers() {}

  /**
   * The gateways (host:port), the load, the two clients' PEM files, and an option for the
   * Erlang and Python native drivers: "default", "INTERVAL_MS,TIMEOUT_MS" (keepalive),
   * "every_address", or "max_attempts=N" (Erlang).
   */
  record Args(List<String> gateways, int each, int workMs, Path ca, Path aliceCert,
      Path aliceKey, Path bobCert, Path bobKey, String keepalive) {
    List<String> tail() {
      return List.of(String.join(",", gateways), Integer.toString(each),
          Integer.toString(workMs), ca.toString(), aliceCert.toString(), aliceKey.toString(),
          bobCert.toString(), bobKey.toString(), keepalive);
    }
  }

  record Command(List<String> argv, Map<String, String> env) {}

  static Command erlang(Path dir, Args a) throws Exception {
    Path ebin = beamClient(dir);
    List<String> argv = new ArrayList<>(List.of(Erl.require("escript"),
        RESOURCES.resolve("beamclient/beam_client_failover.escript").toString(),
        ebin.toString()));
    argv.addAll(a.tail());
    return new Command(argv, Map.of());
  }

  static Command elixir(Path dir, Args a) throws Exception {
    String elixir = Erl.find("elixir");
    if (elixir == null) {
      Needs.missing("elixir not found on PATH: install Debian's elixir");
    }
    Path ebin = beamClient(dir);
    List<String> argv = new ArrayList<>(List.of(elixir, "-pa", ebin.toString(), "-r",
        REPO.resolve("client/src/main/elixir/beamgate.ex").toString(),
        RESOURCES.resolve("beamclient/beam_client_failover.exs").toString()));
    argv.addAll(a.tail());
    return new Command(argv, Map.of());
  }

  static Command pythonNative(Path dir, Args a) throws Exception {
    return python(dir, a, "native", false);
  }

  static Command pythonGrpc(Path dir, Args a) throws Exception {
    return python(dir, a, "grpc", true);
  }

  static Command python(Path dir, Args a, String mode, boolean grpc) throws Exception {
    require(Files.isExecutable(Path.of(PROTOC)), "protoc (Debian: protobuf-compiler)");
    if (grpc) {
      require(Files.isExecutable(Path.of("/usr/bin/grpc_python_plugin")),
          "grpc_python_plugin (Debian: protobuf-compiler-grpc)");
    }
    require(Files.isExecutable(Path.of(PYTHON)) && new ProcessBuilder(PYTHON, "-c",
        grpc ? "import grpc, google.protobuf" : "import google.protobuf").start().waitFor() == 0,
        grpc ? "python3-grpcio and python3-protobuf" : "python3-protobuf");
    Path gen = dir.resolve("py");
    Files.createDirectories(gen);
    List<String> protoc = new ArrayList<>(List.of(PROTOC, "-I",
        REPO.resolve("client/src/main/proto").toString(), "--python_out=" + gen));
    if (grpc) {
      protoc.addAll(List.of("--grpc_python_out=" + gen,
          "--plugin=protoc-gen-grpc_python=/usr/bin/grpc_python_plugin"));
    }
    protoc.add("beamgate/v1/gateway.proto");
    run(protoc, Map.of(), 30);
    List<String> argv = new ArrayList<>(List.of(PYTHON,
        RESOURCES.resolve("failover/python_failover.py").toString(), mode));
    argv.addAll(a.tail());
    return new Command(argv, Map.of("PYTHONPATH", gen + ":"
        + REPO.resolve("docs/examples/python")));
  }

  /** The Go example's GatewayClient (failover.go) built with the driver in place of main.go. */
  static Command go(Path dir, Args a) throws Exception {
    Path src = REPO.resolve("docs/examples/go/beamgate-grpc");
    Path drv = dir.resolve("godrv");
    Files.createDirectories(drv);
    Files.copy(src.resolve("failover.go"), drv.resolve("failover.go"));
    Files.copy(RESOURCES.resolve("failover/go_failover.go"), drv.resolve("driver.go"));
    Path bin = dir.resolve("go-failover");
    goBuild(dir, bin, drv.resolve("failover.go"), drv.resolve("driver.go"));
    List<String> argv = new ArrayList<>(List.of(bin.toString()));
    argv.addAll(a.tail());
    return new Command(argv, Map.of());
  }

  /**
   * Builds {@code files} (one directory) into {@code bin} offline, in GOPATH mode with
   * Debian's Go sources and the package protoc generates into dir/gopath.
   */
  static void goBuild(Path dir, Path bin, Path... files) throws Exception {
    require(Files.isExecutable(Path.of(GO)), "go (Debian: golang-go)");
    require(Files.isExecutable(Path.of(PROTOC)), "protoc (Debian: protobuf-compiler)");
    require(Files.isExecutable(Path.of("/usr/bin/protoc-gen-go"))
        && Files.isExecutable(Path.of("/usr/bin/protoc-gen-go-grpc")),
        "protoc-gen-go and protoc-gen-go-grpc (Debian: protoc-gen-go, protoc-gen-go-grpc)");
    require(Files.isDirectory(Path.of("/usr/share/gocode/src/google.golang.org/grpc"))
        && Files.isDirectory(Path.of("/usr/share/gocode/src/google.golang.org/protobuf")),
        "Go's grpc and protobuf sources (Debian: golang-google-grpc-dev,"
            + " golang-google-protobuf-dev)");
    Path gopath = dir.resolve("gopath");
    Files.createDirectories(gopath.resolve("src"));
    run(List.of(PROTOC, "-I", REPO.resolve("client/src/main/proto").toString(),
        "--go_out=" + gopath.resolve("src"), "--go-grpc_out=" + gopath.resolve("src"),
        "beamgate/v1/gateway.proto"), Map.of(), 30);
    List<String> cmd = new ArrayList<>(List.of(GO, "build", "-o", bin.toString()));
    for (Path f : files) {
      cmd.add(f.toString());
    }
    run(cmd, Map.of("GOPATH", gopath + ":/usr/share/gocode", "GO111MODULE", "off",
        "GOFLAGS", "", "GOCACHE", REPO.resolve("gateway/target/go-build-cache").toString(),
        "HOME", dir.toString()), 300);
  }

  static void require(boolean present, String what) {
    if (!present) {
      Needs.missing(what + " is not installed");
    }
  }

  /** beamgate_client and beamgate_failover compiled with erlc into dir/ebin. */
  static Path beamClient(Path dir) throws Exception {
    Path ebin = dir.resolve("ebin");
    Files.createDirectories(ebin);
    Path src = REPO.resolve("client/src/main/erlang");
    run(List.of(Erl.require("erlc"), "-o", ebin.toString(),
        src.resolve("beamgate_client.erl").toString(),
        src.resolve("beamgate_failover.erl").toString()), Map.of(), 60);
    return ebin;
  }

  /** Runs {@code cmd} to its end; fails the test with its output unless it exits 0. */
  static String run(List<String> cmd, Map<String, String> env, int seconds) throws Exception {
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true)
        .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
    pb.environment().putAll(env);
    Process p = pb.start();
    try {
      byte[] out = p.getInputStream().readAllBytes();
      assertTrue(p.waitFor(seconds, TimeUnit.SECONDS), "hangs: " + cmd);
      String text = new String(out, StandardCharsets.UTF_8);
      assertEquals(0, p.exitValue(), cmd + ": " + text);
      return text;
    } finally {
      p.destroyForcibly();
    }
  }
}
