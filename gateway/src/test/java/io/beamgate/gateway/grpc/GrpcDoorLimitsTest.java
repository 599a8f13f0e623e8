package io.beamgate.gateway.grpc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.beamgate.gateway.proto.Call;
import io.beamgate.gateway.proto.Error;
import io.beamgate.gateway.proto.Ping;
import io.beamgate.gateway.proto.Term;
import io.beamgate.gateway.server.GatewayServer;
import io.beamgate.gateway.server.TestBed;
import io.beamgate.node.testing.RealEpmd;
import io.beamgate.security.yaml.ConfigException;
import io.grpc.CallOptions;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.GrpcSslContexts;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.reflection.v1.ServerReflectionGrpc;
import io.grpc.reflection.v1.ServerReflectionRequest;
import io.grpc.reflection.v1.ServerReflectionResponse;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.StreamObserver;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The gRPC door's bounds and switches, without a backend: the client limits apply to it
 * (limits.max_frame_bytes to a message, limits.control_per_second to pings), at and past each;
 * reflection answers only when grpc.reflection is on; the grpc section takes no unknown key.
 */
class GrpcDoorLimitsTest {
  @TempDir Path dir;
  TestBed bed;
  GatewayServer gw;
  ManagedChannel ch;

  void start(String extra) throws Exception {
    bed = new TestBed(dir.resolve("gw"));
    bed.writePolicy("""
        version: 1
        rules:
          - id: r
            principals: ["uri:spiffe://test/alice"]
            calls: ["erlang:length/1"]
        """);
    gw = GatewayServer.start(bed.writeConfig(List.of("nobody@127.0.0.1"),
        RealEpmd.freePort(), "round_robin", extra), GatewayServer.Options.DEFAULTS
            .withBackendWait(Duration.ofMillis(10)));
    TestBed.Client c = bed.client("alice");
    ch = NettyChannelBuilder.forAddress("localhost", gw.listenAddress().getPort())
        .sslContext(GrpcSslContexts.forClient().keyManager(c.cert().toFile(), c.key().toFile())
            .trustManager(c.ca().toFile()).build())
        .build();
  }

  @AfterEach
  void tearDown() throws Exception {
    if (ch != null) {
      ch.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
    if (gw != null) {
      gw.close();
    }
  }

  static Call callWithBinary(int bytes) {
    return Call.newBuilder().setModule("erlang").setFunction("length").addArgs(Term
        .newBuilder().setBinary(ByteString.copyFrom(new byte[bytes]))).build();
  }

  @Test
  void aMessageOverMaxFrameBytesIsRefusedAndOneAtItIsAdmitted() throws Exception {
    start("limits: {max_frame_bytes: 4096}\n");
    int overhead = callWithBinary(0).getSerializedSize() + 2; // the binary's length grows
    StatusRuntimeException at = assertThrows(StatusRuntimeException.class,
        () -> ClientCalls.blockingUnaryCall(ch, GatewayMethods.CALL, CallOptions.DEFAULT
            .withDeadlineAfter(10, TimeUnit.SECONDS), callWithBinary(4096 - overhead)));
    assertEquals(4096, callWithBinary(4096 - overhead).getSerializedSize());
    // at the limit: read and admitted, then no backend is up
    assertEquals(Status.Code.UNAVAILABLE, at.getStatus().getCode(), at.toString());
    assertEquals(Error.Code.UNAVAILABLE, GrpcStatus.errorOf(at.getTrailers()).getCode());
    StatusRuntimeException past = assertThrows(StatusRuntimeException.class,
        () -> ClientCalls.blockingUnaryCall(ch, GatewayMethods.CALL, CallOptions.DEFAULT
            .withDeadlineAfter(10, TimeUnit.SECONDS), callWithBinary(4097 - overhead)));
    assertEquals(Status.Code.RESOURCE_EXHAUSTED, past.getStatus().getCode(), past.toString());
  }

  @Test
  void pingsPastControlPerSecondAreRefusedAndAudited() throws Exception {
    start("limits: {control_per_second: 5}\n");
    int refused = 0;
    for (int i = 0; i < 6; i++) {
      try {
        ClientCalls.blockingUnaryCall(ch, GatewayMethods.PING, CallOptions.DEFAULT,
            Ping.getDefaultInstance());
      } catch (StatusRuntimeException e) {
        assertEquals(Status.Code.RESOURCE_EXHAUSTED, e.getStatus().getCode());
        refused++;
      }
    }
    assertTrue(refused >= 1 && refused <= 2, "refused " + refused + " of 6 (5 per second)");
    assertTrue(bed.auditText().contains("limits.control_per_second"), bed.auditText());
  }

  List<String> services() throws Exception {
    CompletableFuture<Object> done = new CompletableFuture<>();
    StreamObserver<ServerReflectionRequest> req = ServerReflectionGrpc.newStub(ch)
        .serverReflectionInfo(new StreamObserver<>() {
          @Override
          public void onNext(ServerReflectionResponse r) {
            done.complete(r.getListServicesResponse().getServiceList().stream()
                .map(s -> s.getName()).sorted().toList());
          }

          @Override
          public void onError(Throwable t) {
            done.complete(t);
          }

          @Override
          public void onCompleted() {
          }
        });
    req.onNext(ServerReflectionRequest.newBuilder().setListServices("").build());
    Object r = done.get(10, TimeUnit.SECONDS);
    req.onCompleted();
    if (r instanceof Throwable t) {
      throw new AssertionError(t);
    }
    @SuppressWarnings("unchecked")
    List<String> names = (List<String>) r;
    return names;
  }

  @Test
  void reflectionAnswersWhenSwitchedOn() throws Exception {
    start("grpc: {reflection: true}\n");
    List<String> names = services();
    assertTrue(names.contains("beamgate.v1.Gateway") && names.contains("grpc.health.v1.Health"),
        names.toString());
  }

  @Test
  void reflectionIsOffByDefault() throws Exception {
    start("");
    AssertionError e = assertThrows(AssertionError.class, this::services);
    assertTrue(e.getCause() instanceof StatusRuntimeException s
        && s.getStatus().getCode() == Status.Code.UNIMPLEMENTED, String.valueOf(e.getCause()));
  }

  @Test
  void anUnknownKeyInTheGrpcSectionIsAConfigError() throws Exception {
    bed = new TestBed(dir.resolve("bad"));
    ConfigException e = assertThrows(ConfigException.class, () -> bed.writeConfig(
        List.of("nobody@127.0.0.1"), 4369, "round_robin", "grpc: {reflektion: true}\n"));
    assertTrue(e.getMessage().contains("reflektion"), e.getMessage());
  }
}
