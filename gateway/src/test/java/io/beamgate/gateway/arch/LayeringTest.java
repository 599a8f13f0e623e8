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
    CONFIG_IS_THE_GATEWAYS_BOTTOM("gateway/src/main/java/io/beamgate/gateway/config",
        t -> t.startsWith("io.beamgate.gateway.") && !t.startsWith("io.beamgate.gateway.config"),
        "gateway/src/main/java/io/beamgate/gateway/config/Bad.java",
        "import io.beamgate.gateway.admission.BackendPool;"),
    ANSWERS_ARE_BELOW_BOTH_DOORS("gateway/src/main/java/io/beamgate/gateway/answer",
        t -> t.startsWith("io.beamgate.gateway.server") || t.startsWith("io.beamgate.gateway.cli")
            || t.startsWith("io.beamgate.gateway.bridge") || t.startsWith("io.beamgate.gateway.grpc"),
        "gateway/src/main/java/io/beamgate/gateway/answer/Bad.java",
        "import io.beamgate.gateway.grpc.GrpcDoor;"),
    SCALE_IS_BELOW_THE_SERVER("gateway/src/main/java/io/beamgate/gateway/scale",
        t -> t.startsWith("io.beamgate.gateway.server") || t.startsWith("io.beamgate.gateway.cli")
            || t.startsWith("io.beamgate.gateway.bridge") || t.startsWith("io.beamgate.gateway.grpc"),
        "gateway/src/main/java/io/beamgate/gateway/scale/Bad.java",
        "import io.beamgate.gateway.server.GatewayServer;"),
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

  /**
   * The wiring: the classes that may know {@code GatewayServer} (it builds the parts and hands
   * each its narrow interface), and the CLI that starts it.
   */
  static boolean isWiring(Path gatewayRoot, Path f) {
    Path rel = gatewayRoot.relativize(f);
    return rel.equals(Path.of("server", "GatewayServer.java")) || rel.startsWith("cli");
  }

  static List<Reference> reachesGatewayServer(Path repo) {
    Path gateway = repo.resolve("gateway/src/main/java/io/beamgate/gateway");
    List<Reference> out = new ArrayList<>();
    for (Path f : ImportScan.javaFiles(gateway)) {
      if (!isWiring(gateway, f)) {
        out.addAll(ImportScan.word(f, "GatewayServer"));
      }
    }
    return out;
  }

  /**
   * No class of the gateway but the wiring reaches into GatewayServer: client connections see
   * it through {@code ClientContext}, the bridge through {@code BridgeContext}, the admin socket
   * through {@code AdminSocket.Operator} (issue 12).
   */
  @Test
  void onlyTheWiringReachesIntoGatewayServer() {
    Path gateway = repo().resolve("gateway/src/main/java/io/beamgate/gateway");
    assertTrue(Files.isRegularFile(gateway.resolve("server/ClientConnection.java")),
        "ClientConnection is missing (expected: gateway/.../server)");
    assertEquals(List.of(), reachesGatewayServer(repo()),
        "classes that reach into GatewayServer (expected: only GatewayServer and the CLI; use"
            + " ClientContext, BridgeContext or AdminSocket.Operator)");
  }

  @Test
  void theWiringRuleFailsOnAFixtureThatBreaksIt(@TempDir Path fake) throws IOException {
    Path server = fake.resolve("gateway/src/main/java/io/beamgate/gateway/server");
    Files.createDirectories(server);
    Files.writeString(server.resolve("ClientConnection.java"), "package x;\n"
        + "/** Not GatewayServer in a comment. */\nclass ClientConnection {\n"
        + "  ClientConnection(GatewayServer server) {}\n}\n");
    Files.writeString(server.resolve("GatewayServer.java"), "class GatewayServer {}\n");
    Path cli = fake.resolve("gateway/src/main/java/io/beamgate/gateway/cli");
    Files.createDirectories(cli);
    Files.writeString(cli.resolve("Main.java"), "class Main { GatewayServer s; }\n");
    Path ops = fake.resolve("gateway/src/main/java/io/beamgate/gateway/ops");
    Files.createDirectories(ops);
    Files.writeString(ops.resolve("Status.java"),
        "class Status {\n  Object o = io.beamgate.gateway.server.GatewayServer.class;\n}\n");
    List<Reference> found = reachesGatewayServer(fake);
    assertEquals(2, found.size(), found.toString());
    assertTrue(found.stream().anyMatch(r -> r.file().endsWith("ClientConnection.java")
        && r.line() == 4), found.toString());
    assertTrue(found.stream().anyMatch(r -> r.file().endsWith("Status.java")
        && r.line() == 2), found.toString());
  }

  static final java.util.regex.Pattern LOOP_CAST = java.util.regex.Pattern.compile(
      "\\(\\s*(io\\.netty\\.channel\\.)?EventLoopGroup\\s*\\)\\s*\\w");

  static List<String> loopDowncasts(Path repo) throws IOException {
    List<String> out = new ArrayList<>();
    for (Path f : ImportScan.javaFiles(repo.resolve("gateway/src/main/java"))) {
      String[] lines = ImportScan.code(Files.readString(f)).split("\n", -1);
      for (int i = 0; i < lines.length; i++) {
        if (LOOP_CAST.matcher(lines[i]).find()) {
          out.add(f.getFileName() + ":" + (i + 1));
        }
      }
    }
    return out;
  }

  /**
   * The node's I/O threads come through its door ({@code GatewayDoor.ioThreads}), never by
   * downcasting {@code LocalNode.ioExecutor()} to Netty's type (issue 12).
   */
  @Test
  void noGatewayClassDowncastsTheNodesThreads(@TempDir Path fake) throws IOException {
    assertEquals(List.of(), loopDowncasts(repo()));
    Path f = fake.resolve("gateway/src/main/java/x/Bad.java");
    Files.createDirectories(f.getParent());
    Files.writeString(f, "class Bad {\n  // (EventLoopGroup) node.ioExecutor() in a comment\n"
        + "  Object g = (io.netty.channel.EventLoopGroup) node.ioExecutor();\n}\n");
    assertEquals(List.of("Bad.java:3"), loopDowncasts(fake));
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

  /**
   * What security holds that is the gateway's: a {@code security.config} package, or a class
   * named {@code Gateway*} or {@code ConfigCheck} (the gateway's configuration and
   * {@code gateway check} live in {@code gateway.config}, issue 12).
   */
  static List<String> gatewayConfigurationInSecurity(Path repo) {
    List<String> out = new ArrayList<>();
    for (Path f : ImportScan.javaFiles(repo.resolve("security/src/main/java"))) {
      String name = f.getFileName().toString();
      if (f.getParent().endsWith(Path.of("io", "beamgate", "security", "config"))
          || name.startsWith("Gateway") || name.equals("ConfigCheck.java")) {
        out.add(repo.relativize(f).toString());
      }
    }
    return out;
  }

  @Test
  void securityHoldsNoConfigurationOfTheGateway() {
    assertEquals(List.of(), gatewayConfigurationInSecurity(repo()),
        "the gateway's configuration in security (expected: in gateway.config)");
  }

  @Test
  void theConfigurationRuleFailsOnAFixtureThatBreaksIt(@TempDir Path fake) throws IOException {
    Path dir = fake.resolve("security/src/main/java/io/beamgate/security");
    Files.createDirectories(dir.resolve("config"));
    Files.createDirectories(dir.resolve("yaml"));
    Files.writeString(dir.resolve("config/Limits.java"), "class Limits {}\n");
    Files.writeString(dir.resolve("yaml/GatewayConfigFile.java"), "class GatewayConfigFile {}\n");
    Files.writeString(dir.resolve("yaml/StrictYaml.java"), "class StrictYaml {}\n");
    assertEquals(List.of("security/src/main/java/io/beamgate/security/config/Limits.java",
        "security/src/main/java/io/beamgate/security/yaml/GatewayConfigFile.java"),
        gatewayConfigurationInSecurity(fake));
  }
}
