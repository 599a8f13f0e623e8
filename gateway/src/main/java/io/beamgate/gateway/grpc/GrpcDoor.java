package io.beamgate.gateway.grpc;

import io.beamgate.gateway.admission.Admission;
import io.beamgate.gateway.admission.BackendPool;
import io.beamgate.gateway.ops.GatewayMetrics;
import io.beamgate.gateway.ops.Health;
import io.beamgate.gateway.transport.TlsContexts;
import io.beamgate.node.Mailbox;
import io.beamgate.node.rpc.RpcClient;
import io.beamgate.security.audit.AuditRecord;
import io.beamgate.gateway.config.GatewayConfig;
import io.beamgate.security.identity.PeerIdentity;
import io.grpc.Contexts;
import io.grpc.Grpc;
import io.grpc.Metadata;
import io.grpc.Server;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.Status;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.netty.NettyServerBuilder;
import io.grpc.protobuf.services.HealthStatusManager;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.local.LocalAddress;
import io.netty.channel.local.LocalChannel;
import io.netty.channel.local.LocalIoHandler;
import io.netty.channel.local.LocalServerChannel;
import java.io.IOException;
import java.net.SocketAddress;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The gRPC door: the client requests of the native protocol as the gRPC service
 * {@code beamgate.v1.Gateway}, on the listener's own port, for connections whose TLS
 * handshake chose ALPN {@code h2}.
 *
 * <p>How: grpc-java's Netty server listens on a Netty {@link LocalAddress} inside the JVM (no
 * socket). The gateway's listener keeps the TLS handshake, ALPN and the client certificate;
 * on {@code h2} it computes the client's identity once, opens a local channel to the gRPC
 * server, and relays the decrypted HTTP/2 bytes both ways ({@link H2Relay}). The local
 * channel's own address names the connection, so every RPC finds its {@link Session} (and so
 * its identity) by the transport's remote address. grpc-netty cannot adopt a channel that
 * another pipeline has already accepted and handshaken, hence the relay.
 *
 * <p>Besides the service: the standard health service {@code grpc.health.v1.Health}, from the
 * gateway's readiness (read at each check; watchers are told within a second), and server reflection when
 * {@code grpc.reflection} is on.
 */
public final class GrpcDoor implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(GrpcDoor.class);
  private static final AtomicLong SEQ = new AtomicLong();

  /** What the door may reach of the gateway, and nothing else of it. */
  public record Wiring(Supplier<Admission> admission, RpcClient rpc, Mailbox sender,
      BackendPool backends, GatewayConfig.Limits limits, GatewayConfig.Grpc settings,
      java.util.function.Consumer<AuditRecord> audit, Supplier<Health.Facts> readiness,
      GatewayMetrics metrics, String version) {}

  private final Wiring w;
  private final LocalAddress address;
  private final EventLoopGroup group;
  private final ExecutorService executor;
  private final Server server;
  private final HealthStatusManager health = new HealthStatusManager();
  private final Map<SocketAddress, Session> sessions = new ConcurrentHashMap<>();
  private final ScheduledFuture<?> healthUpdates;

  private GrpcDoor(Wiring w, ScheduledExecutorService timer) throws IOException {
    this.w = w;
    this.address = new LocalAddress("beamgate-grpc-" + SEQ.incrementAndGet());
    this.group = new MultiThreadIoEventLoopGroup(1, LocalIoHandler.newFactory());
    this.executor = Executors.newFixedThreadPool(2, r -> {
      Thread t = new Thread(r, "beamgate-grpc");
      t.setDaemon(true);
      return t;
    });
    GatewayConfig.Limits lim = w.limits();
    NettyServerBuilder b = NettyServerBuilder.forAddress(address)
        .channelType(LocalServerChannel.class)
        .bossEventLoopGroup(group).workerEventLoopGroup(group)
        .executor(executor)
        .maxInboundMessageSize(lim.maxFrameBytes())
        .maxConcurrentCallsPerConnection(lim.maxInFlightPerConnection())
        .maxConnectionIdle(lim.idleTimeoutMillis(), TimeUnit.MILLISECONDS)
        // Clients that fail over ping every 10 s with calls in flight (grpc-go's minimum) to find
        // a dead gateway; gRPC's default (one ping per 5 min) would end their long calls with
        // GOAWAY too_many_pings. Faster pings are still answered with it.
        .permitKeepAliveTime(w.settings().keepalivePermitSeconds(), TimeUnit.SECONDS)
        .addService(ServerInterceptors.intercept(new GatewayService(w).definition(),
            new Identity()))
        // A check reads readiness as it is now; watchers hear of changes within a second.
        .addService(ServerInterceptors.intercept(health.getHealthService(),
            new ServerInterceptor() {
              @Override
              public <Q, A> ServerCall.Listener<Q> interceptCall(ServerCall<Q, A> call,
                  Metadata headers, ServerCallHandler<Q, A> next) {
                updateHealth();
                return next.startCall(call, headers);
              }
            }));
    if (w.settings().reflection()) {
      b.addService(io.grpc.protobuf.services.ProtoReflectionServiceV1.newInstance());
      b.addService(io.grpc.protobuf.services.ProtoReflectionService.newInstance());
    }
    this.server = b.build().start();
    updateHealth();
    this.healthUpdates = timer.scheduleWithFixedDelay(this::updateHealth, 1, 1,
        TimeUnit.SECONDS);
  }

  /** Starts the gRPC server inside the JVM; the listener hands it connections by attach. */
  public static GrpcDoor start(Wiring w, ScheduledExecutorService timer) throws IOException {
    return new GrpcDoor(w, timer);
  }

  private void updateHealth() {
    try {
      boolean ready = Health.ready(w.readiness().get(), Instant.now()).ready();
      ServingStatus s = ready ? ServingStatus.SERVING : ServingStatus.NOT_SERVING;
      health.setStatus("", s);
      health.setStatus(GatewayMethods.SERVICE, s);
    } catch (RuntimeException e) {
      log.warn("gRPC health update failed: {}", e.getMessage());
    }
  }

  /**
   * Takes over {@code tls}, a connection whose handshake just chose {@code h2} and whose
   * pipeline now holds only its TLS handler, with the identity the listener computed once
   * ({@code who}): its HTTP/2 stream goes to the gRPC server.
   */
  public void attach(Channel tls, PeerIdentity who) {
    String peer = who.address();
    LocalAddress me = new LocalAddress("beamgate-grpc-conn-" + SEQ.incrementAndGet());
    Session s = new Session(who, tls, w.limits().controlPerSecond());
    sessions.put(me, s);
    H2Relay relay = new H2Relay(tls);
    tls.pipeline().addLast("h2relay", relay);
    tls.closeFuture().addListener(f -> sessions.remove(me));
    ChannelFuture cf = new Bootstrap().group(group).channel(LocalChannel.class)
        .handler(relay.back()).connect(address, me);
    cf.addListener(f -> {
      if (f.isSuccess()) {
        relay.connected(cf.channel());
      } else {
        log.warn("gRPC connection from {} could not reach the in-JVM gRPC server: {}", peer,
            TlsContexts.rootMessage(f.cause()));
        tls.close();
      }
    });
    log.debug("gRPC client {} connected from {}", who.name(), peer);
  }

  /**
   * Closes the connections whose client lost access ({@code lost} says why, or null); for a
   * policy or certificate reload. Returns how many were closed.
   */
  public int closeLostAccess(Function<PeerIdentity, String> lost) {
    int n = 0;
    for (Session s : sessions.values()) {
      String why = lost.apply(s.who);
      if (why != null) {
        n++;
        log.info("closing gRPC client {} from {}: {}", s.principal.name(), s.peer, why);
        w.audit().accept(AuditRecord.of(s.principal, s.peer)
            .decision(AuditRecord.Decision.DENIED).reason("reload: " + why).outcome("closed")
            .build());
        s.tls.close();
      }
    }
    return n;
  }

  /** gRPC connections open now. */
  public int connections() {
    return sessions.size();
  }

  @Override
  public void close() {
    healthUpdates.cancel(false);
    health.enterTerminalState();
    for (Session s : sessions.values()) {
      s.tls.close();
    }
    server.shutdownNow();
    try {
      server.awaitTermination(2, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    executor.shutdownNow();
    group.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly();
  }

  /** Puts the connection's {@link Session} in each RPC's context; none, no RPC. */
  private final class Identity implements ServerInterceptor {
    @Override
    public <Q, A> ServerCall.Listener<Q> interceptCall(ServerCall<Q, A> call, Metadata headers,
        ServerCallHandler<Q, A> next) {
      Session s = sessions.get(call.getAttributes().get(Grpc.TRANSPORT_ATTR_REMOTE_ADDR));
      if (s == null) {
        call.close(Status.UNAVAILABLE.withDescription("the connection is closing"),
            new Metadata());
        return new ServerCall.Listener<>() { };
      }
      return Contexts.interceptCall(io.grpc.Context.current().withValue(Session.KEY, s), call,
          headers, next);
    }
  }
}
