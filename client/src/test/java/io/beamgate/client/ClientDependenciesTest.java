package io.beamgate.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * What an application that uses the client pulls in: the runtime classpath this module's build
 * writes (target/runtime-classpath.txt) has nothing of the server. The gateway's
 * ClientJarOnlyTest runs a call with exactly this classpath.
 */
class ClientDependenciesTest {
  static final List<String> SERVER_ONLY = List.of("picocli", "bcpkix", "bcprov",
      "certs-dev", "slf4j-simple", "beamgate-security", "security/target", "beamgate-gateway",
      "gateway/target", "snakeyaml");

  @Test
  void theRuntimeClasspathHasNoServerArtifact() throws Exception {
    Path file = Path.of("target", "runtime-classpath.txt");
    assertTrue(Files.exists(file), file.toAbsolutePath() + " is missing");
    List<String> cp = Arrays.asList(Files.readString(file, StandardCharsets.UTF_8).trim()
        .split(File.pathSeparator));
    assertEquals(List.of(), cp.stream()
        .filter(e -> SERVER_ONLY.stream().anyMatch(e.replace('\\', '/')::contains)).toList(),
        "client runtime classpath: " + cp);
    assertTrue(cp.stream().anyMatch(e -> e.contains("slf4j-api")), cp.toString());
  }
}
