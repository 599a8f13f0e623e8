package io.beamgate.client;

import io.beamgate.client.GatewayException.Code;
import io.beamgate.gateway.proto.Call;
import io.beamgate.gateway.proto.ClientFrame;
import io.beamgate.gateway.proto.ServerFrame;
import io.beamgate.gateway.protocol.FrameDecoder;
import io.beamgate.gateway.protocol.FrameEncoder;
import io.beamgate.gateway.protocol.FrameException;
import io.beamgate.gateway.protocol.TlsProfile;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslHandshakeTimeoutException;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.ScheduledFuture;
import java.net.ConnectException;
import java.net.UnknownHostException;
import java.nio.channels.ClosedChannelException;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLParameters;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The client's connection to its gateway, on Netty: connects, reconnects with backoff, writes
 * requests with unique ids, matches answers by id, times requests out and cancels them.
 *
 * <p>All state is confined to one event-loop thread (the client's own, one thread), so there
 * are no locks: public entry points hand their work to the loop. Futures complete on that
 * thread. Internal: the public API is {@link BeamgateClient}.
 */
final class Transport {
  private static final Logger log = LoggerFactory.getLogger(Transport.class);
  /**
   * Protobuf nesting accepted in an answer. A term level is two messages (Term, then
   * TermList/TermTuple/MapEntry), and the gateway converts at most 48 levels; twice that, with
   * room, and still far from the stack's limit.
   */
  static final int RECURSION_LIMIT = 200;
  /** A frame's bytes beyond its body: the id's tag and a varint of up to 10 bytes. */
  private static final int ID_OVERHEAD = 11;

  /** What a request is; decides how its answer is read and how a lost one is reported. */
  enum Kind {
    CALL("call"), CAST("cast"), SEND("send"), PING("ping"), CANCEL("cancel");

    final String word;

    Kind(String word) {
      this.word = word;
    }

    /** Whether losing it leaves its effect unknown (a ping or cancel changes nothing). */
    boolean hasEffect() {
      return this == CALL || this == CAST || this == SEND;
    }
  }

  /** Reads a request's answer (an Error has been handled before). */
  interface Decoder<T> {
    T decode(ServerFrame f) throws GatewayException;
  }

  private final ClientConfig config;
  private final String host;
  private final int port;
  private final java.net.InetAddress dial;
  private final boolean waitForConnection;
  private final String address;
  private final SslContext sslContext;
  private final EventLoopGroup group;
  private final EventLoop loop;
  private final Bootstrap bootstrap;
  private final Backoff backoff;
  private final CompletableFuture<Void> firstConnection = new CompletableFuture<>();
  private volatile boolean connected;

  // Confined to the loop.
  private boolean closed;
  private Channel channel;
  private Channel connecting;
  private final Map<Long, Pending<?>> inFlight = new HashMap<>();
  private final ArrayDeque<Pending<?>> queue = new ArrayDeque<>();
  /**
   * Requests (not cancels) written and not yet answered nor given up (a timed-out or
   * cancelled request frees its slot at once, though the gateway may count it until it
   * answers the cancel).
   */
  private int slotsUsed;
  /** Ids are never reused, across connections too: a late answer cannot match a new request. */
  private long nextId = 1;
  /** Why the client is not connected, while it is not (null while connected or first connecting). */
  private GatewayException lastFailure;
  private int failures;
  private ScheduledFuture<?> reconnectTimer;
  /** Whether connect() has run once: the next runs are reconnects. */
  private boolean dialled;
  /**
   * Asked before each reconnect of a transport pinned to one address of a name (everyAddress):
   * false when that address is no longer listed, and this transport closes instead.
   */
  private volatile java.util.function.BooleanSupplier beforeRedial;

  Transport(ClientConfig config) throws GatewayException {
    this(config, config.host(), config.port(), null, config.waitForConnection(),
        ClientTls.context(config));
  }

  /**
   * One connection to the gateway {@code host:port}, whose certificate must name
   * {@code host}; dialled at {@code dial} when not null (one of the host name's addresses).
   * {@code waitForConnection} false: requests fail at once while disconnected (a client with
   * several gateways sends them to another).
   */
  Transport(ClientConfig config, String host, int port, java.net.InetAddress dial,
      boolean waitForConnection, SslContext sslContext) {
    this.config = config;
    this.host = host;
    this.port = port;
    this.dial = dial;
    this.waitForConnection = waitForConnection;
    String hp = host.contains(":") ? "[" + host + "]:" + port : host + ":" + port;
    this.address = dial == null ? hp : hp + " (" + dial.getHostAddress() + ")";
    this.sslContext = sslContext;
    this.backoff = new Backoff(config.reconnectMin(), config.reconnectMax(),
        () -> ThreadLocalRandom.current().nextDouble());
    this.group = new MultiThreadIoEventLoopGroup(1,
        new DefaultThreadFactory("beamgate-client", true), NioIoHandler.newFactory());
    this.loop = group.next();
    this.bootstrap = new Bootstrap().group(loop).channel(NioSocketChannel.class)
        .option(ChannelOption.CONNECT_TIMEOUT_MILLIS,
            (int) Math.min(Integer.MAX_VALUE, config.connectTimeout().toMillis()))
        .option(ChannelOption.TCP_NODELAY, true);
  }

  String address() {
    return address;
  }

  boolean isConnected() {
    return connected;
  }

  boolean inLoop() {
    return loop.inEventLoop();
  }

  /** Completes when the first connection is up, or exceptionally when its attempt fails. */
  CompletableFuture<Void> firstConnection() {
    return firstConnection;
  }

  void start() {
    execute(this::connect);
  }

  /**
   * Sends {@code body} (a ClientFrame without its id) as a request of {@code kind}; the future
   * completes with its decoded answer, or a {@link GatewayException}.
   */
  <T> CompletableFuture<T> submit(Kind kind, ClientFrame body, Duration timeout,
      Decoder<T> decoder) {
    java.util.Objects.requireNonNull(timeout, "timeout");
    if (timeout.isNegative() || timeout.isZero()) {
      throw new IllegalArgumentException("timeout: " + timeout + " (expected: > 0)");
    }
    long size = (long) body.getSerializedSize() + ID_OVERHEAD;
    if (size > config.maxFrameBytes()) {
      return CompletableFuture.failedFuture(GatewayException.local(Code.FRAME_TOO_LARGE,
          "the " + kind.word + " is a frame of about " + size + " bytes (expected: <= "
              + config.maxFrameBytes() + ", maxFrameBytes); not sent"));
    }
    Pending<T> p = new Pending<>(this, kind, body, timeout, decoder, 0);
    if (!execute(() -> enqueue(p))) {
      p.future.completeExceptionally(closedError("before the " + kind.word + " was sent"));
    }
    return p.future;
  }

  /** Runs {@code task} on the loop; false when the loop no longer runs tasks. */
  private boolean execute(Runnable task) {
    try {
      loop.execute(task);
      return true;
    } catch (RejectedExecutionException e) {
      return false;
    }
  }

  private GatewayException closedError(String when) {
    return GatewayException.local(Code.CLOSED, "the client was closed " + when);
  }

  // ------------------------------------------------------------------ connecting

  private void connect() {
    reconnectTimer = null;
    if (closed || channel != null || connecting != null) {
      return;
    }
    java.util.function.BooleanSupplier redial = beforeRedial;
    if (dialled && redial != null && !redial.getAsBoolean()) {
      log.info("the gateway {} is no longer listed under {}: not reconnecting", address, host);
      closeOnLoop();
      group.shutdownGracefully(0, 2, TimeUnit.SECONDS);
      return;
    }
    dialled = true;
    java.net.InetSocketAddress to;
    try {
      to = target();
    } catch (UnknownHostException | RuntimeException e) {
      failures++;
      GatewayException why = connectError(e instanceof UnknownHostException ? e
          : new UnknownHostException(host + ": " + e));
      disconnected(why, why);
      return;
    }
    ConnectionHandler handler = new ConnectionHandler();
    ChannelFuture cf = bootstrap.clone().handler(new ChannelInitializer<SocketChannel>() {
      @Override
      protected void initChannel(SocketChannel ch) {
        SslHandler tls = sslContext.newHandler(ch.alloc(), host, port);
        tls.setHandshakeTimeoutMillis(config.connectTimeout().toMillis());
        // The gateway's certificate must name the host we dialled, whatever Netty's default.
        SSLEngine engine = tls.engine();
        SSLParameters params = engine.getSSLParameters();
        params.setEndpointIdentificationAlgorithm("HTTPS");
        engine.setSSLParameters(params);
        ch.pipeline().addLast("tls", tls)
            .addLast("frames", new FrameDecoder<>(ServerFrame.parser(), config.maxFrameBytes(),
                RECURSION_LIMIT))
            .addLast("encoder", FrameEncoder.INSTANCE)
            .addLast("client", handler);
        tls.handshakeFuture().addListener(f -> handshakeDone(ch, handler, tls, f));
      }
    }).connect(to);
    connecting = cf.channel();
    cf.addListener(f -> {
      if (!f.isSuccess()) {
        attemptFailed(cf.channel(), connectError(f.cause()));
      }
    });
  }

  /**
   * Where this attempt dials: the pinned address, or the host name looked up now (each
   * attempt, so a gateway that moved is followed; the first address, as a JDK lookup).
   */
  private java.net.InetSocketAddress target() throws UnknownHostException {
    if (dial != null) {
      return new java.net.InetSocketAddress(dial, port);
    }
    java.net.InetAddress[] all = config.resolver().resolve(host);
    if (all == null || all.length == 0 || all[0] == null) {
      throw new UnknownHostException(host + " has no address");
    }
    return new java.net.InetSocketAddress(all[0], port);
  }

  /** See {@link #beforeRedial}; set before {@link #start()}. */
  void beforeRedial(java.util.function.BooleanSupplier s) {
    this.beforeRedial = s;
  }

  String host() {
    return host;
  }

  int port() {
    return port;
  }

  /** The address this transport is pinned to, or null (the host name, looked up each time). */
  java.net.InetAddress dial() {
    return dial;
  }

  private GatewayException connectError(Throwable cause) {
    String why;
    if (cause instanceof UnknownHostException) {
      why = "unknown host " + host;
    } else if (cause instanceof io.netty.channel.ConnectTimeoutException) {
      why = "no answer within " + config.connectTimeout().toMillis() + " ms";
    } else if (cause instanceof ConnectException) {
      why = "connection refused";
    } else {
      why = String.valueOf(cause.getMessage());
    }
    return GatewayException.local(Code.CONNECTION, "cannot connect to the gateway "
        + address + ": " + why, cause);
  }

  private void handshakeDone(Channel ch, ConnectionHandler h, SslHandler tls,
      Future<? super Channel> f) {
    if (connecting != ch) {
      ch.close();
      return;
    }
    if (!f.isSuccess()) {
      if (!h.active) {
        return; // the connect itself failed; its listener reports it
      }
      attemptFailed(ch, handshakeError(f.cause()));
      ch.close();
      return;
    }
    String alpn = tls.applicationProtocol();
    if (!TlsProfile.ALPN.equals(alpn)) {
      attemptFailed(ch, GatewayException.local(Code.TLS, "the server at " + address
          + " does not speak " + TlsProfile.ALPN + " (ALPN: " + alpn + ")"));
      ch.close();
      return;
    }
    connecting = null;
    channel = ch;
    connected = true;
    lastFailure = null;
    h.upSince = System.nanoTime();
    h.keepalive = new Keepalive(config, h.upSince);
    long period = h.keepalive.checkPeriodNanos();
    h.keepaliveTimer = loop.scheduleAtFixedRate(() -> keepaliveCheck(ch, h), period, period,
        TimeUnit.NANOSECONDS);
    log.debug("connected to the gateway {}", address);
    firstConnection.complete(null);
    drain();
  }

  private GatewayException handshakeError(Throwable cause) {
    if (cause instanceof SslHandshakeTimeoutException) {
      return GatewayException.local(Code.CONNECTION, "TLS handshake with the gateway "
          + address + " not complete within " + config.connectTimeout().toMillis() + " ms",
          cause);
    }
    if (cause instanceof ClosedChannelException) {
      // A connection cut before the handshake ends is the network's or a restarting
      // gateway's doing (a refused certificate comes as an alert): worth a retry, not TLS.
      return GatewayException.local(Code.CONNECTION, "the gateway " + address
          + " closed the connection during the TLS handshake", cause);
    }
    SSLException ssl = sslCause(cause);
    return GatewayException.local(Code.TLS, "TLS handshake with the gateway " + address
        + " failed: " + describe(ssl != null ? ssl : cause), cause);
  }

  private static SSLException sslCause(Throwable t) {
    for (Throwable c = t; c != null; c = c.getCause()) {
      if (c instanceof SSLException s) {
        return s;
      }
    }
    return null;
  }

  /** The innermost message: the JDK nests the useful one ("PKIX path building failed..."). */
  private static String describe(Throwable t) {
    String msg = t.getMessage();
    for (Throwable c = t.getCause(); c != null; c = c.getCause()) {
      if (c.getMessage() != null) {
        msg = c.getMessage();
      }
    }
    return msg == null ? t.getClass().getSimpleName() : msg;
  }

  private void attemptFailed(Channel ch, GatewayException e) {
    if (connecting != ch) {
      return;
    }
    connecting = null;
    failures++;
    disconnected(e, e);
  }

  /** Not connected any more (or still not): record why, and try again later. */
  private void disconnected(GatewayException why, GatewayException toLog) {
    connected = false;
    // Once per outage at INFO (the caller sees each failure in its futures anyway).
    if (lastFailure == null) {
      log.info("{}", toLog.getMessage());
    } else {
      log.debug("{}", toLog.getMessage());
    }
    lastFailure = why;
    firstConnection.completeExceptionally(why);
    if (!waitForConnection) {
      List<Pending<?>> waiting = new ArrayList<>(queue);
      queue.clear();
      for (Pending<?> p : waiting) {
        p.fail(notConnected(p, "while disconnected"));
      }
    }
    if (!closed) {
      long delay = backoff.delayNanos(Math.max(0, failures - 1));
      log.debug("reconnecting to {} in {} ms", address, TimeUnit.NANOSECONDS.toMillis(delay));
      reconnectTimer = loop.schedule(this::connect, delay, TimeUnit.NANOSECONDS);
    }
  }

  private GatewayException notConnected(Pending<?> p, String when) {
    if (lastFailure == null) {
      return GatewayException.local(Code.CONNECTION, "the " + p.kind.word + " was not sent "
          + when + ": still connecting to the gateway " + address);
    }
    return lastFailure.withCodeAndMessage(lastFailure.code(), "the " + p.kind.word
        + " was not sent " + when + ": " + stripCode(lastFailure));
  }

  private static String stripCode(GatewayException e) {
    String m = e.getMessage();
    String prefix = e.code() + ": ";
    return m.startsWith(prefix) ? m.substring(prefix.length()) : m;
  }

  // ------------------------------------------------------------------ requests

  private void enqueue(Pending<?> p) {
    if (closed) {
      p.fail(closedError("before the " + p.kind.word + " was sent"));
      return;
    }
    if (p.future.isDone()) {
      return; // cancelled before it got here
    }
    p.timer = loop.schedule(() -> expire(p), Math.max(0, p.deadline - System.nanoTime()),
        TimeUnit.NANOSECONDS);
    if (channel == null && lastFailure != null && !waitForConnection) {
      p.fail(notConnected(p, "while disconnected"));
      return;
    }
    boolean sendable = channel != null && queue.isEmpty() && slotsUsed < config.maxInFlight()
        && channel.isWritable();
    if (!sendable && queue.size() >= config.maxQueued()) {
      p.fail(GatewayException.local(Code.RESOURCE_EXHAUSTED, queue.size()
          + " requests already wait to be sent (maxQueued); the " + p.kind.word
          + " was not sent"));
      return;
    }
    queue.add(p);
    drain();
  }

  /** Writes queued requests while there are free slots and the socket keeps up. */
  private void drain() {
    if (channel == null) {
      return;
    }
    boolean wrote = false;
    while (!queue.isEmpty() && slotsUsed < config.maxInFlight() && channel.isWritable()) {
      Pending<?> p = queue.poll();
      if (p.future.isDone()) {
        continue;
      }
      write(p);
      wrote = true;
    }
    if (wrote) {
      channel.flush();
    }
  }

  private void write(Pending<?> p) {
    long id = nextId++;
    p.id = id;
    if (inFlight.isEmpty()) {
      handler().keepalive.busy(System.nanoTime());
    }
    inFlight.put(id, p);
    if (p.kind != Kind.CANCEL) {
      slotsUsed++;
      p.holdsSlot = true;
    }
    long remainingMs = TimeUnit.NANOSECONDS.toMillis(p.deadline - System.nanoTime());
    channel.write(p.frame(id, remainingMs)).addListener(f -> {
      if (!f.isSuccess()) {
        writeFailed(p, f.cause());
      }
    });
  }

  private void writeFailed(Pending<?> p, Throwable cause) {
    if (inFlight.get(p.id) != p) {
      return;
    }
    inFlight.remove(p.id);
    releaseSlot(p);
    p.fail(GatewayException.local(Code.CONNECTION, "the " + p.kind.word
        + " was not sent: the connection to the gateway " + address + " failed ("
        + describe(cause) + ")", cause));
  }

  private void expire(Pending<?> p) {
    if (p.future.isDone()) {
      return;
    }
    long ms = TimeUnit.NANOSECONDS.toMillis(p.timeoutNanos);
    if (p.id == 0) {
      queue.remove(p);
      if (channel == null) {
        p.fail(notConnected(p, "within " + ms + " ms"));
      } else {
        p.fail(GatewayException.local(Code.RESOURCE_EXHAUSTED, "the " + p.kind.word
            + " was not sent within " + ms + " ms: " + slotsUsed
            + " requests in flight (maxInFlight " + config.maxInFlight() + ")"));
      }
      return;
    }
    boolean live = inFlight.get(p.id) == p;
    p.fail(GatewayException.local(Code.TIMEOUT, "no answer from the gateway within " + ms
        + " ms" + (live ? "; cancel sent" : "") + " (the " + p.kind.word
        + " may still have run)"));
    if (live) {
      sendCancel(p);
      releaseSlot(p);
      drain();
    }
  }

  /**
   * Frees {@code p}'s slot (once): the caller has its answer or gave up on it. A request
   * given up stays in {@link #inFlight} until the gateway answers it or its cancel, so a late
   * answer is recognised and dropped.
   */
  private void releaseSlot(Pending<?> p) {
    if (p.holdsSlot) {
      p.holdsSlot = false;
      slotsUsed--;
    }
  }

  /** The user cancelled {@code p}'s future. */
  private void cancelled(Pending<?> p) {
    if (p.timer != null) {
      p.timer.cancel(false);
    }
    if (p.id == 0) {
      queue.remove(p);
    } else if (inFlight.get(p.id) == p) {
      sendCancel(p);
      releaseSlot(p);
      drain();
    }
  }

  /** Asks the gateway to stop waiting for {@code target}. */
  private void sendCancel(Pending<?> target) {
    if (target.cancelSent || channel == null) {
      return;
    }
    target.cancelSent = true;
    ClientFrame body = ClientFrame.newBuilder().setCancel(
        io.beamgate.gateway.proto.Cancel.newBuilder().setTarget(target.id)).build();
    Pending<Void> c = new Pending<>(this, Kind.CANCEL, body, null, f -> null, target.id);
    write(c);
    channel.flush();
  }

  // ------------------------------------------------------------------ answers and drops

  private void onFrame(Channel ch, ConnectionHandler h, ServerFrame f) {
    h.frameRead = true;
    if (h.keepalive != null) {
      h.keepalive.read(System.nanoTime());
    }
    if (f.getId() != 0 && f.getId() == h.keepalivePing) {
      h.keepalivePing = 0;
      return; // our keepalive's pong
    }
    if (f.getId() == 0) {
      h.closeReason = f.hasError() ? GatewayException.fromError(f.getError())
          : GatewayException.local(Code.PROTOCOL_ERROR, "the gateway sent an answer with id 0"
              + " that is not an error");
      ch.close();
      return;
    }
    if (ch != channel) {
      return;
    }
    Pending<?> p = inFlight.remove(f.getId());
    if (p == null) {
      log.debug("answer for id {}, which is not in flight; ignored", f.getId());
      return;
    }
    h.answered = true;
    releaseSlot(p);
    if (p.kind == Kind.CANCEL) {
      Pending<?> target = inFlight.get(p.cancelTarget);
      if (target != null && target.future.isDone()) {
        // The gateway is done with the target: it answered before this, or never will.
        inFlight.remove(target.id);
        releaseSlot(target);
      }
    }
    p.answer(f);
    drain();
  }

  private void onException(Channel ch, ConnectionHandler h, Throwable cause) {
    if (cause instanceof FrameException fe) {
      if (h.closeReason == null) {
        h.closeReason = GatewayException.local(fe.kind() == FrameException.Kind.TOO_LARGE
            ? Code.FRAME_TOO_LARGE : Code.PROTOCOL_ERROR, "the gateway " + address
            + " sent a frame this client refuses: " + fe.getMessage() + "; connection closed",
            fe);
      }
    } else if (sslCause(cause) != null) {
      h.failure = sslCause(cause);
      h.tlsFailure = true;
    } else if (h.failure == null) {
      h.failure = cause;
    }
    ch.close();
  }

  private void onInactive(Channel ch, ConnectionHandler h) {
    if (h.keepaliveTimer != null) {
      h.keepaliveTimer.cancel(false);
    }
    if (ch != channel) {
      return;
    }
    channel = null;
    GatewayException why = dropReason(h);
    long up = System.nanoTime() - h.upSince;
    boolean stable = h.answered || up >= config.reconnectMax().toNanos();
    failures = stable ? 0 : failures + 1;
    List<Pending<?>> lost = new ArrayList<>(inFlight.values());
    inFlight.clear();
    slotsUsed = 0;
    for (Pending<?> p : lost) {
      if (p.future.isDone()) {
        continue;
      }
      if (why.code() == Code.CONNECTION && p.kind.hasEffect()) {
        p.fail(why.withCodeAndMessage(Code.OUTCOME_UNKNOWN, "the connection to the gateway "
            + address + " was lost with the " + p.kind.word + " in flight: it may or may not"
            + " have run (" + stripCode(why) + ")"));
      } else if (why.code() == Code.TLS) {
        p.fail(why.withCodeAndMessage(why.code(), stripCode(why))); // it was never read
      } else {
        p.fail(why.withCodeAndMessage(why.code(), "the " + p.kind.word + " was in flight: "
            + stripCode(why)));
      }
    }
    // A full gateway (limits.max_connections) read nothing from this connection: waiting
    // requests fail with its reason and code, as those in flight do.
    Code queueCode = why.code() == Code.TLS || why.code() == Code.RESOURCE_EXHAUSTED
        ? why.code() : Code.CONNECTION;
    disconnected(why.withCodeAndMessage(queueCode, stripCode(why)), why);
  }

  private GatewayException dropReason(ConnectionHandler h) {
    if (h.closeReason != null) {
      if (h.closeReason.fromGateway()) {
        return h.closeReason.withCodeAndMessage(h.closeReason.code(), "the gateway " + address
            + " closed the connection: " + stripCode(h.closeReason));
      }
      return h.closeReason;
    }
    if (h.tlsFailure && !h.frameRead) {
      // TLS 1.3: the gateway checks our certificate after our side of the handshake is done,
      // so its refusal arrives as an alert on the first read. It never read our requests.
      return GatewayException.local(Code.TLS, "the gateway " + address
          + " refused the TLS session: " + describe(h.failure), h.failure);
    }
    String cause = h.failure == null ? "closed by the peer" : describe(h.failure);
    return GatewayException.local(Code.CONNECTION, "connection to the gateway " + address
        + " lost: " + cause, h.failure);
  }

  // ------------------------------------------------------------------ keepalive

  private ConnectionHandler handler() {
    return (ConnectionHandler) channel.pipeline().get("client");
  }

  /** Pings a silent connection; gives up one silent past keepaliveTimeout. */
  private void keepaliveCheck(Channel ch, ConnectionHandler h) {
    if (ch != channel) {
      return;
    }
    long now = System.nanoTime();
    boolean busy = !inFlight.isEmpty() || !queue.isEmpty();
    switch (h.keepalive.check(now, busy)) {
      case PING:
        if (h.keepalivePing == 0) {
          h.keepalivePing = nextId++;
          ch.writeAndFlush(ClientFrame.newBuilder().setId(h.keepalivePing)
              .setPing(io.beamgate.gateway.proto.Ping.getDefaultInstance()).build());
        }
        break;
      case DEAD:
        String why = "no frame from the gateway " + address + " for "
            + h.keepalive.silentMillis(now) + " ms, pings included (keepaliveTimeout "
            + config.keepaliveTimeout().toMillis() + " ms): the connection is presumed dead";
        log.info("{}; closing it and reconnecting", why);
        h.closeReason = GatewayException.local(Code.CONNECTION, why);
        // Fail what is in flight now: closing a connection whose peer is unreachable may
        // wait for TLS's close_notify to flush.
        onInactive(ch, h);
        ch.close();
        break;
      case NOTHING:
      default:
        break;
    }
  }

  // ------------------------------------------------------------------ closing

  /** Fails every request with CLOSED, closes the connection and stops the I/O thread. */
  void close() {
    if (execute(this::closeOnLoop)) {
      Future<?> done = group.shutdownGracefully(0, 2, TimeUnit.SECONDS);
      if (!loop.inEventLoop()) {
        done.awaitUninterruptibly(5, TimeUnit.SECONDS);
      }
    }
  }

  private void closeOnLoop() {
    if (closed) {
      return;
    }
    closed = true;
    connected = false;
    if (reconnectTimer != null) {
      reconnectTimer.cancel(false);
    }
    List<Pending<?>> waiting = new ArrayList<>(queue);
    queue.clear();
    for (Pending<?> p : waiting) {
      p.fail(closedError("before the " + p.kind.word + " was sent"));
    }
    List<Pending<?>> lost = new ArrayList<>(inFlight.values());
    inFlight.clear();
    slotsUsed = 0;
    for (Pending<?> p : lost) {
      p.fail(closedError("with the " + p.kind.word + " in flight"
          + (p.kind.hasEffect() ? " (it may have run)" : "")));
    }
    firstConnection.completeExceptionally(closedError("before it connected"));
    if (channel != null) {
      channel.close();
      channel = null;
    }
    if (connecting != null) {
      connecting.close();
      connecting = null;
    }
  }

  // ------------------------------------------------------------------ per connection

  /** One connection's handler and what was seen on it. */
  private final class ConnectionHandler extends SimpleChannelInboundHandler<ServerFrame> {
    boolean active;
    boolean frameRead;
    boolean answered;
    boolean tlsFailure;
    long upSince;
    Throwable failure;
    GatewayException closeReason;
    Keepalive keepalive;
    ScheduledFuture<?> keepaliveTimer;
    /** The id of the keepalive ping awaiting its pong (0: none). */
    long keepalivePing;

    @Override
    public void channelActive(ChannelHandlerContext ctx) throws Exception {
      active = true;
      super.channelActive(ctx);
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, ServerFrame f) {
      onFrame(ctx.channel(), this, f);
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
      if (ctx.channel() == channel && ctx.channel().isWritable()) {
        drain();
      }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      onException(ctx.channel(), this, cause);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
      onInactive(ctx.channel(), this);
    }
  }

  /** A request: its frame body, deadline, future and what the loop knows of it. */
  static final class Pending<T> {
    final Kind kind;
    final ClientFrame body;
    final long timeoutNanos;
    final long deadline;
    final Decoder<T> decoder;
    final RequestFuture<T> future;
    /** For a cancel: the id it cancels. */
    final long cancelTarget;
    /** 0 until written. */
    long id;
    ScheduledFuture<?> timer;
    boolean cancelSent;
    /** Counted in slotsUsed. */
    boolean holdsSlot;

    Pending(Transport transport, Kind kind, ClientFrame body, Duration timeout,
        Decoder<T> decoder, long cancelTarget) {
      this.kind = kind;
      this.body = body;
      this.timeoutNanos = timeout == null ? Long.MAX_VALUE : saturatedNanos(timeout);
      long now = System.nanoTime();
      this.deadline = timeout == null ? now + Long.MAX_VALUE / 2
          : now + Math.min(timeoutNanos, Long.MAX_VALUE / 2);
      this.decoder = decoder;
      this.cancelTarget = cancelTarget;
      this.future = new RequestFuture<>(transport, this);
    }

    private static long saturatedNanos(Duration d) {
      try {
        return d.toNanos();
      } catch (ArithmeticException e) {
        return Long.MAX_VALUE;
      }
    }

    /** The frame to write: the body with its id, and a call's remaining time for the gateway. */
    ClientFrame frame(long id, long remainingMs) {
      ClientFrame.Builder b = body.toBuilder().setId(id);
      if (kind == Kind.CALL) {
        long ms = Math.max(1, Math.min(remainingMs, 0xFFFF_FFFFL));
        Call call = body.getCall().toBuilder().setTimeoutMs((int) ms).build();
        b.setCall(call);
      }
      return b.build();
    }

    void answer(ServerFrame f) {
      if (timer != null) {
        timer.cancel(false);
      }
      if (f.hasError()) {
        future.completeExceptionally(GatewayException.fromError(f.getError()));
        return;
      }
      try {
        future.complete(decoder.decode(f));
      } catch (GatewayException e) {
        future.completeExceptionally(e);
      }
    }

    void fail(GatewayException e) {
      if (timer != null) {
        timer.cancel(false);
      }
      future.completeExceptionally(e);
    }
  }

  /** A request's future; cancelling it cancels the request at the gateway too. */
  static final class RequestFuture<T> extends CompletableFuture<T> {
    private final Transport transport;
    private final Pending<T> pending;

    RequestFuture(Transport transport, Pending<T> pending) {
      this.transport = transport;
      this.pending = pending;
    }

    @Override
    public boolean cancel(boolean mayInterruptIfRunning) {
      boolean cancelled = super.cancel(mayInterruptIfRunning);
      if (cancelled) {
        transport.execute(() -> transport.cancelled(pending));
      }
      return cancelled;
    }
  }
}
