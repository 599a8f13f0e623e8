package io.beamgate.node.dist;

import io.beamgate.node.Cookie;
import io.beamgate.node.etf.DecodeLimits;
import java.time.Duration;

/**
 * What the connection layer needs to know of the local node.
 *
 * @param nodeName this node's full name
 * @param cookie the cookie for every peer
 * @param flags distribution flags offered
 * @param netTickTime a peer silent this long is declared down; ticks go out every quarter
 * @param handshakeTimeout a handshake not complete by then fails
 * @param connectTimeout TCP connect and EPMD look-up timeout
 * @param epmdPort port of EPMD on every peer's host
 * @param maxFrameBytes largest distribution frame accepted
 * @param maxPendingBytes most bytes queued for a peer whose connection is not up yet
 * @param decodeLimits bounds for decoding peers' terms
 */
public record DistSettings(
    String nodeName,
    Cookie cookie,
    long flags,
    Duration netTickTime,
    Duration handshakeTimeout,
    Duration connectTimeout,
    int epmdPort,
    long maxFrameBytes,
    long maxPendingBytes,
    DecodeLimits decodeLimits) {}
