package io.beamgate.node;

import io.beamgate.node.epmd.EpmdClient;
import io.beamgate.node.etf.DecodeLimits;
import java.net.InetAddress;
import java.time.Duration;
import java.util.Objects;

/**
 * How to start a {@link LocalNode}. Every limit has a safe default; build with {@link #builder}.
 *
 * @param name full node name
 * @param cookie the distribution cookie
 * @param hidden a hidden node (as {@code erl -hidden}): peers do not list it in nodes()
 * @param epmdHost where the local EPMD runs, to register with
 * @param epmdPort EPMD's port here and on every peer's host
 * @param listenAddress address the distribution listener binds (null: all interfaces)
 * @param listenPort port of the distribution listener (0: any free port)
 * @param netTickTime a peer silent this long is declared down (OTP default 60 s)
 * @param handshakeTimeout a handshake not complete by then fails
 * @param connectTimeout connect and EPMD look-up timeout
 * @param maxFrameBytes largest distribution frame accepted from a peer
 * @param maxPendingBytes most bytes queued for a peer while its connection is being set up
 * @param mailboxCapacity most messages queued in one mailbox; further ones are dropped and
 *     counted
 * @param decodeLimits bounds on terms received from peers (default {@link
 *     DecodeLimits#DISTRIBUTION}: any term OTP produces); a term past them fails only its own
 *     message, which is dropped with a log line, and the connection stays up
 * @param maxOutboundBytes bytes queued on one connection but not yet sent, past which a
 *     sender waits for the peer to catch up (backpressure)
 * @param busyTimeout how long a sender waits on a busy connection before its send fails
 * @param fragmentBytes messages larger than this are sent in fragments of this size to peers
 *     that accept fragments (OTP 22+), so small messages interleave with large ones
 * @param maxFragmentedMessages most fragmented messages a peer may have in progress at once;
 *     {@code maxFrameBytes} also caps each reassembled message
 * @param ioThreads threads that do the node's network I/O (default: the number of cores, at
 *     most 4); fewer threads mean fewer hand-offs between them
 * @param rpcSweepPeriod how often the RPC client checks its calls' deadlines (default 20 ms,
 *     1 ms..1 s): a call times out never before its timeout and at most about one period after
 */
public record NodeConfig(
    NodeName name,
    Cookie cookie,
    boolean hidden,
    String epmdHost,
    int epmdPort,
    InetAddress listenAddress,
    int listenPort,
    Duration netTickTime,
    Duration handshakeTimeout,
    Duration connectTimeout,
    long maxFrameBytes,
    long maxPendingBytes,
    int mailboxCapacity,
    DecodeLimits decodeLimits,
    long maxOutboundBytes,
    Duration busyTimeout,
    int fragmentBytes,
    int maxFragmentedMessages,
    int ioThreads,
    Duration rpcSweepPeriod) {

  public NodeConfig {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(cookie, "cookie");
    Objects.requireNonNull(epmdHost, "epmdHost");
    positive("netTickTime", netTickTime);
    positive("handshakeTimeout", handshakeTimeout);
    positive("connectTimeout", connectTimeout);
    if (epmdPort < 1 || epmdPort > 65535) {
      throw new IllegalArgumentException("epmdPort: " + epmdPort + " (expected: 1..65535)");
    }
    if (listenPort < 0 || listenPort > 65535) {
      throw new IllegalArgumentException("listenPort: " + listenPort + " (expected: 0..65535)");
    }
    if (maxFrameBytes < 64 || maxFrameBytes > 0xFFFFFFFFL) {
      throw new IllegalArgumentException(
          "maxFrameBytes: " + maxFrameBytes + " (expected: 64..4294967295)");
    }
    if (maxPendingBytes < 0) {
      throw new IllegalArgumentException("maxPendingBytes: " + maxPendingBytes
          + " (expected: >= 0)");
    }
    if (mailboxCapacity < 1) {
      throw new IllegalArgumentException("mailboxCapacity: " + mailboxCapacity
          + " (expected: >= 1)");
    }
    Objects.requireNonNull(decodeLimits, "decodeLimits");
    if (maxOutboundBytes < 1024) {
      throw new IllegalArgumentException("maxOutboundBytes: " + maxOutboundBytes
          + " (expected: >= 1024)");
    }
    positive("busyTimeout", busyTimeout);
    if (fragmentBytes < 1024) {
      throw new IllegalArgumentException("fragmentBytes: " + fragmentBytes
          + " (expected: >= 1024)");
    }
    if (maxFragmentedMessages < 1) {
      throw new IllegalArgumentException("maxFragmentedMessages: " + maxFragmentedMessages
          + " (expected: >= 1)");
    }
    if (ioThreads < 1 || ioThreads > 256) {
      throw new IllegalArgumentException("ioThreads: " + ioThreads + " (expected: 1..256)");
    }
    if (rpcSweepPeriod == null || rpcSweepPeriod.compareTo(Duration.ofMillis(1)) < 0
        || rpcSweepPeriod.compareTo(Duration.ofSeconds(1)) > 0) {
      throw new IllegalArgumentException("rpcSweepPeriod: " + rpcSweepPeriod
          + " (expected: 1 ms..1 s)");
    }
  }

  private static void positive(String what, Duration d) {
    if (d == null || d.isNegative() || d.isZero()) {
      throw new IllegalArgumentException(what + ": " + d + " (expected: > 0)");
    }
  }

  /** Starts a builder for the node {@code name} (short: {@code alive} or {@code alive@host}). */
  public static Builder builder(String name) {
    return new Builder(NodeName.of(name, false));
  }

  public static Builder builder(NodeName name) {
    return new Builder(name);
  }

  /** Builder with the defaults of {@code erl}, and safe bounds. */
  public static final class Builder {
    private NodeName name;
    private Cookie cookie;
    private boolean hidden;
    private String epmdHost = "127.0.0.1";
    private int epmdPort = EpmdClient.defaultPort();
    private InetAddress listenAddress;
    private int listenPort;
    private Duration netTickTime = Duration.ofSeconds(60);
    private Duration handshakeTimeout = Duration.ofSeconds(7);
    private Duration connectTimeout = Duration.ofSeconds(7);
    private long maxFrameBytes = 128L << 20;
    private long maxPendingBytes = 64L << 20;
    private int mailboxCapacity = 1_000_000;
    private DecodeLimits decodeLimits = DecodeLimits.DISTRIBUTION;
    private long maxOutboundBytes = 16L << 20;
    private Duration busyTimeout = Duration.ofSeconds(10);
    private int fragmentBytes = 64 * 1024;
    private int maxFragmentedMessages = 64;
    private int ioThreads = Math.max(1, Math.min(4, Runtime.getRuntime().availableProcessors()));
    private Duration rpcSweepPeriod = Duration.ofMillis(20);

    private Builder(NodeName name) {
      this.name = name;
    }

    public Builder cookie(Cookie c) {
      this.cookie = c;
      return this;
    }

    public Builder cookie(String c) {
      this.cookie = Cookie.of(c);
      return this;
    }

    public Builder hidden(boolean h) {
      this.hidden = h;
      return this;
    }

    public Builder epmd(String host, int port) {
      this.epmdHost = host;
      this.epmdPort = port;
      return this;
    }

    public Builder epmdPort(int port) {
      this.epmdPort = port;
      return this;
    }

    public Builder listen(InetAddress address, int port) {
      this.listenAddress = address;
      this.listenPort = port;
      return this;
    }

    public Builder netTickTime(Duration d) {
      this.netTickTime = d;
      return this;
    }

    public Builder handshakeTimeout(Duration d) {
      this.handshakeTimeout = d;
      return this;
    }

    public Builder connectTimeout(Duration d) {
      this.connectTimeout = d;
      return this;
    }

    public Builder maxFrameBytes(long n) {
      this.maxFrameBytes = n;
      return this;
    }

    public Builder maxPendingBytes(long n) {
      this.maxPendingBytes = n;
      return this;
    }

    public Builder mailboxCapacity(int n) {
      this.mailboxCapacity = n;
      return this;
    }

    public Builder decodeLimits(DecodeLimits l) {
      this.decodeLimits = l;
      return this;
    }

    public Builder maxOutboundBytes(long n) {
      this.maxOutboundBytes = n;
      return this;
    }

    public Builder busyTimeout(Duration d) {
      this.busyTimeout = d;
      return this;
    }

    public Builder fragmentBytes(int n) {
      this.fragmentBytes = n;
      return this;
    }

    public Builder maxFragmentedMessages(int n) {
      this.maxFragmentedMessages = n;
      return this;
    }

    public Builder ioThreads(int n) {
      this.ioThreads = n;
      return this;
    }

    public Builder rpcSweepPeriod(Duration d) {
      this.rpcSweepPeriod = d;
      return this;
    }

    /** Builds; without a cookie, reads {@code ~/.erlang.cookie} as erl does. */
    public NodeConfig build() throws java.io.IOException {
      Cookie c = cookie != null ? cookie : Cookie.fromHome();
      return new NodeConfig(name, c, hidden, epmdHost, epmdPort, listenAddress, listenPort,
          netTickTime, handshakeTimeout, connectTimeout, maxFrameBytes, maxPendingBytes,
          mailboxCapacity, decodeLimits, maxOutboundBytes, busyTimeout, fragmentBytes,
          maxFragmentedMessages, ioThreads, rpcSweepPeriod);
    }
  }
}
