package io.beamgate.client;

/**
 * The gateway's answer to a ping.
 *
 * @param protocol the protocol version the gateway speaks (1)
 * @param server the gateway's software version
 * @param principal this client's identity as the gateway derived it from its certificate
 */
public record Pong(int protocol, String server, String principal) {}
