/**
 * The Java client of a beamgate gateway: {@link io.beamgate.client.BeamgateClient} made from a
 * {@link io.beamgate.client.ClientConfig}, failing with {@link
 * io.beamgate.client.GatewayException}. Its transport (Netty, TLS) stays inside the package.
 */
package io.beamgate.client;
