package io.beamgate.gateway.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * The admin guide's configuration reference is the one generated from the tables: a key, a
 * default, a bound or a meaning changed in one place only fails here. To regenerate the
 * guide's rows: {@code mvn -B -q -pl gateway -am verify -Dtest=ConfigReferenceTest
 * -Dsurefire.failIfNoSpecifiedTests=false -Dconfig.reference.write=true}, or paste the output
 * of {@code beamgate gateway config-reference} between the markers.
 */
class ConfigReferenceTest {
  static final Path GUIDE = Path.of(System.getProperty("user.dir")).toAbsolutePath()
      .getParent().resolve("docs/admin-guide.md");

  /** What is wrong with the guide's generated block; null when it is the generated one. */
  static String problem(String guide) {
    int begin = guide.indexOf(ConfigReference.BEGIN);
    int end = guide.indexOf(ConfigReference.END);
    if (begin < 0 || end < begin) {
      return "the guide has no block between the markers " + ConfigReference.BEGIN + " and "
          + ConfigReference.END;
    }
    String block = guide.substring(begin, end + ConfigReference.END.length()) + "\n";
    String expected = ConfigReference.markdown();
    if (block.equals(expected)) {
      return null;
    }
    String[] have = block.split("\n");
    String[] want = expected.split("\n");
    for (int i = 0; i < Math.max(have.length, want.length); i++) {
      String h = i < have.length ? have[i] : "(nothing)";
      String w = i < want.length ? want[i] : "(nothing)";
      if (!h.equals(w)) {
        return "row " + i + " differs:\n  guide: " + h + "\n  table: " + w;
      }
    }
    return "the block differs";
  }

  @Test
  void theGuidesReferenceIsTheOneGeneratedFromTheTables() throws IOException {
    String guide = Files.readString(GUIDE, StandardCharsets.UTF_8);
    if (Boolean.getBoolean("config.reference.write")) {
      int begin = guide.indexOf(ConfigReference.BEGIN);
      int end = guide.indexOf(ConfigReference.END) + ConfigReference.END.length() + 1;
      guide = guide.substring(0, begin) + ConfigReference.markdown() + guide.substring(end);
      Files.writeString(GUIDE, guide, StandardCharsets.UTF_8);
    }
    String p = problem(guide);
    assertNull(p, "docs/admin-guide.md's configuration reference is not the one ConfigTables"
        + " gives (expected: regenerated, see ConfigReferenceTest's comment): " + p);
  }

  @Test
  void aGuideThatDriftedFromTheTablesIsCaught() throws IOException {
    String guide = ConfigReference.markdown();
    assertNull(problem("intro\n" + guide + "more\n"));
    String drifted = guide.replace("| `limits.max_frame_bytes` | integer | 1048576 (1 MiB) |",
        "| `limits.max_frame_bytes` | integer | 65536 |");
    assertFalse(drifted.equals(guide), "the fixture must change a row");
    String p = problem(drifted);
    assertNotNull(p);
    assertTrue(p.contains("limits.max_frame_bytes"), p);
    assertNotNull(problem("no markers at all\n"));
  }

  @Test
  void everyKeyHasOneRowAMeaningAndAGuideLine() {
    Set<String> keys = new HashSet<>();
    for (ConfigSection s : ConfigTables.all()) {
      for (ConfigKey k : s.rows()) {
        assertTrue(k.name().matches("[a-z][a-z0-9_]*"), s.key(k));
        assertTrue(keys.add(s.key(k)), s.key(k) + " twice");
        if (k.type() != ConfigKey.Type.SECTION) {
          assertFalse(k.meaning().isBlank(), s.key(k) + " has no meaning");
          assertFalse(k.meaning().contains("\n") || k.meaning().contains("|"),
              s.key(k) + ": a meaning is one table cell");
          assertEquals(1, ConfigReference.lines().stream()
              .filter(l -> l.startsWith("| `" + s.key(k) + "` |")).count(), s.key(k));
        }
      }
    }
    assertTrue(keys.contains("limits.max_output_bytes") && keys.contains("bridges[].connect.port")
        && keys.contains("cluster.outlier.eject_ms"), keys.toString());
  }

  @Test
  void theDefaultsTheCodeUsesAreTheTables() {
    assertEquals(ConfigTables.LIMITS.row("max_frame_bytes").intDefault(),
        GatewayConfigFile.DEFAULT_LIMITS.maxFrameBytes());
    assertEquals(ConfigTables.BRIDGE.row("max_queue_bytes").intDefault(),
        GatewayConfigFile.DEFAULT_BRIDGE.maxQueueBytes());
    assertEquals(ConfigTables.OUTLIER.row("eject_ms").intDefault(),
        GatewayConfigFile.DEFAULT_OUTLIER.ejectMillis());
    assertEquals(GatewayConfigFile.DEFAULT_LIMITS, new GatewayConfig.Limits(
        GatewayConfigFile.DEFAULT_LIMITS.maxConnections(),
        GatewayConfigFile.DEFAULT_LIMITS.maxInFlight(),
        GatewayConfigFile.DEFAULT_LIMITS.maxInFlightPerConnection(),
        GatewayConfigFile.DEFAULT_LIMITS.maxFrameBytes(),
        GatewayConfigFile.DEFAULT_LIMITS.idleTimeoutMillis()),
        "the short constructor's defaults are the table's too");
    assertEquals("beamgate-atoms.state", GatewayConfig.DEFAULT_ATOM_STATE);
    assertEquals(ConfigTables.GRPC.row("keepalive_permit_seconds").intDefault(),
        GatewayConfig.Grpc.DEFAULTS.keepalivePermitSeconds());
  }
}
