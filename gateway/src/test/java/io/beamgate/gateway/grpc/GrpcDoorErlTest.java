package io.beamgate.gateway.grpc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.beamgate.client.BeamgateClient;
import io.beamgate.client.ClientConfig;
import io.beamgate.client.GatewayException;
import io.beamgate.gateway.proto.Call;
import io.beamgate.gateway.proto.Error;
import io.beamgate.gateway.proto.Opaque;
import io.beamgate.gateway.proto.Ping;
import io.beamgate.gateway.proto.Pong;
import io.beamgate.gateway.proto.Send;
import io.beamgate.gateway.protocol.TermProto;
import io.beamgate.gateway.server.GatewayServer;
import io.beamgate.gateway.server.TestBed;
import io.beamgate.node.term.Int;
import io.beamgate.node.term.Term;
import io.beamgate.node.term.TermText;
import io.beamgate.node.testing.ErlNode;
import io.beamgate.node.testing.RealEpmd;
import io.grpc.CallOptions;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.netty.GrpcSslContexts;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.ClientCalls;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The gRPC door against a real gateway and a real erl backend: a grpc-java client is allowed
 * and refused as the Java client of the native protocol is, with the same error codes (in the
 * trailers) mapped onto gRPC statuses; its deadline and its cancellation end the request in
 * the gateway; the health service answers from readiness.
 */
class GrpcDoorErlTest {
  static final String POLICY = """
      version: 1
      rules:
        - id: grpc
          principals: ["uri:spiffe://test/alice"]
          calls: ["lists:seq/2", "string:uppercase/1", "timer:sleep/1", "erlang:node/0"]
          sends: ["grpc_sink"]
      """;

  @TempDir Path dir;
  TestBed bed;
  RealEpmd epmd;
  ErlNode e1;
  GatewayServer gw;
  TestBed.Client alice;
  ManagedChannel ch;

  @BeforeEach
  void setUp() throws Exception {
    bed = new TestBed(dir.resolve("gw"));
    bed.writePolicy(POLICY);
    epmd = RealEpmd.start();
    e1 = ErlNode.startLong(ErlNode.uniqueName("grpc") + "@127.0.0.1", bed.cookie, epmd.port());
    gw = GatewayServer.start(bed.writeConfig(List.of(e1.name()), epmd.port(), "round_robin",
        ""), GatewayServer.Options.DEFAULTS.withBackendWait(Duration.ofSeconds(10)));
    alice = bed.client("alice");
    ch = channel(alice);
  }

  @AfterEach
  void tearDown() throws Exception {
    if (ch != null) {
      ch.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
    if (gw != null) {
      gw.close();
    }
    e1.close();
    epmd.close();
  }

  ManagedChannel channel(TestBed.Client c) throws Exception {
    return NettyChannelBuilder.forAddress("localhost", gw.listenAddress().getPort())
        .sslContext(GrpcSslContexts.forClient().keyManager(c.cert().toFile(), c.key().toFile())
            .trustManager(c.ca().toFile()).build())
        .build();
  }

  BeamgateClient nativeClient() throws Exception {
    return BeamgateClient.connect(ClientConfig.builder().host("localhost")
        .port(gw.listenAddress().getPort()).tls(alice.cert(), alice.key(), alice.ca()).build());
  }

  static Call call(String m, String f, Term... args) throws Exception {
    Call.Builder b = Call.newBuilder().setModule(m).setFunction(f);
    for (Term t : args) {
      b.addArgs(TermProto.toProto(t, TermProto.DEFAULT_MAX_DEPTH));
    }
    return b.build();
  }

  Term grpcCall(Call c) throws Exception {
    io.beamgate.gateway.proto.Term t = ClientCalls.blockingUnaryCall(ch, GatewayMethods.CALL,
        CallOptions.DEFAULT.withDeadlineAfter(20, TimeUnit.SECONDS), c);
    return TermProto.fromProto(t, "result", TermProto.DEFAULT_MAX_DEPTH);
  }

  /** The refusal's gRPC status and the beamgate Error from its trailers. */
  StatusRuntimeException refused(Call c) {
    return assertThrows(StatusRuntimeException.class, () -> grpcCall(c));
  }

  static Error error(StatusRuntimeException e) {
    Error err = GrpcStatus.errorOf(e.getTrailers());
    assertTrue(err != null, "no beamgate-error-bin trailer: " + e);
    return err;
  }

  @Test
  void allowedAndRefusedCallsEndAsTheyDoForTheNativeClient() throws Exception {
    assertEquals(TermText.parse("[1,2,3,4,5]"), grpcCall(call("lists", "seq", Int.of(1),
        Int.of(5))));
    assertEquals(Term.binary("GR\u00dcSSE"), grpcCall(call("string", "uppercase",
        Term.binary("gr\u00fc\u00dfe"))));

    StatusRuntimeException denied = refused(call("os", "cmd", Term.binary("id")));
    assertEquals(Status.Code.PERMISSION_DENIED, denied.getStatus().getCode());
    assertEquals(Error.Code.PERMISSION_DENIED, error(denied).getCode());

    StatusRuntimeException badrpc = refused(call("lists", "seq", TermText.parse("a"),
        Int.of(2)));
    assertEquals(Status.Code.UNKNOWN, badrpc.getStatus().getCode());
    assertEquals(Error.Code.BAD_RPC, error(badrpc).getCode());
    assertTrue(error(badrpc).getErlang().startsWith("{badrpc,"), error(badrpc).getErlang());

    Call withPid = Call.newBuilder().setModule("lists").setFunction("seq")
        .addArgs(io.beamgate.gateway.proto.Term.newBuilder().setOpaque(Opaque.newBuilder()
            .setText("<0.1.0>")))
        .addArgs(TermProto.toProto(Int.of(2), 8)).build();
    StatusRuntimeException invalid = refused(withPid);
    assertEquals(Status.Code.INVALID_ARGUMENT, invalid.getStatus().getCode());
    assertEquals(Error.Code.INVALID_ARGUMENT, error(invalid).getCode());
    assertEquals("args[0]", error(invalid).getPath());

    // the same requests through the native protocol: the same codes and messages
    try (BeamgateClient c = nativeClient()) {
      assertEquals(TermText.parse("[1,2,3,4,5]"), c.blocking().call("lists", "seq",
          List.of(Int.of(1), Int.of(5))));
      GatewayException n = assertThrows(GatewayException.class,
          () -> c.blocking().call("os", "cmd", List.of(Term.binary("id"))));
      assertEquals(GatewayException.Code.PERMISSION_DENIED, n.code());
      assertEquals(n.rule().orElse(""), error(denied).getRule());
      assertEquals(n.reason().orElse(""), error(denied).getReason());
      GatewayException nb = assertThrows(GatewayException.class,
          () -> c.blocking().call("lists", "seq", List.of(TermText.parse("a"), Int.of(2))));
      assertEquals(GatewayException.Code.BAD_RPC, nb.code());
      assertEquals(nb.erlang().orElse(""), error(badrpc).getErlang());
    }

    // a send and the identity the gateway sees
    assertEquals(io.beamgate.gateway.proto.Ok.getDefaultInstance(),
        ClientCalls.blockingUnaryCall(ch, GatewayMethods.SEND, CallOptions.DEFAULT,
            Send.newBuilder().setName("grpc_sink").setMessage(TermProto.toProto(
                TermText.parse("{hello, 1}"), 8)).build()));
    Pong pong = ClientCalls.blockingUnaryCall(ch, GatewayMethods.PING, CallOptions.DEFAULT,
        Ping.getDefaultInstance());
    assertEquals("spiffe://test/alice", pong.getPrincipal());

    String audit = bed.auditText();
    assertTrue(audit.contains("\"mfa\":\"os:cmd/1\""), audit);
    assertTrue(audit.contains("\"mfa\":\"send:grpc_sink\""), audit);
  }

  @Test
  void theDeadlineBecomesTheCallsTimeout() throws Exception {
    long t0 = System.nanoTime();
    StatusRuntimeException e = assertThrows(StatusRuntimeException.class,
        () -> ClientCalls.blockingUnaryCall(ch, GatewayMethods.CALL,
            CallOptions.DEFAULT.withDeadlineAfter(400, TimeUnit.MILLISECONDS),
            call("timer", "sleep", Int.of(10_000))));
    assertEquals(Status.Code.DEADLINE_EXCEEDED, e.getStatus().getCode());
    assertTrue(System.nanoTime() - t0 < TimeUnit.SECONDS.toNanos(5));
    awaitNothingInFlight();
    // The record of a timeout is appended at the end of its I/O thread's turn: wait for it.
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
    while (!bed.auditText().contains("\"outcome\":\"timeout\"") && System.nanoTime() < end) {
      Thread.sleep(10);
    }
    String audit = bed.auditText();
    assertTrue(audit.contains("\"mfa\":\"timer:sleep/1\"") && audit.contains("\"outcome\":"
        + "\"timeout\""), audit);
  }

  @Test
  void aCancelledRpcEndsTheRequestInTheGateway() throws Exception {
    var f = ClientCalls.futureUnaryCall(ch.newCall(GatewayMethods.CALL, CallOptions.DEFAULT),
        call("timer", "sleep", Int.of(10_000)));
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
    while (((Number) gw.status().get("in_flight")).intValue() == 0 && System.nanoTime() < end) {
      Thread.sleep(10);
    }
    assertEquals(1, ((Number) gw.status().get("in_flight")).intValue());
    f.cancel(true);
    awaitNothingInFlight();
    String audit = bed.auditText();
    assertTrue(audit.contains("\"outcome\":\"cancelled\""), audit);
  }

  @Test
  void healthAnswersFromReadiness() throws Exception {
    HealthGrpc.HealthBlockingStub h = HealthGrpc.newBlockingStub(ch);
    assertEquals(HealthCheckResponse.ServingStatus.SERVING,
        h.check(HealthCheckRequest.getDefaultInstance()).getStatus());
    assertEquals(HealthCheckResponse.ServingStatus.SERVING,
        h.check(HealthCheckRequest.newBuilder().setService(GatewayMethods.SERVICE).build())
            .getStatus());
    e1.close(); // the only backend: the gateway is no longer ready
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
    HealthCheckResponse.ServingStatus s = null;
    while (System.nanoTime() < end) {
      s = h.check(HealthCheckRequest.getDefaultInstance()).getStatus();
      if (s == HealthCheckResponse.ServingStatus.NOT_SERVING) {
        break;
      }
      Thread.sleep(100);
    }
    assertEquals(HealthCheckResponse.ServingStatus.NOT_SERVING, s);
  }

  @Test
  void aClientWhoseAccessIsRevokedIsClosed() throws Exception {
    assertEquals(TermText.parse("[1,2]"), grpcCall(call("lists", "seq", Int.of(1), Int.of(2))));
    bed.writePolicy(POLICY.replace("alice", "carol"));
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (!bed.auditText().contains("reload: no rule names") && System.nanoTime() < end) {
      Thread.sleep(50);
    }
    assertTrue(bed.auditText().contains("reload: no rule names spiffe://test/alice"),
        bed.auditText());
    // A call racing the close of the revoked connection fails UNAVAILABLE (not sent); the
    // channel reconnects and the next one is refused by the policy.
    StatusRuntimeException e = refused(call("lists", "seq", Int.of(1), Int.of(2)));
    for (int i = 0; i < 20 && e.getStatus().getCode() == Status.Code.UNAVAILABLE; i++) {
      Thread.sleep(100);
      e = refused(call("lists", "seq", Int.of(1), Int.of(2)));
    }
    assertEquals(Status.Code.PERMISSION_DENIED, e.getStatus().getCode(), e.toString());
  }

  @Test
  void maxInFlightPerConnectionBoundsTheConnectionsConcurrentRpcs() throws Exception {
    ch.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    gw.close();
    gw = GatewayServer.start(bed.writeConfig(List.of(e1.name()), epmd.port(), "round_robin",
        "limits: {max_in_flight_per_connection: 2}\n"), GatewayServer.Options.DEFAULTS
            .withBackendWait(Duration.ofSeconds(10)));
    ch = channel(alice);
    grpcCall(call("lists", "seq", Int.of(1), Int.of(2))); // connected
    List<com.google.common.util.concurrent.ListenableFuture<io.beamgate.gateway.proto.Term>>
        calls = new java.util.ArrayList<>();
    for (int i = 0; i < 3; i++) { // at the limit, and one past it
      calls.add(ClientCalls.futureUnaryCall(ch.newCall(GatewayMethods.CALL, CallOptions.DEFAULT
          .withDeadlineAfter(20, TimeUnit.SECONDS)), call("timer", "sleep", Int.of(700))));
    }
    int most = 0;
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
    while (!calls.stream().allMatch(java.util.concurrent.Future::isDone)
        && System.nanoTime() < end) {
      most = Math.max(most, ((Number) gw.status().get("in_flight")).intValue());
      Thread.sleep(5);
    }
    for (var f : calls) {
      assertEquals(TermText.parse("ok"), TermProto.fromProto(f.get(), "r", 8)); // none refused
    }
    assertEquals(2, most, "the third RPC waits for a stream (HTTP/2 max concurrent streams)");
  }

  void awaitNothingInFlight() throws InterruptedException {
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
    while (((Number) gw.status().get("in_flight")).intValue() != 0
        && System.nanoTime() < end) {
      Thread.sleep(10);
    }
    assertEquals(0, ((Number) gw.status().get("in_flight")).intValue());
  }
}
