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
 * @param maxOutboundBytes bytes written to a connection but not yet sent, past which senders
 *     wait (OTP's dist_buf_busy_limit is the model)
 * @param busyTimeout how long a sender waits on a busy connection before failing
 * @param fragmentBytes messages larger than this go in fragments of this size, to peers that
 *     accept fragments, so small messages are not held up behind them
 * @param maxFragmentedMessages most fragmented messages a peer may have in progress at once
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
    DecodeLimits decodeLimits,
    long maxOutboundBytes,
    Duration busyTimeout,
    int fragmentBytes,
    int maxFragmentedMessages) {}
