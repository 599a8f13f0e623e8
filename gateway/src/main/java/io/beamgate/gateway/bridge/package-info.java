/**
 * Links between two gateways that join their clusters (docs/architecture.md, "Bridge link").
 * Internal to the gateway: the types are public only so that the server package can start
 * links ({@link io.beamgate.gateway.bridge.BridgeLink#start}) and accept them
 * ({@link io.beamgate.gateway.bridge.BridgeHandler#forServer},
 * {@link io.beamgate.gateway.bridge.ServerSession}); they are no API for applications. The
 * package sees the rest of the gateway only through
 * {@link io.beamgate.gateway.bridge.BridgeContext}.
 */
package io.beamgate.gateway.bridge;
