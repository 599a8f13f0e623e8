/**
 * The gRPC door: the client requests of the native protocol as the gRPC service
 * {@code beamgate.v1.Gateway} on the listener's port (ALPN h2), through the same admission
 * path, with the standard health service and optional reflection. {@link
 * io.beamgate.gateway.grpc.GatewayMethods} and {@link io.beamgate.gateway.grpc.GrpcStatus} are
 * usable by any grpc-java client; the rest is internal to the gateway (docs/architecture.md,
 * "The gRPC door").
 */
package io.beamgate.gateway.grpc;
