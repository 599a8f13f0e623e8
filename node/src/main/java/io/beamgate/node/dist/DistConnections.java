package io.beamgate.node.dist;

import io.beamgate.node.NodeName;
import io.beamgate.node.dist.HandshakeException.Reason;
import io.beamgate.node.epmd.EpmdClient;
import io.beamgate.node.epmd.EpmdException;
import io.beamgate.node.epmd.NodeEntry;
import io.beamgate.node.etf.EtfEncoder;
import io.beamgate.node.term.Term;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import java.util.ArrayDeque;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The node's distribution connections, one per peer name: connects on first send, queues what is
 * sent until the handshake completes, resolves simultaneous connects as net_kernel does, and
 * reports up and down to the {@link Dispatcher}. Internal to the node.
 */
public final class DistConnections {
  private static final Logger log = LoggerFactory.getLogger(DistConnections.class);
  private static final int PASS_THROUGH = 112;

  /**
   * Read buffers that grow to 1 MiB for connections carrying large messages (Netty's default
   * stops at 64 KiB), so a large frame takes fewer reads and copies.
   */
  public static final io.netty.channel.AdaptiveRecvByteBufAllocator RECEIVE_BUFFERS =
      new io.netty.channel.AdaptiveRecvByteBufAllocator(512, 16 * 1024, 1 << 20);

  private final DistSettings settings;
  private final EventLoopGroup group;
  private final Executor blocking;
  private final Dispatcher dispatcher;
  private volatile int creation;
  // Written under the DistConnections lock; read without it on the send fast path.
  private final Map<String, PeerState> peers = new java.util.concurrent.ConcurrentHashMap<>();
  private final Map<String, Integer> staticPorts = new java.util.concurrent.ConcurrentHashMap<>();
  private volatile boolean closed;

  private static final class PeerState {
    final String name;
    volatile Channel channel;
    volatile boolean up;
    volatile Handshake.Peer info;
    final ArrayDeque<Encoded> pending = new ArrayDeque<>();
    long pendingBytes;
    final CompletableFuture<Handshake.Peer> upFuture = new CompletableFuture<>();

    PeerState(String name) {
      this.name = name;
    }
  }

  public DistConnections(DistSettings settings, EventLoopGroup group, Executor blocking,
      Dispatcher dispatcher) {
    this.settings = settings;
    this.group = group;
    this.blocking = blocking;
    this.dispatcher = dispatcher;
  }

  /**
   * Byte caps on the payload of the exit or DOWN signal a monitor reference will bring (an
   * erpc call's answer, say): a larger payload is not decoded (see {@link #payloadLimit}).
   */
  private final Map<io.beamgate.node.term.Ref, Long> payloadLimits =
      new java.util.concurrent.ConcurrentHashMap<>();

  /** The tag of what stands for a payload over its cap: {@code {Tag, Bytes}}. */
  public static final String PAYLOAD_TOO_LARGE = "$beamgate_payload_too_large";

  /** Caps the payload of the DOWN that {@code ref} brings at {@code maxBytes}. */
  public void limitPayload(io.beamgate.node.term.Ref ref, long maxBytes) {
    payloadLimits.put(ref, maxBytes);
  }

  public void clearPayloadLimit(io.beamgate.node.term.Ref ref) {
    payloadLimits.remove(ref);
  }

  /** The cap on the payload of a DOWN for {@code ref}, or null. */
  Long payloadLimit(io.beamgate.node.term.Ref ref) {
    return payloadLimits.get(ref);
  }

  private final java.util.concurrent.atomic.AtomicLong droppedInbound =
      new java.util.concurrent.atomic.AtomicLong();

  /** Messages received but dropped for a limit (their connection stayed up). */
  public long droppedInbound() {
    return droppedInbound.get();
  }

  void countDropped() {
    droppedInbound.incrementAndGet();
  }

  public DistSettings settings() {
    return settings;
  }

  /** Set once EPMD has given the creation, before any connection is made or accepted. */
  public void creation(int creation) {
    this.creation = creation;
  }

  public int creation() {
    return creation;
  }

  /** The initializer for accepted sockets. */
  public ChannelInitializer<SocketChannel> acceptor() {
    return new ChannelInitializer<>() {
      @Override
      protected void initChannel(SocketChannel ch) {
        if (closed) {
          ch.close();
          return;
        }
        DistFrameDecoder decoder = new DistFrameDecoder(settings.maxFrameBytes());
        Handshake hs = Handshake.acceptor(settings.nodeName(), settings.flags(), creation,
            settings.cookie(), name -> onAccepting(name, ch));
        ch.pipeline().addLast("frame", decoder)
            .addLast("dist", new DistChannelHandler(DistConnections.this, hs, decoder));
      }
    };
  }

  /** Sends a control message and payload to {@code node}, connecting first if needed. */
  public void send(String node, ControlMessage control, Term payload) {
    PeerState fast = peers.get(node);
    if (fast != null && fast.up && fast.info != null
        && (fast.info.flags() & DistFlags.EXIT_PAYLOAD) != 0 && payload == null) {
      // Exit reasons go as payloads, as erts sends them: a large reason inside the control
      // message is refused by erts as a corrupted term.
      if (control instanceof ControlMessage.Exit e) {
        control = new ControlMessage.PayloadExit(e.from(), e.to(), false);
        payload = e.reason();
      } else if (control instanceof ControlMessage.Exit2 e) {
        control = new ControlMessage.PayloadExit(e.from(), e.to(), true);
        payload = e.reason();
      } else if (control instanceof ControlMessage.MonitorPExit m) {
        control = new ControlMessage.PayloadMonitorPExit(m.fromProc(), m.to(), m.ref());
        payload = m.reason();
      }
    }
    if (fast != null && fast.up) {
      // Up connections need no lock: frames queued before "up" were written while it was set.
      Channel ch = fast.channel;
      Handshake.Peer info = fast.info;
      if (ch != null && info != null) {
        if ((info.flags() & DistFlags.FRAGMENTS) != 0) {
          // A large payload's size is known first (a walk that stops past one fragment), so
          // that its frames are encoded once, straight into fragment-sized buffers.
          long payloadBody = control.hasPayload() && !isSmall(payload)
              ? EtfEncoder.encodedSizeAtMost(payload, settings.fragmentBytes() + 1L) - 1 : 0;
          if (payloadBody <= settings.fragmentBytes() - SMALL_CONTROL) {
            ByteBuf f = encodeWithHeader(ch.alloc(), control, payload, payloadBody);
            if (f != null) {
              awaitNotBusy(node, ch, f.readableBytes());
              write(ch, f);
              return;
            }
          }
          for (ByteBuf f : encodeFragments(ch.alloc(), control, payload)) {
            awaitNotBusy(node, ch, f.readableBytes());
            write(ch, f);
          }
          return;
        }
        Encoded encoded = encode(ByteBufAllocator.DEFAULT, control, payload);
        for (ByteBuf f : frames(ch, encoded, info.flags())) {
          awaitNotBusy(node, ch, f.readableBytes());
          write(ch, f);
        }
        return;
      }
    }
    Encoded encoded = encode(ByteBufAllocator.DEFAULT, control, payload);
    ByteBuf frame = encoded.frame();
    Channel direct = null;
    long peerFlags = 0;
    synchronized (this) {
      if (closed) {
        frame.release();
        return;
      }
      PeerState p = peers.get(node);
      if (p != null && p.up) {
        direct = p.channel;
        peerFlags = p.info.flags();
      } else {
        if (p == null) {
          p = startConnect(node);
        }
        if (p.pendingBytes + frame.readableBytes() > settings.maxPendingBytes()) {
          int size = frame.readableBytes();
          frame.release();
          throw new IllegalStateException("queue for " + node + " while connecting: "
              + (p.pendingBytes + size) + " bytes (expected: <= " + settings.maxPendingBytes()
              + ")");
        }
        p.pending.add(encoded);
        p.pendingBytes += frame.readableBytes();
        return;
      }
    }
    for (ByteBuf f : frames(direct, encoded, peerFlags)) {
      awaitNotBusy(node, direct, f.readableBytes());
      write(direct, f);
    }
  }

  /**
   * The frames that carry an encoded message to a peer with the given flags. Without
   * DFLAG_FRAGMENTS: the pass-through frame as is. With it, erts expects a distribution header
   * on every message (erts "External Term Format", Distribution Header): the control message
   * and payload lose their version bytes and follow a normal header (68) with no atom cache
   * references or, when larger than {@code fragmentBytes}, go in fragments: a 69 header, then
   * 70 headers, fragment ids counting down to 1. Other senders' frames may interleave between
   * fragments. Slices share the encoded buffer: nothing is copied.
   */
  private List<ByteBuf> frames(Channel ch, Encoded e, long peerFlags) {
    ByteBuf frame = e.frame();
    if ((peerFlags & DistFlags.FRAGMENTS) == 0) {
      return List.of(frame);
    }
    try {
      // [len][112][131 ctl...][131 payload...]: drop the length, 112 and both 131s.
      int ctlStart = frame.readerIndex() + 4 + 1;
      int payloadStart = e.payloadStart();
      ByteBuf body = payloadStart < 0
          ? frame.retainedSlice(ctlStart + 1, frame.writerIndex() - ctlStart - 1)
          : io.netty.buffer.Unpooled.wrappedBuffer(
              frame.retainedSlice(ctlStart + 1, payloadStart - ctlStart - 1),
              frame.retainedSlice(payloadStart + 1, frame.writerIndex() - payloadStart - 1));
      if (body.readableBytes() <= settings.fragmentBytes()) {
        ByteBuf head = ch.alloc().buffer(7);
        head.writeInt(3 + body.readableBytes()).writeByte(131).writeByte(DistHeader.NORMAL)
            .writeByte(0);
        return List.of(io.netty.buffer.Unpooled.wrappedBuffer(head, body));
      }
      int chunk = settings.fragmentBytes();
      long count = (body.readableBytes() + chunk - 1) / chunk;
      long seq = sequence.incrementAndGet();
      List<ByteBuf> out = new java.util.ArrayList<>((int) count);
      for (long id = count; id >= 1; id--) {
        int n = Math.min(chunk, body.readableBytes());
        boolean first = id == count;
        ByteBuf head = ch.alloc().buffer(4 + 2 + 16 + 1);
        head.writeInt(2 + 16 + (first ? 1 : 0) + n).writeByte(131)
            .writeByte(first ? DistHeader.FRAGMENT_START : DistHeader.FRAGMENT_CONT)
            .writeLong(seq).writeLong(id);
        if (first) {
          head.writeByte(0); // no atom cache references
        }
        out.add(io.netty.buffer.Unpooled.wrappedBuffer(head, body.readRetainedSlice(n)));
      }
      body.release();
      return out;
    } finally {
      frame.release();
    }
  }

  private final java.util.concurrent.atomic.AtomicLong sequence =
      new java.util.concurrent.atomic.AtomicLong();

  /**
   * Backpressure: while the bytes queued on {@code ch} (ours not yet handed to Netty, plus
   * Netty's not yet sent) exceed {@code maxOutboundBytes}, the sender waits, up to
   * {@code busyTimeout}; then the send fails, naming the bound. I/O threads never wait (what
   * they send is bounded by their callers' own limits) and are never parked by another.
   */
  private void awaitNotBusy(String node, Channel ch, int size) {
    if (queuedBytes(ch) + size <= settings.maxOutboundBytes() || onIoThread()) {
      return;
    }
    long deadline = System.nanoTime() + settings.busyTimeout().toNanos();
    long pause = 50_000;
    while (ch.isActive() && queuedBytes(ch) + size > settings.maxOutboundBytes()) {
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("outbound queue to " + node + ": " + queuedBytes(ch)
            + " bytes (expected: <= " + settings.maxOutboundBytes() + ") for "
            + settings.busyTimeout().toMillis() + " ms: the peer is not reading");
      }
      java.util.concurrent.locks.LockSupport.parkNanos(pause);
      pause = Math.min(pause * 2, 5_000_000);
    }
  }

  /**
   * True on any of the node's I/O threads (which other components may share): one must never
   * wait for another to drain, or two could wait for each other.
   */
  private boolean onIoThread() {
    for (io.netty.util.concurrent.EventExecutor e : group) {
      if (e.inEventLoop()) {
        return true;
      }
    }
    return false;
  }

  private static long queuedBytes(Channel ch) {
    Outbound mine = ch.attr(OUTBOUND).get();
    io.netty.channel.ChannelOutboundBuffer out = ch.unsafe().outboundBuffer();
    return (mine == null ? 0 : mine.bytes.get())
        + (out == null ? 0 : out.totalPendingWriteBytes());
  }

  /**
   * Frames waiting to be handed to a channel, drained by one event-loop task per burst: a
   * sender only wakes the event loop when the queue was idle, and a burst from many senders is
   * written and flushed together. Order per sender is kept.
   */
  private static final class Outbound implements Runnable {
    final Channel ch;
    final java.util.concurrent.ConcurrentLinkedQueue<ByteBuf> queue =
        new java.util.concurrent.ConcurrentLinkedQueue<>();
    final java.util.concurrent.atomic.AtomicBoolean scheduled =
        new java.util.concurrent.atomic.AtomicBoolean();
    final java.util.concurrent.atomic.AtomicLong bytes = new java.util.concurrent.atomic.AtomicLong();

    Outbound(Channel ch) {
      this.ch = ch;
    }

    void offer(ByteBuf frame) {
      bytes.addAndGet(frame.readableBytes());
      queue.offer(frame);
      if (scheduled.compareAndSet(false, true)) {
        try {
          ch.eventLoop().execute(this);
        } catch (java.util.concurrent.RejectedExecutionException e) {
          drop();
        }
      }
    }

    @Override
    public void run() {
      while (true) {
        int n = 0;
        for (ByteBuf f; (f = queue.poll()) != null; n++) {
          bytes.addAndGet(-f.readableBytes());
          ch.write(f, ch.voidPromise());
        }
        if (n > 0) {
          ch.flush();
        }
        scheduled.set(false);
        // A frame offered after the last poll but before the reset found "scheduled" set and
        // did not schedule: look again.
        if (queue.isEmpty() || !scheduled.compareAndSet(false, true)) {
          return;
        }
      }
    }

    void drop() {
      for (ByteBuf f; (f = queue.poll()) != null; ) {
        f.release();
      }
    }
  }

  private static final io.netty.util.AttributeKey<Outbound> OUTBOUND =
      io.netty.util.AttributeKey.valueOf("beamgate.outbound");

  private static Outbound outbound(Channel ch) {
    Outbound o = ch.attr(OUTBOUND).get();
    if (o == null) {
      o = new Outbound(ch);
      Outbound prev = ch.attr(OUTBOUND).setIfAbsent(o);
      if (prev != null) {
        o = prev;
      }
    }
    return o;
  }

  private static void write(Channel ch, ByteBuf frame) {
    outbound(ch).offer(frame);
  }

  /** Connects to {@code node} if not connected; the future completes when it is up. */
  public CompletableFuture<Handshake.Peer> connect(String node) {
    synchronized (this) {
      if (closed) {
        return CompletableFuture.failedFuture(
            new NodeConnectException(Reason.CONNECTION, "node is closed"));
      }
      PeerState p = peers.get(node);
      if (p == null) {
        p = startConnect(node);
      }
      return p.upFuture.copy();
    }
  }

  /** The I/O thread of the connection to {@code node}, or null when there is none. */
  public io.netty.channel.EventLoop eventLoop(String node) {
    PeerState p = peers.get(node);
    Channel ch = p == null ? null : p.channel;
    return ch == null ? null : ch.eventLoop();
  }

  public boolean isUp(String node) {
    PeerState p = peers.get(node);
    return p != null && p.up;
  }

  /** The I/O thread of the connection to {@code node} while it is up; else null. */
  public io.netty.channel.EventLoop eventLoopOf(String node) {
    return isUp(node) ? eventLoop(node) : null;
  }

  public synchronized Set<String> upNodes() {
    Set<String> s = new TreeSet<>();
    peers.values().forEach(p -> {
      if (p.up) {
        s.add(p.name);
      }
    });
    return s;
  }

  public Optional<Handshake.Peer> peer(String node) {
    PeerState p = peers.get(node);
    Handshake.Peer info = p == null ? null : p.info;
    return p != null && p.up && info != null ? Optional.of(info) : Optional.empty();
  }

  /** Closes the connection to {@code node}, if any. */
  public void disconnect(String node) {
    Channel ch;
    synchronized (this) {
      PeerState p = peers.get(node);
      ch = p == null ? null : p.channel;
    }
    if (ch != null) {
      ch.close();
    }
  }

  /** Closes every connection. */
  public void close() {
    Channel[] chans;
    synchronized (this) {
      closed = true;
      chans = peers.values().stream().map(p -> p.channel).filter(c -> c != null)
          .toArray(Channel[]::new);
    }
    for (Channel c : chans) {
      c.close().awaitUninterruptibly(1000);
    }
  }

  private PeerState startConnect(String node) {
    PeerState p = new PeerState(node);
    peers.put(node, p);
    NodeName target;
    try {
      target = NodeName.parse(node);
    } catch (IllegalArgumentException e) {
      failLocked(p, null, Reason.BAD_NAME, e.getMessage());
      return p;
    }
    blocking.execute(() -> resolveAndConnect(p, target));
    return p;
  }

  /**
   * Connects to {@code node} at {@code port} without asking EPMD (as erl's
   * {@code -dist_listen}/{@code ERL_DIST_PORT} set-ups); 0 forgets the port.
   */
  public void staticPort(String node, int port) {
    if (port == 0) {
      staticPorts.remove(node);
    } else {
      staticPorts.put(node, port);
    }
  }

  /** The peer's port: a static one, else EPMD's answer; null (and p failed) when none. */
  private NodeEntry lookUp(PeerState p, NodeName target) {
    Integer fixed = staticPorts.get(p.name);
    if (fixed != null) {
      // OTP 23 and later speak version 6; the handshake still negotiates.
      return new NodeEntry(target.alive(), fixed, false, 0, 6, 5);
    }
    try {
      EpmdClient epmd = new EpmdClient(target.host(), settings.epmdPort(),
          settings.connectTimeout());
      Optional<NodeEntry> e = epmd.portPlease(target.alive());
      if (e.isEmpty()) {
        fail(p, null, Reason.CONNECTION, "epmd on " + target.host() + ":" + settings.epmdPort()
            + " has no node named '" + target.alive() + "'");
        return null;
      }
      return e.get();
    } catch (EpmdException e) {
      fail(p, null, Reason.CONNECTION, e.getMessage());
      return null;
    }
  }

  private void resolveAndConnect(PeerState p, NodeName target) {
    NodeEntry entry = lookUp(p, target);
    if (entry == null) {
      return;
    }
    DistFrameDecoder decoder = new DistFrameDecoder(settings.maxFrameBytes());
    Handshake hs = Handshake.initiator(settings.nodeName(), settings.flags(), creation,
        settings.cookie(), p.name, entry.highestVersion(), () -> !isUp(p.name));
    DistChannelHandler handler = new DistChannelHandler(this, hs, decoder);
    Bootstrap b = new Bootstrap().group(group).channel(NioSocketChannel.class)
        .option(ChannelOption.TCP_NODELAY, true)
        .option(ChannelOption.RCVBUF_ALLOCATOR, RECEIVE_BUFFERS)
        .option(ChannelOption.CONNECT_TIMEOUT_MILLIS,
            (int) Math.min(Integer.MAX_VALUE, settings.connectTimeout().toMillis()))
        .handler(new ChannelInitializer<SocketChannel>() {
          @Override
          protected void initChannel(SocketChannel ch) {
            ch.pipeline().addLast("frame", decoder).addLast("dist", handler);
          }
        });
    ChannelFuture f;
    synchronized (this) {
      if (peers.get(p.name) != p || p.channel != null) {
        return; // replaced meanwhile (an accepted connection won)
      }
      f = b.connect(target.host(), entry.port());
      p.channel = f.channel();
    }
    f.addListener(done -> {
      if (!done.isSuccess()) {
        fail(p, f.channel(), Reason.CONNECTION, "cannot connect to " + p.name + " at "
            + target.host() + ":" + entry.port() + ": " + done.cause().getMessage());
      }
    });
  }

  private volatile java.util.function.Predicate<String> acceptGate;
  private volatile boolean readingPaused;

  /**
   * Stops (or resumes) reading from every connection, and from connections made later while
   * paused: backpressure from a consumer that cannot keep up. Handshakes are not paused.
   */
  public synchronized void pauseReading(boolean pause) {
    readingPaused = pause;
    for (PeerState p : peers.values()) {
      Channel ch = p.channel;
      if (ch != null && p.up) {
        ch.config().setAutoRead(!pause);
        if (!pause) {
          ch.read();
        }
      }
    }
  }

  /** Which nodes may connect (null: any); the others are told not_allowed. */
  public void acceptGate(java.util.function.Predicate<String> gate) {
    this.acceptGate = gate;
  }

  /** Acceptor side: the initiator has named itself. net_kernel's accept_pending rules. */
  private Handshake.Status onAccepting(String name, Channel ch) {
    java.util.function.Predicate<String> gate = acceptGate;
    if (gate != null && !gate.test(name)) {
      log.info("refusing a distribution connection from {}: not allowed now", name);
      return Handshake.Status.NOT_ALLOWED;
    }
    synchronized (this) {
      if (closed) {
        return Handshake.Status.NOT_ALLOWED;
      }
      PeerState p = peers.get(name);
      if (p == null) {
        p = new PeerState(name);
        p.channel = ch;
        peers.put(name, p);
        return Handshake.Status.OK;
      }
      if (p.up) {
        return Handshake.Status.ALIVE;
      }
      if (p.channel != null && p.channel.parent() != null) {
        // Another accepted connection from the same name is pending.
        return Handshake.Status.NOK;
      }
      // Our own attempt is pending: the greater name wins, as in net_kernel.
      if (settings.nodeName().compareTo(name) > 0) {
        return Handshake.Status.NOK;
      }
      Channel ours = p.channel;
      p.channel = ch;
      if (ours != null) {
        log.debug("simultaneous connect with {}: taking its connection", name);
        ours.close();
      }
      return Handshake.Status.OK_SIMULTANEOUS;
    }
  }

  /** The handshake on {@code ch} is complete. */
  void onHandshakeDone(Channel ch, Handshake.Peer info) {
    String name = info.name();
    PeerState p;
    boolean replaced = false;
    synchronized (this) {
      p = peers.get(name);
      if (p != null && p.up && p.channel != ch) {
        // The peer said its old connection is gone ("alive" / "true"); the cookie is verified.
        Channel old = p.channel;
        peers.remove(name);
        p.channel = null;
        old.close();
        replaced = true;
        p = null;
      }
      if (p == null) {
        p = new PeerState(name);
        peers.put(name, p);
        p.channel = ch;
      }
      if (p.channel != ch) {
        ch.close();
        return;
      }
      p.info = info; // before "up": the send fast path reads info once it sees up
      p.up = true;
      for (Encoded e; (e = p.pending.poll()) != null; ) {
        for (ByteBuf f : frames(ch, e, info.flags())) {
          ch.write(f, ch.voidPromise());
        }
      }
      p.pendingBytes = 0;
      ch.flush();
      if (readingPaused) {
        ch.config().setAutoRead(false);
      }
    }
    if (replaced) {
      dispatcher.onNodeDown(name, "connection replaced by a new one from the same node");
    }
    log.info("connection to {} up ({}{})", name, info.hidden() ? "hidden" : "visible",
        ch.parent() != null ? ", accepted" : "");
    p.upFuture.complete(info);
    dispatcher.onNodeUp(name, info);
  }

  /** {@code ch} closed or failed; {@code reason} says why. */
  void onClosed(Channel ch, String peerName, Reason kind, String reason) {
    if (peerName == null) {
      log.info("connection from {} closed before it named itself: {}", ch.remoteAddress(),
          reason);
      return;
    }
    PeerState p;
    synchronized (this) {
      p = peers.get(peerName);
      if (p == null || p.channel != ch) {
        return;
      }
    }
    fail(p, ch, kind, reason);
  }

  private void fail(PeerState p, Channel ch, Reason kind, String reason) {
    boolean wasUp;
    synchronized (this) {
      if (peers.get(p.name) != p || (ch != null && p.channel != null && p.channel != ch)) {
        return;
      }
      if (kind == Reason.SIMULTANEOUS_LOST && !p.up) {
        // The peer's own attempt won: its connection is on the way. Wait for it, for as long
        // as a handshake may take, keeping what is queued.
        p.channel = null;
        log.debug("simultaneous connect with {}: waiting for its connection", p.name);
        long ms = settings.handshakeTimeout().toMillis();
        group.next().schedule(() -> {
          boolean stillWaiting;
          synchronized (DistConnections.this) {
            stillWaiting = peers.get(p.name) == p && p.channel == null && !p.up;
          }
          if (stillWaiting) {
            fail(p, null, Reason.TIMEOUT, "lost a simultaneous connect, and no connection"
                + " came from the peer within " + ms + " ms");
          }
        }, ms, java.util.concurrent.TimeUnit.MILLISECONDS);
        return;
      }
      wasUp = p.up;
      failLocked(p, ch, kind, reason);
    }
    if (wasUp) {
      log.info("connection to {} down: {}", p.name, reason);
      dispatcher.onNodeDown(p.name, reason);
    } else {
      log.warn("connection to {} failed: {}", p.name, reason);
    }
  }

  private void failLocked(PeerState p, Channel ch, Reason kind, String reason) {
    peers.remove(p.name);
    p.up = false;
    for (Encoded e; (e = p.pending.poll()) != null; ) {
      e.frame().release();
    }
    p.pendingBytes = 0;
    p.upFuture.completeExceptionally(new NodeConnectException(kind, reason));
    if (ch != null) {
      ch.close();
    }
  }

  void dispatch(String from, ControlMessage control, Term payload) {
    dispatcher.onControl(from, control, payload);
  }

  /**
   * A message in one frame behind a normal distribution header with no atom cache references
   * ({@code [len][131][68][0]}, then the terms without version bytes), for peers with
   * DFLAG_FRAGMENTS; null when it is too large for one fragment (it then goes by
   * {@link #frames}).
   */
  private ByteBuf encodeWithHeader(ByteBufAllocator alloc, ControlMessage control,
      Term payload, long payloadBody) {
    ByteBuf buf = alloc.buffer(isSmall(payload) ? 128 : (int) (256 + payloadBody));
    try {
      buf.writeInt(0).writeByte(131).writeByte(DistHeader.NORMAL).writeByte(0);
      ByteBufSink sink = new ByteBufSink(buf);
      EtfEncoder.encodeBody(control.toTerm(), sink);
      if (control.hasPayload()) {
        EtfEncoder.encodeBody(payload, sink);
      }
      if (buf.readableBytes() - 7 > settings.fragmentBytes()) {
        buf.release();
        return null;
      }
      buf.setInt(0, buf.readableBytes() - 4);
      return buf;
    } catch (RuntimeException e) {
      buf.release();
      throw e;
    }
  }

  /**
   * Room left in one fragment for the control message when the payload is sized: a larger
   * payload goes in fragments without a first attempt at one frame.
   */
  private static final int SMALL_CONTROL = 512;

  /**
   * A message larger than one fragment, encoded straight into its fragment frames (see
   * {@link FragmentSink}): exact sizes first, one copy of the terms, no buffer larger than a
   * fragment. Other senders' frames may interleave between them.
   */
  private List<ByteBuf> encodeFragments(ByteBufAllocator alloc, ControlMessage control,
      Term payload) {
    Term ctl = control.toTerm();
    long body = EtfEncoder.encodedSize(ctl) - 1
        + (control.hasPayload() ? EtfEncoder.encodedSize(payload) - 1 : 0);
    if (body <= settings.fragmentBytes()) {
      ByteBuf f = encodeWithHeader(alloc, control, payload, body);
      if (f == null) {
        throw new IllegalStateException("message of " + body + " bytes: neither one frame"
            + " nor fragments");
      }
      return List.of(f);
    }
    FragmentSink sink = new FragmentSink(alloc, settings.fragmentBytes(),
        sequence.incrementAndGet(), body);
    try {
      EtfEncoder.encodeBody(ctl, sink);
      if (control.hasPayload()) {
        EtfEncoder.encodeBody(payload, sink);
      }
    } catch (RuntimeException e) {
      sink.release();
      throw e;
    }
    return sink.finish();
  }

  /** Terms whose encoding surely fits a small buffer; anything else gets its size computed. */
  private static boolean isSmall(Term t) {
    return !(t instanceof io.beamgate.node.term.Binary
        || t instanceof io.beamgate.node.term.Tuple
        || t instanceof io.beamgate.node.term.ErlList
        || t instanceof io.beamgate.node.term.ErlMap
        || t instanceof io.beamgate.node.term.BitBinary);
  }

  /** An encoded frame, and where its payload term starts (-1: none). */
  record Encoded(ByteBuf frame, int payloadStart) {}

  /** A whole frame: 4-byte length, pass-through byte, control term, optional payload term. */
  static Encoded encode(ByteBufAllocator alloc, ControlMessage control, Term payload) {
    // Size the buffer for large payloads up front, so it is not copied as it grows.
    long hint = control.hasPayload() && !isSmall(payload)
        ? 128 + EtfEncoder.encodedSize(payload) : 128;
    ByteBuf buf = alloc.buffer((int) Math.min(hint, Integer.MAX_VALUE - 8));
    try {
      buf.writeInt(0);
      buf.writeByte(PASS_THROUGH);
      ByteBufSink sink = new ByteBufSink(buf);
      EtfEncoder.encode(control.toTerm(), sink);
      int payloadStart = -1;
      if (control.hasPayload()) {
        payloadStart = buf.writerIndex();
        EtfEncoder.encode(payload, sink);
      }
      buf.setInt(0, buf.readableBytes() - 4);
      return new Encoded(buf, payloadStart);
    } catch (RuntimeException e) {
      buf.release();
      throw e;
    }
  }
}
