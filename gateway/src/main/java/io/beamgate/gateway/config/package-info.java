/**
 * The gateway's configuration file: its values ({@link io.beamgate.gateway.config.GatewayConfig}),
 * its reader ({@link io.beamgate.gateway.config.GatewayConfigFile}) and {@code gateway check}
 * ({@link io.beamgate.gateway.config.ConfigCheck}). The bottom layer of the gateway: it imports
 * no other package of it.
 */
package io.beamgate.gateway.config;
