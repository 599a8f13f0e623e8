package io.beamgate.gateway.arch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.beamgate.gateway.arch.ImportScan.Reference;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The module graph's rules (docs/architecture.md), checked on the main sources of every module
 * with a plain import scan ({@link ImportScan}): the project's layers import only downward.
 * Each rule is also run on a fixture that breaks it, so a rule that can no longer fail is
 * noticed.
 */
class LayeringTest {
  /** One rule: the main sources under {@code root} must not reference what it forbids. */
  enum Rule {
    SECURITY_HAS_NO_NETTY("security/src/main/java", t -> t.startsWith("io.netty"),
        "security/src/main/java/io/beamgate/security/tls/Bad.java",
        "import io.netty.handler.ssl.SslContext;"),
    SECURITY_IS_BELOW_GATEWAY_AND_CLIENT("security/src/main/java",
        t -> t.startsWith("io.beamgate.gateway") || t.startsWith("io.beamgate.client"),
        "security/src/main/java/io/beamgate/security/Bad.java",
        "class Bad { Object o = io.beamgate.gateway.server.GatewayServer.class; }"),
    NODE_IMPORTS_NO_OTHER_MODULE("node/src/main/java",
        t -> t.startsWith("io.beamgate.") && !t.startsWith("io.beamgate.node"),
        "node/src/main/java/io/beamgate/node/Bad.java",
        "import io.beamgate.security.policy.Policy;"),
    CERTS_DEV_IMPORTS_NO_OTHER_MODULE("certs-dev/src/main/java",
        t -> t.startsWith("io.beamgate.") && !t.startsWith("io.beamgate.certs"),
        "certs-dev/src/main/java/io/beamgate/certs/Bad.java",
        "import io.beamgate.node.term.Term;"),
    CLIENT_IMPORTS_NOTHING_OF_THE_SERVER("client/src/main/java",
        t -> t.startsWith("io.beamgate.") && !t.startsWith("io.beamgate.client")
            && !t.startsWith("io.beamgate.gateway.proto") // .proto and .protocol
            && !t.startsWith("io.beamgate.node"),
        "client/src/main/java/io/beamgate/client/Bad.java",
        "import io.beamgate.gateway.cli.Main;"),
    BRIDGE_IS_BELOW_THE_SERVER("gateway/src/main/java/io/beamgate/gateway/bridge",
        t -> t.startsWith("io.beamgate.gateway.server") || t.startsWith("io.beamgate.gateway.cli"),
        "gateway/src/main/java/io/beamgate/gateway/bridge/Bad.java",
        "import io.beamgate.gateway.server.GatewayState;"),
    ADMISSION_IS_BELOW_THE_DOORS("gateway/src/main/java/io/beamgate/gateway/admission",
        t -> t.startsWith("io.beamgate.gateway.server") || t.startsWith("io.beamgate.gateway.cli")
            || t.startsWith("io.beamgate.gateway.bridge"),
        "gateway/src/main/java/io/beamgate/gateway/admission/Bad.java",
        "import io.beamgate.gateway.bridge.BridgeSession;"),
    GRPC_IS_BELOW_THE_SERVER("gateway/src/main/java/io/beamgate/gateway/grpc",
        t -> t.startsWith("io.beamgate.gateway.server") || t.startsWith("io.beamgate.gateway.cli")
            || t.startsWith("io.beamgate.gateway.bridge"),
        "gateway/src/main/java/io/beamgate/gateway/grpc/Bad.java",
        "import io.beamgate.gateway.server.GatewayServer;");

    final String root;
    final Predicate<String> forbidden;
    final String fixtureFile;
    final String fixtureLine;

    Rule(String root, Predicate<String> forbidden, String fixtureFile, String fixtureLine) {
      this.root = root;
      this.forbidden = forbidden;
      this.fixtureFile = fixtureFile;
      this.fixtureLine = fixtureLine;
    }

    List<Reference> violations(Path repo) {
      return ImportScan.violations(repo.resolve(root), forbidden);
    }
  }

  /** The repository: the gateway module's parent (surefire runs in the module's directory). */
  static Path repo() {
    return Path.of(System.getProperty("user.dir")).toAbsolutePath().getParent();
  }

  @ParameterizedTest
  @EnumSource(Rule.class)
  void theProjectKeepsTheRule(Rule rule) {
    Path root = repo().resolve(rule.root);
    assertTrue(Files.isDirectory(root), root + " is missing (expected: the module's sources)");
    assertFalse(ImportScan.javaFiles(root).isEmpty(), root + " has no Java file");
    assertEquals(List.of(), rule.violations(repo()), rule + " is broken");
  }

  @ParameterizedTest
  @EnumSource(Rule.class)
  void theRuleFailsOnAFixtureThatBreaksIt(Rule rule, @TempDir Path fake) throws IOException {
    Path file = fake.resolve(rule.fixtureFile);
    Files.createDirectories(file.getParent());
    Files.writeString(file, "package x;\n// io.netty.in.a.Comment and \"io.beamgate.x\"\n"
        + rule.fixtureLine + "\n");
    List<Reference> found = rule.violations(fake);
    assertEquals(1, found.size(), found.toString());
    assertEquals(3, found.get(0).line());
  }

  /** The bridge's classes: its package, and any Bridge*.java or Translator left in server. */
  static List<Path> bridgeFiles(Path repo) {
    List<Path> out = new ArrayList<>();
    Path gateway = repo.resolve("gateway/src/main/java/io/beamgate/gateway");
    out.addAll(ImportScan.javaFiles(gateway.resolve("bridge")));
    // A bridge class put back next to the server would escape the rule: it is held to it too.
    for (Path f : ImportScan.javaFiles(gateway.resolve("server"))) {
      String name = f.getFileName().toString();
      if (name.startsWith("Bridge") || name.equals("Translator.java")) {
        out.add(f);
      }
    }
    return out;
  }

  static List<Reference> bridgeReachesGatewayServer(Path repo) {
    List<Reference> out = new ArrayList<>();
    for (Path f : bridgeFiles(repo)) {
      out.addAll(ImportScan.word(f, "GatewayServer"));
    }
    return out;
  }

  /**
   * No bridge class reaches into GatewayServer: the bridge sees the gateway only through
   * {@code BridgeContext} (issue 12), so what it may use is listed in one place.
   */
  @Test
  void noBridgeClassReachesIntoGatewayServer() {
    List<Path> files = bridgeFiles(repo());
    assertFalse(files.isEmpty(), "no bridge class found (expected: gateway/.../bridge)");
    assertTrue(files.stream().allMatch(f -> f.getParent().getFileName().toString()
        .equals("bridge")), "bridge classes outside the bridge package: " + files);
    assertEquals(List.of(), bridgeReachesGatewayServer(repo()),
        "bridge classes that reach into GatewayServer (expected: none; use BridgeContext)");
  }

  @Test
  void theBridgeRuleFailsOnAFixtureThatBreaksIt(@TempDir Path fake) throws IOException {
    Path dir = fake.resolve("gateway/src/main/java/io/beamgate/gateway/bridge");
    Files.createDirectories(dir);
    Files.writeString(dir.resolve("BridgeThing.java"), "package io.beamgate.gateway.bridge;\n"
        + "/** Not GatewayServer in a comment. */\nclass BridgeThing {\n"
        + "  BridgeThing(io.beamgate.gateway.server.GatewayServer server) {}\n}\n");
    Path server = fake.resolve("gateway/src/main/java/io/beamgate/gateway/server");
    Files.createDirectories(server);
    Files.writeString(server.resolve("Other.java"), "class Other { GatewayServer s; }\n");
    Files.writeString(server.resolve("BridgeStray.java"),
        "class BridgeStray {\n  GatewayServer s;\n}\n");
    List<Reference> found = bridgeReachesGatewayServer(fake);
    assertEquals(2, found.size(), found.toString());
    assertEquals(4, found.get(0).line());
    assertEquals(2, found.get(1).line());
  }

  @Test
  void theScannerSeesImportsAndQualifiedUsesButNotCommentsOrStrings() {
    String src = """
        package io.beamgate.security;
        import io.netty.channel.Channel;
        /* io.netty.in.Block
           comment */ class A {
          String s = "io.netty.in.String";
          String t = \"""
              io.netty.in.TextBlock
              \""";
          Object o = io.beamgate.gateway.server.GatewayServer.class; // io.netty.Line
        }
        """;
    String code = ImportScan.code(src);
    assertEquals(src.split("\n", -1).length, code.split("\n", -1).length,
        "line breaks are kept");
    assertTrue(code.contains("import io.netty.channel.Channel;"));
    assertTrue(code.contains("io.beamgate.gateway.server.GatewayServer.class"));
    assertFalse(code.contains("in.Block"));
    assertFalse(code.contains("in.String"));
    assertFalse(code.contains("in.TextBlock"));
    assertFalse(code.contains("io.netty.Line"));
  }
}
