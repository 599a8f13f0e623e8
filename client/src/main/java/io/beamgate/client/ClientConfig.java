package io.beamgate.client;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;

/**
 * How a {@link BeamgateClient} reaches its gateway. Made with {@link #builder()}; every field
 * but the address and the three TLS files has a default.
 *
 * <p>The gateway's certificate must chain to {@link #trustedCas()} and name {@link #host()}
 * (a DNS or IP subject alternative name): the client checks both.
 */
public final class ClientConfig {
  /** Which TLS implementation the client uses. */
  public enum TlsProvider {
    /** OpenSSL (BoringSSL via netty-tcnative) when it loads, else the JDK; logged. */
    AUTO,
    /** The JDK's. */
    JDK,
    /** OpenSSL; fails if netty-tcnative does not load. */
    OPENSSL
  }

  public static final Duration DEFAULT_CONNECT_TIMEOUT = Duration.ofSeconds(5);
  public static final Duration DEFAULT_CALL_TIMEOUT = Duration.ofSeconds(30);
  /** The gateway's own default {@code max_frame_bytes}. */
  public static final int DEFAULT_MAX_FRAME_BYTES = 1 << 20;
  public static final Duration DEFAULT_RECONNECT_MIN = Duration.ofMillis(100);
  public static final Duration DEFAULT_RECONNECT_MAX = Duration.ofSeconds(10);
  /** The gateway's own default {@code max_in_flight}. */
  public static final int DEFAULT_MAX_IN_FLIGHT = 1000;
  public static final int DEFAULT_MAX_QUEUED = 10_000;
  public static final Duration DEFAULT_KEEPALIVE_INTERVAL = Duration.ofSeconds(10);
  public static final Duration DEFAULT_KEEPALIVE_TIMEOUT = Duration.ofSeconds(20);

  /** One gateway's address: its host name or address (which its certificate names) and port. */
  public record Gateway(String host, int port) {
    public Gateway {
      if (host == null || host.isBlank()) {
        throw new IllegalArgumentException("host: missing");
      }
      if (port < 1 || port > 65535) {
        throw new IllegalArgumentException("port: " + port + " (expected: 1..65535)");
      }
    }

    @Override
    public String toString() {
      return host.contains(":") ? "[" + host + "]:" + port : host + ":" + port;
    }
  }

  public static final int DEFAULT_MAX_ATTEMPTS = 3;

  /**
   * Looks a gateway's host name up: every address it has now. Called before each connection
   * attempt, reconnects included, so a DNS change is followed (see {@link #resolver()}).
   */
  @FunctionalInterface
  public interface Resolver {
    java.net.InetAddress[] resolve(String host) throws java.net.UnknownHostException;
  }

  /** The JVM's own lookup (InetAddress; its cache keeps answers 30 s by default). */
  public static final Resolver SYSTEM_RESOLVER = java.net.InetAddress::getAllByName;

  private final String host;
  private final int port;
  private final java.util.List<Gateway> gateways;
  private final boolean everyAddress;
  private final Resolver resolver;
  private final int maxAttempts;
  private final Path certificateChain;
  private final Path privateKey;
  private final Path trustedCas;
  private final TlsProvider tlsProvider;
  private final Duration connectTimeout;
  private final Duration callTimeout;
  private final int maxFrameBytes;
  private final Duration reconnectMin;
  private final Duration reconnectMax;
  private final int maxInFlight;
  private final int maxQueued;
  private final boolean waitForConnection;
  private final Duration keepaliveInterval;
  private final Duration keepaliveTimeout;
  private final boolean keepaliveWithoutCalls;

  private ClientConfig(Builder b) {
    if (b.host == null || b.host.isBlank()) {
      throw new IllegalArgumentException("host: missing");
    }
    if (b.port < 1 || b.port > 65535) {
      throw new IllegalArgumentException("port: " + b.port + " (expected: 1..65535)");
    }
    this.host = b.host;
    this.port = b.port;
    java.util.List<Gateway> gs = new java.util.ArrayList<>();
    gs.add(new Gateway(b.host, b.port));
    for (Gateway g : b.more) {
      if (gs.contains(g)) {
        throw new IllegalArgumentException("gateway address: " + g + " is listed twice");
      }
      gs.add(g);
    }
    this.gateways = java.util.List.copyOf(gs);
    this.everyAddress = b.everyAddress;
    this.resolver = java.util.Objects.requireNonNull(b.resolver, "resolver");
    if (b.maxAttempts < 1 || b.maxAttempts > 16) {
      throw new IllegalArgumentException("maxAttempts: " + b.maxAttempts
          + " (expected: 1..16)");
    }
    this.maxAttempts = b.maxAttempts;
    this.certificateChain = Objects.requireNonNull(b.certificateChain, "certificateChain");
    this.privateKey = Objects.requireNonNull(b.privateKey, "privateKey");
    this.trustedCas = Objects.requireNonNull(b.trustedCas, "trustedCas");
    this.tlsProvider = Objects.requireNonNull(b.tlsProvider, "tlsProvider");
    this.connectTimeout = positive("connectTimeout", b.connectTimeout);
    this.callTimeout = positive("callTimeout", b.callTimeout);
    if (b.maxFrameBytes < 64) {
      throw new IllegalArgumentException("maxFrameBytes: " + b.maxFrameBytes
          + " (expected: >= 64)");
    }
    this.maxFrameBytes = b.maxFrameBytes;
    this.reconnectMin = positive("reconnectMin", b.reconnectMin);
    this.reconnectMax = positive("reconnectMax", b.reconnectMax);
    if (reconnectMax.compareTo(reconnectMin) < 0) {
      throw new IllegalArgumentException("reconnectMax: " + reconnectMax
          + " (expected: >= reconnectMin " + reconnectMin + ")");
    }
    if (b.maxInFlight < 1) {
      throw new IllegalArgumentException("maxInFlight: " + b.maxInFlight + " (expected: >= 1)");
    }
    this.maxInFlight = b.maxInFlight;
    if (b.maxQueued < 0) {
      throw new IllegalArgumentException("maxQueued: " + b.maxQueued + " (expected: >= 0)");
    }
    this.maxQueued = b.maxQueued;
    this.waitForConnection = b.waitForConnection;
    this.keepaliveInterval = positive("keepaliveInterval", b.keepaliveInterval);
    this.keepaliveTimeout = positive("keepaliveTimeout", b.keepaliveTimeout);
    if (keepaliveTimeout.compareTo(keepaliveInterval) <= 0) {
      throw new IllegalArgumentException("keepaliveTimeout: " + keepaliveTimeout
          + " (expected: > keepaliveInterval " + keepaliveInterval + ", so a ping has time to"
          + " be answered)");
    }
    this.keepaliveWithoutCalls = b.keepaliveWithoutCalls;
  }

  private static Duration positive(String name, Duration d) {
    Objects.requireNonNull(d, name);
    if (d.isNegative() || d.isZero()) {
      throw new IllegalArgumentException(name + ": " + d + " (expected: > 0)");
    }
    return d;
  }

  public static Builder builder() {
    return new Builder();
  }

  /** The gateway's host name or address; also the name its certificate must carry. */
  public String host() {
    return host;
  }

  public int port() {
    return port;
  }

  /**
   * Every gateway the client connects to, the first being {@link #host()}:{@link #port()}.
   * With more than one, the client keeps a connection to each, spreads requests over those
   * that are up, and sends a request that failed on one to another when that is safe (see
   * {@link BeamgateClient}, Failover).
   */
  public java.util.List<Gateway> gateways() {
    return gateways;
  }

  /**
   * Whether each gateway's host name is resolved to all its addresses (at start, and again at
   * each reconnect: see {@link #resolver()}), with one connection to each (a DNS name with
   * several records standing for several gateways; each must present a certificate naming
   * the host). Default false: one connection per gateway.
   */
  public boolean everyAddress() {
    return everyAddress;
  }

  /**
   * How gateway host names are looked up (default {@link #SYSTEM_RESOLVER}). A name is looked
   * up again before each connection attempt, reconnects included, never only once at start:
   * a gateway moved to another address is reached at the next reconnect. With
   * {@link #everyAddress()}, each reconnect of one of the name's connections looks the name up
   * again: a new address gets a connection of its own, and a connection whose address is no
   * longer listed is closed instead of being redialled (one still up is kept until it drops).
   * A lookup that fails keeps the addresses already known. Tests and service-discovery setups
   * may plug their own.
   */
  public Resolver resolver() {
    return resolver;
  }

  /**
   * How many gateways one request may be tried on, the first included (1..16, default 3):
   * a request that was not sent, or a ping or idempotent call whose outcome is unknown, is
   * tried on another gateway while attempts and its timeout remain.
   */
  public int maxAttempts() {
    return maxAttempts;
  }

  /** PEM: the client's certificate, then its intermediates. */
  public Path certificateChain() {
    return certificateChain;
  }

  /** PEM, PKCS#8, unencrypted, readable by its owner only (refused otherwise). */
  public Path privateKey() {
    return privateKey;
  }

  /** PEM bundle of the CAs that may issue the gateway's certificate. */
  public Path trustedCas() {
    return trustedCas;
  }

  /** Default {@link TlsProvider#AUTO}. */
  public TlsProvider tlsProvider() {
    return tlsProvider;
  }

  /** For the TCP connection, and again for the TLS handshake. Default 5 s. */
  public Duration connectTimeout() {
    return connectTimeout;
  }

  /** The timeout of requests made without one. Default 30 s. */
  public Duration callTimeout() {
    return callTimeout;
  }

  /**
   * The largest frame sent or accepted: a larger request fails with FRAME_TOO_LARGE without
   * being sent; a larger answer closes the connection (requests in flight on it fail with
   * FRAME_TOO_LARGE). Default 1 MiB, the gateway's default.
   */
  public int maxFrameBytes() {
    return maxFrameBytes;
  }

  /** The first wait before reconnecting. Default 100 ms. */
  public Duration reconnectMin() {
    return reconnectMin;
  }

  /** The longest wait before reconnecting. Default 10 s. */
  public Duration reconnectMax() {
    return reconnectMax;
  }

  /**
   * Requests in flight at once on the connection; more wait in the queue. Default 1000, the
   * gateway's default.
   */
  public int maxInFlight() {
    return maxInFlight;
  }

  /**
   * Requests waiting to be sent (for the connection, or for a free slot); past that, a
   * request fails at once with RESOURCE_EXHAUSTED. Default 10 000.
   */
  public int maxQueued() {
    return maxQueued;
  }

  /**
   * True (the default): a request made while the client is disconnected waits for the next
   * connection, up to its timeout. False: it fails at once with the last connection failure
   * (CONNECTION or TLS). Either way, requests made while the first connection is being set up
   * wait for it.
   */
  public boolean waitForConnection() {
    return waitForConnection;
  }

  /**
   * A connection silent this long while requests are in flight gets a ping. Default 10 s.
   */
  public Duration keepaliveInterval() {
    return keepaliveInterval;
  }

  /**
   * A connection silent this long while requests are in flight is dead: its requests fail at
   * once (calls, casts and sends with OUTCOME_UNKNOWN) and the client reconnects. It catches
   * what TCP does not (a partition that drops packets without a reset). Default 20 s; must be
   * above {@link #keepaliveInterval()}. The gateway stops reading a connection that has its
   * {@code max_in_flight_per_connection} requests in flight, pings too: keep this above the
   * longest call when the client can fill that limit.
   */
  public Duration keepaliveTimeout() {
    return keepaliveTimeout;
  }

  /**
   * Whether an idle connection (nothing in flight) is pinged and given up too. Default false:
   * an idle connection is left to the gateway's {@code idle_timeout_ms}, which pings would
   * otherwise defeat; a dead idle connection is then found by the first request on it.
   */
  public boolean keepaliveWithoutCalls() {
    return keepaliveWithoutCalls;
  }

  @Override
  public String toString() {
    return "ClientConfig[" + gateways.stream().map(Gateway::toString)
        .collect(java.util.stream.Collectors.joining(", ")) + ", cert " + certificateChain + ", key "
        + privateKey + ", cas " + trustedCas + ", " + tlsProvider + "]";
  }

  /** Builds a {@link ClientConfig}. */
  public static final class Builder {
    private String host;
    private int port;
    private Path certificateChain;
    private Path privateKey;
    private Path trustedCas;
    private TlsProvider tlsProvider = TlsProvider.AUTO;
    private Duration connectTimeout = DEFAULT_CONNECT_TIMEOUT;
    private Duration callTimeout = DEFAULT_CALL_TIMEOUT;
    private int maxFrameBytes = DEFAULT_MAX_FRAME_BYTES;
    private Duration reconnectMin = DEFAULT_RECONNECT_MIN;
    private Duration reconnectMax = DEFAULT_RECONNECT_MAX;
    private int maxInFlight = DEFAULT_MAX_IN_FLIGHT;
    private int maxQueued = DEFAULT_MAX_QUEUED;
    private boolean waitForConnection = true;
    private Duration keepaliveInterval = DEFAULT_KEEPALIVE_INTERVAL;
    private Duration keepaliveTimeout = DEFAULT_KEEPALIVE_TIMEOUT;
    private boolean keepaliveWithoutCalls;
    private final java.util.List<Gateway> more = new java.util.ArrayList<>();
    private boolean everyAddress;
    private Resolver resolver = SYSTEM_RESOLVER;
    private int maxAttempts = DEFAULT_MAX_ATTEMPTS;

    private Builder() {}

    /**
     * Several gateways, each {@code HOST:PORT} as in {@link #gateway(String)}: the client
     * connects to all and fails over between them. Replaces any address set before.
     */
    public Builder gateways(java.util.List<String> hostPorts) {
      if (hostPorts.isEmpty()) {
        throw new IllegalArgumentException("gateways: empty (expected: at least one"
            + " HOST:PORT)");
      }
      java.util.List<Gateway> parsed = new java.util.ArrayList<>();
      for (String hp : hostPorts) {
        gateway(hp);
        parsed.add(new Gateway(host, port));
      }
      Gateway first = parsed.remove(0);
      this.host = first.host();
      this.port = first.port();
      more.clear();
      more.addAll(parsed);
      return this;
    }

    public Builder gateways(String... hostPorts) {
      return gateways(java.util.List.of(hostPorts));
    }

    /** See {@link ClientConfig#everyAddress()}. */
    public Builder everyAddress(boolean b) {
      this.everyAddress = b;
      return this;
    }

    /** See {@link ClientConfig#resolver()}. */
    public Builder resolver(Resolver r) {
      this.resolver = java.util.Objects.requireNonNull(r, "resolver");
      return this;
    }

    /** See {@link ClientConfig#maxAttempts()}. */
    public Builder maxAttempts(int n) {
      this.maxAttempts = n;
      return this;
    }

    public Builder host(String host) {
      this.host = host;
      return this;
    }

    public Builder port(int port) {
      this.port = port;
      return this;
    }

    /**
     * {@code HOST:PORT}, with an IPv6 address in brackets ({@code [::1]:9443}).
     *
     * @throws IllegalArgumentException naming what is wrong
     */
    public Builder gateway(String hostPort) {
      Objects.requireNonNull(hostPort, "hostPort");
      int colon = hostPort.lastIndexOf(':');
      if (colon <= 0 || colon == hostPort.length() - 1) {
        throw new IllegalArgumentException("gateway address: '" + hostPort
            + "' (expected: HOST:PORT)");
      }
      String h = hostPort.substring(0, colon);
      if (h.startsWith("[") && h.endsWith("]")) {
        h = h.substring(1, h.length() - 1);
      } else if (h.contains(":")) {
        throw new IllegalArgumentException("gateway address: '" + hostPort
            + "' (expected: an IPv6 address in brackets, e.g. [::1]:9443)");
      }
      int p;
      try {
        p = Integer.parseInt(hostPort.substring(colon + 1));
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException("gateway address: '" + hostPort
            + "' (expected: a port number after the colon)");
      }
      if (h.isEmpty() || p < 1 || p > 65535) {
        throw new IllegalArgumentException("gateway address: '" + hostPort
            + "' (expected: HOST:PORT with PORT 1..65535)");
      }
      this.host = h;
      this.port = p;
      return this;
    }

    /** The client's certificate chain (PEM), its private key (PKCS#8 PEM), the CAs (PEM). */
    public Builder tls(Path certificateChain, Path privateKey, Path trustedCas) {
      this.certificateChain = certificateChain;
      this.privateKey = privateKey;
      this.trustedCas = trustedCas;
      return this;
    }

    public Builder tlsProvider(TlsProvider p) {
      this.tlsProvider = p;
      return this;
    }

    public Builder connectTimeout(Duration d) {
      this.connectTimeout = d;
      return this;
    }

    public Builder callTimeout(Duration d) {
      this.callTimeout = d;
      return this;
    }

    public Builder maxFrameBytes(int n) {
      this.maxFrameBytes = n;
      return this;
    }

    /** Reconnect waits double from {@code min} up to {@code max}, each randomised. */
    public Builder reconnectBackoff(Duration min, Duration max) {
      this.reconnectMin = min;
      this.reconnectMax = max;
      return this;
    }

    public Builder maxInFlight(int n) {
      this.maxInFlight = n;
      return this;
    }

    public Builder maxQueued(int n) {
      this.maxQueued = n;
      return this;
    }

    public Builder waitForConnection(boolean wait) {
      this.waitForConnection = wait;
      return this;
    }

    /** Ping a connection silent for {@code interval}; give it up after {@code timeout}. */
    public Builder keepalive(Duration interval, Duration timeout) {
      this.keepaliveInterval = interval;
      this.keepaliveTimeout = timeout;
      return this;
    }

    public Builder keepaliveWithoutCalls(boolean b) {
      this.keepaliveWithoutCalls = b;
      return this;
    }

    /** @throws IllegalArgumentException or NullPointerException naming the bad field */
    public ClientConfig build() {
      return new ClientConfig(this);
    }
  }
}
