package io.beamgate.gateway.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.beamgate.node.LocalNode;
import io.beamgate.node.NodeConfig;
import io.beamgate.node.epmd.EpmdServer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The file watcher and a broken policy: the refusal is logged again while the file stays
 * broken, every check but at most every {@link GatewayServer#REPEAT_REFUSAL}, and stops once
 * the file is fixed.
 */
class ReloadRefusalTest {
  static final String POLICY = """
      version: 1
      rules:
        - id: kv-users
          principals: ["uri:spiffe://test/alice"]
          calls: ["kv:get/1"]
      """;

  @TempDir Path dir;
  EpmdServer epmd;
  LocalNode backend;
  GatewayServer gw;

  @AfterEach
  void tearDown() {
    if (gw != null) {
      gw.close();
    }
    if (backend != null) {
      backend.close();
    }
    if (epmd != null) {
      epmd.close();
    }
  }

  @Test
  void aBrokenPolicyIsReportedAgainAtABoundedRateUntilFixed() throws Exception {
    TestBed bed = new TestBed(dir);
    bed.writePolicy(POLICY);
    epmd = EpmdServer.start(EpmdServer.Config.loopback(0));
    backend = LocalNode.start(NodeConfig.builder("kv1@127.0.0.1").cookie(bed.cookie)
        .epmdPort(epmd.port()).build());
    gw = GatewayServer.start(bed.writeConfig(List.of(backend.name()), epmd.port(),
        "round_robin", "reload: {watch_interval_ms: 100, admin_socket: admin.sock}\n"),
        GatewayServer.Options.DEFAULTS.withBackendWait(Duration.ofSeconds(5)));
    bed.writePolicy(POLICY.replace("kv:get/1", "os:*")); // refused: os is on the deny-list
    GatewayServerTest.waitUntil(() -> gw.refusalRepeats() >= 1);
    int first = gw.refusalRepeats();
    Thread.sleep(REPEAT_WINDOW_MILLIS);
    int more = gw.refusalRepeats() - first;
    // 30 checks in 3 s; at most one line every 2 s: 1 or 2 more, never one per check.
    assertTrue(more >= 1 && more <= 2, "repeated " + more + " times in 3 s");
    assertEquals(1L, ((Number) gw.status().get("generation")).longValue());
    bed.writePolicy(POLICY.replace("kv:get/1", "kv:get/2")); // fixed
    GatewayServerTest.waitUntil(() -> ((Number) gw.status().get("generation")).longValue()
        == 2);
    int fixed = gw.refusalRepeats();
    Thread.sleep(2_500);
    assertEquals(fixed, gw.refusalRepeats(), "fixed: no more repeats");
  }

  static final long REPEAT_WINDOW_MILLIS = 3_000;
}
