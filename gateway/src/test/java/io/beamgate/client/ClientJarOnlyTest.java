package io.beamgate.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.beamgate.gateway.server.GatewayServer;
import io.beamgate.gateway.server.TestBed;
import io.beamgate.node.LocalNode;
import io.beamgate.node.NodeConfig;
import io.beamgate.node.epmd.EpmdServer;
import io.beamgate.node.rpc.RpcServer;
import io.beamgate.node.term.Term;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The client module stands alone: an application with only beamgate-client and its runtime
 * dependencies on its classpath (from the client module's build, target/runtime-classpath.txt)
 * calls a real gateway, run in this JVM, from a JVM of its own.
 */
class ClientJarOnlyTest {
  /** Artifacts of the server side that must never reach a client application. */
  static final List<String> SERVER_ARTIFACTS = List.of("picocli", "bcpkix", "bcprov",
      "beamgate-certs-dev", "certs-dev/target", "slf4j-simple", "beamgate-security",
      "security/target", "beamgate-gateway", "gateway/target", "snakeyaml");

  @TempDir Path dir;

  static Path clientModule() {
    return Path.of(System.getProperty("user.dir")).resolveSibling("client");
  }

  static List<String> clientClasspath() throws IOException {
    Path file = clientModule().resolve("target/runtime-classpath.txt");
    assertTrue(Files.exists(file), file + " is missing (expected: written by the client"
        + " module's build, maven-dependency-plugin build-classpath)");
    List<String> cp = new ArrayList<>();
    cp.add(clientModule().resolve("target/classes").toString());
    String deps = Files.readString(file, StandardCharsets.UTF_8).trim();
    if (!deps.isEmpty()) {
      cp.addAll(Arrays.asList(deps.split(File.pathSeparator)));
    }
    return cp;
  }

  static List<String> serverArtifactsIn(List<String> classpath) {
    List<String> found = new ArrayList<>();
    for (String entry : classpath) {
      for (String artifact : SERVER_ARTIFACTS) {
        if (entry.replace('\\', '/').contains(artifact)) {
          found.add(entry);
        }
      }
    }
    return found;
  }

  @Test
  void theClientsClasspathHasNoServerArtifact() throws IOException {
    List<String> cp = clientClasspath();
    assertEquals(List.of(), serverArtifactsIn(cp), "client runtime classpath: " + cp);
    assertTrue(cp.stream().anyMatch(e -> e.contains("netty")), cp.toString());
  }

  @Test
  void theArtifactCheckFindsAServerArtifact() {
    // The check above can fail: a classpath with the CLI's picocli in it is caught.
    assertFalse(serverArtifactsIn(List.of("/repo/info/picocli/picocli/4.7.7/picocli-4.7.7.jar"))
        .isEmpty());
  }

  @Test
  void aCallFromAJvmWithOnlyTheClientJar() throws Exception {
    List<String> cp = clientClasspath();
    TestBed bed = new TestBed(dir.resolve("gw"));
    bed.writePolicy("""
        version: 1
        rules:
          - id: probe
            principals: ["uri:spiffe://test/probe"]
            calls: ["kv:get/1"]
        """);
    ExecutorService handlers = Executors.newCachedThreadPool();
    try (EpmdServer epmd = EpmdServer.start(EpmdServer.Config.loopback(0));
         LocalNode backend = LocalNode.start(NodeConfig.builder("kv_jar"
             + Long.toHexString(System.nanoTime()) + "@127.0.0.1").cookie(bed.cookie)
             .epmdPort(epmd.port()).build())) {
      RpcServer.start(backend, handlers).register("kv", "get", 1,
          a -> Term.tuple(Term.atom("found"), a.get(0)));
      GatewayServer gw = GatewayServer.start(bed.writeConfig(List.of(backend.name()),
          epmd.port(), "round_robin", ""), GatewayServer.Options.DEFAULTS
          .withBackendWait(Duration.ofSeconds(5)));
      try {
        TestBed.Client probe = bed.client("probe");
        Path source = dir.resolve("ClientProbe.java");
        try (InputStream in = ClientJarOnlyTest.class.getResourceAsStream(
            "/clientjar/ClientProbe.java")) {
          Files.copy(in, source);
        }
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process p = new ProcessBuilder(java, "-cp", String.join(File.pathSeparator, cp),
            source.toString(), String.valueOf(gw.listenAddress().getPort()),
            probe.cert().toString(), probe.key().toString(), probe.ca().toString())
            .redirectErrorStream(true).start();
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "the client JVM did not finish");
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, p.exitValue(), out);
        assertTrue(out.contains("principal=spiffe://test/probe"), out);
        assertTrue(out.contains("answer={found, probe}"), out);
      } finally {
        gw.close();
      }
    } finally {
      handlers.shutdownNow();
    }
  }
}
