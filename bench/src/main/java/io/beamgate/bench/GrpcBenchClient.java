package io.beamgate.bench;

import io.beamgate.gateway.grpc.GatewayMethods;
import io.beamgate.gateway.proto.Call;
import io.beamgate.gateway.protocol.TermProto;
import io.grpc.CallOptions;
import io.grpc.ManagedChannel;
import io.grpc.netty.GrpcSslContexts;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.ClientCalls;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * The gateway's gRPC door (ALPN h2 on the same listener) as a harness client, named
 * "gateway-grpc": grpc-java's own client (grpc-netty), the same certificate and the same call
 * ({@code erlang:element(1, {Payload})}) as the native client "gateway", on one HTTP/2
 * connection; blocking when sequential, otherwise {@code conc} futures in flight.
 */
final class GrpcBenchClient implements Harness.Client {
  private final Handshakes.TlsTarget listener;
  private boolean warmed;

  GrpcBenchClient(Handshakes.TlsTarget listener) {
    this.listener = listener;
  }

  @Override
  public String name() {
    return "gateway-grpc";
  }

  @Override
  public Harness.Result run(int conc, int size, int seconds) throws Exception {
    BenchPki.CertFiles files = listener.client();
    ManagedChannel ch = NettyChannelBuilder.forAddress("localhost", listener.port())
        .sslContext(GrpcSslContexts.forClient()
            .keyManager(files.cert().toFile(), files.key().toFile())
            .trustManager(files.ca().toFile()).build())
        .maxInboundMessageSize(8 << 20).build();
    try {
      byte[] payload = new byte[size];
      java.util.Arrays.fill(payload, (byte) 'x');
      Call request = Call.newBuilder().setModule("erlang").setFunction("element")
          .addArgs(TermProto.toProto(io.beamgate.node.term.Int.of(1), 16))
          .addArgs(TermProto.toProto(io.beamgate.node.term.Tuple.of(
              io.beamgate.node.term.Binary.wrap(payload)), 16))
          .setTimeoutMs(60_000).build();
      java.util.function.Supplier<CompletableFuture<io.beamgate.gateway.proto.Term>> call =
          () -> {
            CompletableFuture<io.beamgate.gateway.proto.Term> f = new CompletableFuture<>();
            com.google.common.util.concurrent.ListenableFuture<io.beamgate.gateway.proto.Term> l =
                ClientCalls.futureUnaryCall(ch.newCall(GatewayMethods.CALL, CallOptions.DEFAULT),
                    request);
            l.addListener(() -> {
              try {
                f.complete(l.get());
              } catch (Exception e) {
                f.completeExceptionally(e);
              }
            }, Runnable::run);
            return f;
          };
      if (!warmed) {
        warmed = true;
        Harness.measureAsync("gateway-grpc-warm-up", 16, size, 4, call, t -> check(t, size));
      }
      if (conc == 1) {
        return Harness.measure("gateway-grpc", 1, size, seconds, () -> () -> check(
            ClientCalls.blockingUnaryCall(ch, GatewayMethods.CALL, CallOptions.DEFAULT, request),
            size));
      }
      long warmEnd = System.nanoTime() + 500_000_000L;
      while (System.nanoTime() < warmEnd) {
        ClientCalls.blockingUnaryCall(ch, GatewayMethods.CALL, CallOptions.DEFAULT, request);
      }
      return Harness.measureAsync("gateway-grpc", conc, size, seconds, call,
          t -> check(t, size));
    } finally {
      ch.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
  }

  private static void check(io.beamgate.gateway.proto.Term t, int size) {
    if (t.getBinary().size() != size) {
      throw new IllegalStateException("unexpected result " + t);
    }
  }
}
