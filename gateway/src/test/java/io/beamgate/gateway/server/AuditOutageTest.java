package io.beamgate.gateway.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.beamgate.gateway.proto.ClientFrame;
import io.beamgate.gateway.proto.Error;
import io.beamgate.gateway.proto.Send;
import io.beamgate.gateway.proto.ServerFrame;
import io.beamgate.gateway.protocol.TermProto;
import io.beamgate.node.LocalNode;
import io.beamgate.node.NodeConfig;
import io.beamgate.node.epmd.EpmdServer;
import io.beamgate.node.rpc.RpcServer;
import io.beamgate.node.term.Atom;
import io.beamgate.node.term.Int;
import io.beamgate.gateway.config.GatewayConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The gateway when its audit file cannot be written: a real ENOSPC, from the audit path
 * turned into a link to /dev/full (every write there fails as on a full file system), then
 * back to a file. With audit.on_failure: refuse, requests are refused with the reason until
 * the audit can be written again; with continue, they are served and the lost records
 * counted.
 */
class AuditOutageTest {
  static final String POLICY = """
      version: 1
      rules:
        - id: kv-users
          principals: ["uri:spiffe://test/alice"]
          calls: ["kv:get/1"]
          sends: [kv_sink]
          limits: {rate_per_second: 100000, concurrency: 1000, timeout_ms: 3000}
      """;
  static final String REFUSED = "the audit log cannot be written (No space left on device);"
      + " requests are refused until it can (audit.on_failure: refuse)";

  @TempDir Path dir;
  TestBed bed;
  EpmdServer epmd;
  LocalNode backend;
  GatewayServer gw;
  RawClient alice;
  long ids;

  @BeforeEach
  void setUp() throws Exception {
    bed = new TestBed(dir);
    bed.writePolicy(POLICY);
    epmd = EpmdServer.start(EpmdServer.Config.loopback(0));
    backend = LocalNode.start(NodeConfig.builder("kv1@127.0.0.1").cookie(bed.cookie)
        .epmdPort(epmd.port()).build());
    RpcServer.start(backend, Executors.newCachedThreadPool())
        .register("kv", "get", 1, a -> Atom.of("v"));
  }

  @AfterEach
  void tearDown() {
    if (alice != null) {
      alice.close();
    }
    if (gw != null) {
      gw.close();
    }
    backend.close();
    epmd.close();
  }

  void start(String audit) throws Exception {
    GatewayConfig cfg = bed.writeConfig(List.of(backend.name()), epmd.port(), "round_robin",
        audit);
    gw = GatewayServer.start(cfg, GatewayServer.Options.DEFAULTS
        .withBackendWait(Duration.ofSeconds(5)));
    alice = RawClient.connect(gw.listenAddress(), bed.client("alice"));
  }

  ServerFrame call() throws Exception {
    alice.send(GatewayServerTest.call(++ids, "kv", "get", Int.of(1)));
    ServerFrame f = alice.next();
    assertEquals(ids, f.getId());
    return f;
  }

  ServerFrame send() throws Exception {
    alice.send(ClientFrame.newBuilder().setId(++ids).setSend(Send.newBuilder()
        .setName("kv_sink").setMessage(TermProto.toProto(Atom.OK, 10))).build());
    ServerFrame f = alice.next();
    assertEquals(ids, f.getId());
    return f;
  }

  /** The audit path now leads to a device where every write fails with ENOSPC. */
  void fillTheDisk() throws Exception {
    Files.delete(bed.audit);
    Files.createSymbolicLink(bed.audit, Path.of("/dev/full"));
  }

  void freeTheDisk() throws Exception {
    Files.delete(bed.audit);
  }

  static boolean served(ServerFrame f) {
    return f.getResponseCase() == ServerFrame.ResponseCase.RESULT
        || f.getResponseCase() == ServerFrame.ResponseCase.OK;
  }

  @Test
  void refuseRefusesCallsAndSendsWhileTheAuditCannotBeWrittenThenServesAgain()
      throws Exception {
    start("audit: {file: audit.jsonl, on_failure: refuse}\n");
    assertEquals(Atom.of("v"), GatewayServerTest.result(call()));
    fillTheDisk();
    // Within a second the gateway notices the path changed; the first record that fails
    // there starts the refusal (the call it recorded was already answered).
    ServerFrame f = call();
    long end = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    while (served(f) && System.nanoTime() < end) {
      Thread.sleep(100);
      f = call();
    }
    Error e = GatewayServerTest.error(f);
    assertEquals(Error.Code.UNAVAILABLE, e.getCode());
    assertEquals(REFUSED, e.getMessage());
    assertEquals(REFUSED, e.getReason());
    Error s = GatewayServerTest.error(send());
    assertEquals(Error.Code.UNAVAILABLE, s.getCode());
    assertEquals(REFUSED, s.getMessage());
    @SuppressWarnings("unchecked")
    Map<String, Object> audit = (Map<String, Object>) gw.status().get("audit");
    assertEquals(false, audit.get("writable"));
    assertEquals("refuse", audit.get("on_failure"));

    freeTheDisk(); // the once-a-second check opens a fresh file; the refusal ends by itself
    GatewayServerTest.waitUntil(() -> gw.auditRefusal() == null);
    assertEquals(Atom.of("v"), GatewayServerTest.result(call()));
    assertTrue(served(send()));
    String text = bed.auditText();
    assertTrue(text.endsWith("\n"));
    String[] lines = text.split("\n");
    assertTrue(lines[0].contains("\"outcome\":\"audit_gap\"")
        && lines[0].contains("No space left on device"), lines[0]);
    assertTrue(lines[1].contains("\"mfa\":\"kv:get/1\"") && lines[1].contains("\"ok\""),
        lines[1]);
    assertTrue(lines[2].contains("\"mfa\":\"send:kv_sink\""), lines[2]);
  }

  @Test
  void continueServesThroughTheOutageAndCountsTheLostRecords() throws Exception {
    start("audit: {file: audit.jsonl, on_failure: continue}\n");
    fillTheDisk();
    @SuppressWarnings("unchecked")
    Map<String, Object>[] audit = new Map[1];
    long end = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    do {
      assertEquals(Atom.of("v"), GatewayServerTest.result(call()), "never refused");
      Thread.sleep(50);
      audit[0] = (Map<String, Object>) gw.status().get("audit");
    } while ((Long) audit[0].get("lost") < 3 && System.nanoTime() < end);
    assertFalse((Boolean) audit[0].get("writable"));
    assertTrue((Long) audit[0].get("lost") >= 3, audit[0]::toString);
    freeTheDisk();
    GatewayServerTest.waitUntil(() -> Boolean.TRUE.equals(
        ((Map<?, ?>) gw.status().get("audit")).get("writable")));
    assertTrue(bed.auditText().contains("\"outcome\":\"audit_gap\""), bed.auditText());
  }

  @Test
  void reloadReopensTheAuditFileForLogrotate() throws Exception {
    start("audit: audit.jsonl\n");
    assertTrue(served(call()));
    Path rotated = dir.resolve("audit.jsonl.1");
    Files.move(bed.audit, rotated);
    assertTrue(gw.reload().ok());
    assertTrue(served(call()));
    assertTrue(Files.readString(rotated).contains("kv:get/1"));
    assertEquals(1, bed.auditText().split("\n").length, bed.auditText());
    assertTrue(bed.auditText().contains("\"mfa\":\"kv:get/1\""));
  }
}
