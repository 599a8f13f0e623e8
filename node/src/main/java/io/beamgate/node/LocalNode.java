package io.beamgate.node;

import io.beamgate.node.dist.ControlMessage;
import io.beamgate.node.dist.DistConnections;
import io.beamgate.node.dist.DistFlags;
import io.beamgate.node.dist.DistSettings;
import io.beamgate.node.dist.Dispatcher;
import io.beamgate.node.dist.Handshake;
import io.beamgate.node.dist.NodeConnectException;
import io.beamgate.node.epmd.EpmdClient;
import io.beamgate.node.epmd.EpmdException;
import io.beamgate.node.rpc.IoServer;
import io.beamgate.node.rpc.Rpc;
import io.beamgate.node.term.Atom;
import io.beamgate.node.term.Pid;
import io.beamgate.node.term.Ref;
import io.beamgate.node.term.Term;
import io.beamgate.node.term.Tuple;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A Java node of an Erlang cluster: it registers with EPMD, accepts and makes distribution
 * connections, and hosts {@link Mailbox}es that send and receive messages like Erlang
 * processes. The API carries no transport types.
 *
 * <p>Built in: {@code net_kernel} answers {@code is_auth} (so {@code net_adm:ping/1} works), and
 * a group leader answers the IO protocol for remote calls that print.
 */
public final class LocalNode implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(LocalNode.class);

  private final NodeConfig config;
  private final Atom nodeAtom;
  private final EventLoopGroup group;
  private final ExecutorService blocking;
  private final DistConnections connections;
  private final Map<Pid, Mailbox> byPid = new ConcurrentHashMap<>();
  private final Map<String, Mailbox> byName = new ConcurrentHashMap<>();
  private final Map<Ref, Mailbox> aliases = new ConcurrentHashMap<>();
  private final List<NodeListener> listeners = new CopyOnWriteArrayList<>();
  private final AtomicInteger pidCounter = new AtomicInteger(1);
  private final AtomicLong refCounter = new AtomicLong(new SecureRandom().nextInt() & 0xFFFFL);
  private final AtomicLong unlinkIds = new AtomicLong(1);
  private final AtomicLong dropped = new AtomicLong();
  private final AtomicLong ignoredControl = new AtomicLong();
  private final AtomicLong refusedSpawns = new AtomicLong();
  private volatile int creation;
  private volatile SpawnHandler spawnHandler;
  private volatile ControlInterceptor interceptor;
  private io.beamgate.node.rpc.RpcClient rpcClient;
  private Channel server;
  private EpmdClient.Registration registration;
  private Mailbox groupLeader;
  private volatile boolean closed;

  private LocalNode(NodeConfig config) {
    this.config = config;
    this.nodeAtom = Atom.of(config.name().toString());
    this.group = new MultiThreadIoEventLoopGroup(config.ioThreads(), NioIoHandler.newFactory());
    this.blocking = Executors.newCachedThreadPool(r -> {
      Thread t = new Thread(r, "beamgate-" + config.name().alive() + "-worker");
      t.setDaemon(true);
      return t;
    });
    long flags = DistFlags.OFFERED | (config.hidden() ? 0 : DistFlags.PUBLISHED);
    DistSettings settings = new DistSettings(config.name().toString(), config.cookie(), flags,
        config.netTickTime(), config.handshakeTimeout(), config.connectTimeout(),
        config.epmdPort(), config.maxFrameBytes(), config.maxPendingBytes(),
        config.decodeLimits(), config.maxOutboundBytes(), config.busyTimeout(),
        config.fragmentBytes(), config.maxFragmentedMessages());
    this.connections = new DistConnections(settings, group, blocking, new NodeDispatcher());
  }

  /**
   * Starts a node that listens for connections and registers with EPMD, so other nodes can
   * reach it. Fails with a clear message when EPMD is not running or the name is taken.
   */
  public static LocalNode start(NodeConfig config) throws IOException {
    LocalNode n = new LocalNode(config);
    try {
      n.listenAndRegister();
      n.startBuiltins();
      log.info("node {} started ({}, port {}, creation {})", n.name(),
          config.hidden() ? "hidden" : "visible", n.port(),
          Integer.toUnsignedString(n.creation));
      return n;
    } catch (IOException | RuntimeException e) {
      n.close();
      throw e;
    }
  }

  /**
   * Starts a node that only makes outgoing connections, as {@code erl_call} does: it neither
   * listens nor registers with EPMD, so EPMD need not run here.
   */
  public static LocalNode startClient(NodeConfig config) {
    LocalNode n = new LocalNode(config);
    n.creation = new SecureRandom().nextInt() | 4;
    n.connections.creation(n.creation);
    n.startBuiltins();
    return n;
  }

  private void listenAndRegister() throws IOException {
    InetSocketAddress bind = config.listenAddress() == null
        ? new InetSocketAddress(config.listenPort())
        : new InetSocketAddress(config.listenAddress(), config.listenPort());
    try {
      server = new ServerBootstrap().group(group).channel(NioServerSocketChannel.class)
          .childOption(ChannelOption.TCP_NODELAY, true)
          .childOption(ChannelOption.RCVBUF_ALLOCATOR, DistConnections.RECEIVE_BUFFERS)
          .childHandler(connections.acceptor())
          .bind(bind).sync().channel();
    } catch (Exception e) {
      if (e instanceof InterruptedException) {
        Thread.currentThread().interrupt();
      }
      throw new IOException("cannot listen for distribution on " + bind + ": " + e.getMessage(),
          e);
    }
    try {
      registration = new EpmdClient(config.epmdHost(), config.epmdPort(),
          config.connectTimeout()).register(config.name().alive(), port(), config.hidden());
    } catch (EpmdException e) {
      throw new EpmdException(e.getMessage() + " (is epmd running? start it with `beamgate epmd"
          + " --port " + config.epmdPort() + "` or `epmd -daemon`)", e);
    }
    creation = registration.creation();
    connections.creation(creation);
  }

  private void startBuiltins() {
    createMailbox("net_kernel", (self, msg) -> {
      // {'$gen_call', {From, Tag}, {is_auth, Node}} -> From ! {Tag, yes}
      if (msg instanceof Tuple t && t.isTagged("$gen_call", 3)
          && t.get(2) instanceof Tuple req && req.isTagged("is_auth", 2)
          && self.reply(t.get(1), Atom.of("yes"))) {
        return;
      } else {
        dropped.incrementAndGet();
      }
    });
    groupLeader = createMailbox(null, new IoServer(config.name().toString()));
    if (!config.hidden()) {
      // Visible OTP nodes run global's connect protocol with every visible node and wait for
      // it in global:sync(); the locker only needs a pid on this node (its messages are
      // proxied through global_name_server).
      Mailbox locker = createMailbox(null, (self, msg) -> { });
      createMailbox(GlobalNameServer.NAME, new GlobalNameServer(locker.self()));
    }
  }

  public String name() {
    return nodeAtom.name();
  }

  public Atom nameAtom() {
    return nodeAtom;
  }

  public NodeConfig config() {
    return config;
  }

  /** The creation EPMD gave this incarnation of the node. */
  public int creation() {
    return creation;
  }

  /** The distribution port, or 0 for a client-only node. */
  public int port() {
    return server == null ? 0 : ((InetSocketAddress) server.localAddress()).getPort();
  }

  /**
   * The threads that do this node's network I/O, for a component in the same process that
   * wants its own connections served by them (fewer hand-offs between threads). Only
   * non-blocking work may run there. Its life is the node's: do not shut it down.
   */
  public java.util.concurrent.ScheduledExecutorService ioExecutor() {
    return group;
  }

  /**
   * The I/O thread that serves the connection to {@code node}, or one of the node's I/O threads
   * when there is none: work about that connection runs there without a hand-off. Only
   * non-blocking work may run there; do not shut it down.
   */
  public java.util.concurrent.ScheduledExecutorService ioExecutor(String node) {
    io.netty.channel.EventLoop loop = connections.eventLoop(node);
    return loop != null ? loop : group.next();
  }

  /**
   * What only a gateway does with this node (intercepting and relaying control messages,
   * pausing reads, its I/O threads): see {@link GatewayDoor}.
   */
  public GatewayDoor gatewayDoor() {
    return door;
  }

  private final GatewayDoor door = new GatewayDoor() {
    @Override
    public void interceptor(ControlInterceptor i) {
      LocalNode.this.interceptor(i);
    }

    @Override
    public void sendControl(String node, ControlMessage control, Term payload) {
      LocalNode.this.sendControl(node, control, payload);
    }

    @Override
    public void acceptGate(java.util.function.Predicate<String> gate) {
      LocalNode.this.acceptGate(gate);
    }

    @Override
    public void pauseReading(boolean pause) {
      LocalNode.this.pauseReading(pause);
    }

    @Override
    public void disconnectAll() {
      LocalNode.this.disconnectAll();
    }

    @Override
    public void staticPort(String node, int port) {
      LocalNode.this.staticPort(node, port);
    }

    @Override
    public <T> T ioThreads(Class<T> type) {
      if (!type.isInstance(group)) {
        throw new IllegalArgumentException("io threads: a " + group.getClass().getName()
            + " (expected: a " + type.getName() + ")");
      }
      return type.cast(group);
    }

    @Override
    public <T> T ioThreadOf(String node, Class<T> type) {
      Object loop = connections.eventLoopOf(node);
      if (loop != null && !type.isInstance(loop)) {
        throw new IllegalArgumentException("io thread: a " + loop.getClass().getName()
            + " (expected: a " + type.getName() + ")");
      }
      return type.cast(loop);
    }
  };

  /** The pid of the built-in group leader that answers remote IO requests. */
  public Pid groupLeader() {
    return groupLeader.self();
  }

  /** A mailbox with a fresh pid. */
  public Mailbox createMailbox() {
    return createMailbox(null, null);
  }

  /** A mailbox registered under {@code name}; fails if the name is taken. */
  public Mailbox createMailbox(String name) {
    return createMailbox(name, null);
  }

  /**
   * A mailbox whose messages go to {@code handler} as they arrive (null: queued for receive);
   * registered under {@code name} unless it is null.
   */
  public Mailbox createMailbox(String name, MessageHandler handler) {
    checkOpen();
    int id = pidCounter.getAndIncrement() & 0x7FFFFFFF;
    Pid pid = new Pid(nodeAtom, id, 0, creation);
    Mailbox mb = new Mailbox(this, pid, name, config.mailboxCapacity(), handler);
    if (name != null) {
      Atom.of(name); // validates the length
      if (byName.putIfAbsent(name, mb) != null) {
        throw new IllegalArgumentException("name already registered: " + name);
      }
    }
    byPid.put(pid, mb);
    return mb;
  }

  /** The mailbox registered as {@code name}, if any. */
  public Mailbox whereis(String name) {
    return byName.get(name);
  }

  /** The node's shared asynchronous RPC client. */
  public synchronized io.beamgate.node.rpc.RpcClient rpc() {
    if (rpcClient == null) {
      rpcClient = new io.beamgate.node.rpc.RpcClient(this);
    }
    return rpcClient;
  }

  /** A new reference, unique on this node. */
  /**
   * Caps the payload of the DOWN that monitor {@code ref} brings (an erpc call's answer) at
   * {@code maxBytes}: a larger one is not decoded, and arrives as
   * {@code {'$beamgate_payload_too_large', Bytes}}. Undone by {@link #clearPayloadLimit}.
   */
  public void limitPayload(Ref ref, long maxBytes) {
    connections.limitPayload(ref, maxBytes);
  }

  public void clearPayloadLimit(Ref ref) {
    connections.clearPayloadLimit(ref);
  }

  public Ref makeRef() {
    long n = refCounter.incrementAndGet();
    return new Ref(nodeAtom, creation, new int[] {(int) (n & 0x3FFFF), (int) (n >>> 18),
        (int) (n >>> 50)});
  }

  public void addNodeListener(NodeListener l) {
    listeners.add(l);
  }

  public void removeNodeListener(NodeListener l) {
    listeners.remove(l);
  }

  /** True when a connection to {@code node} is up now. */
  public boolean isConnected(String node) {
    return connections.isUp(node);
  }

  /** The nodes with a connection up now. */
  public Set<String> connectedNodes() {
    return connections.upNodes();
  }

  /**
   * Connects to {@code node} unless connected; returns when the handshake is complete.
   *
   * @throws NodeConnectException with the reason when it cannot (unknown to EPMD, refused,
   *     wrong cookie, timeout)
   */
  public void connect(String node, Duration timeout) throws NodeConnectException {
    try {
      connections.connect(node).get(timeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (ExecutionException e) {
      if (e.getCause() instanceof NodeConnectException nce) {
        throw new NodeConnectException(nce.reason(), nce.getMessage());
      }
      throw new NodeConnectException(io.beamgate.node.dist.HandshakeException.Reason.CONNECTION,
          String.valueOf(e.getCause()));
    } catch (TimeoutException e) {
      throw new NodeConnectException(io.beamgate.node.dist.HandshakeException.Reason.TIMEOUT,
          "no connection to " + node + " within " + timeout.toMillis() + " ms");
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new NodeConnectException(io.beamgate.node.dist.HandshakeException.Reason.CONNECTION,
          "interrupted");
    }
  }

  /**
   * Reaches {@code node} at distribution port {@code port} instead of asking EPMD on its host
   * (0: ask EPMD again).
   */
  void staticPort(String node, int port) {
    connections.staticPort(node, port);
  }

  /** Closes the connection to {@code node}, if any (as {@code erlang:disconnect_node/1}). */
  public void disconnect(String node) {
    connections.disconnect(node);
  }

  /**
   * As {@code net_adm:ping/1}: true ("pong") when {@code node} can be connected to and answers
   * net_kernel's {@code is_auth}.
   */
  public boolean ping(String node, Duration timeout) {
    try {
      connect(node, timeout);
      Term reply = Rpc.genCall(this, "net_kernel", node,
          Tuple.of(Atom.of("is_auth"), nodeAtom), timeout);
      return Atom.of("yes").equals(reply);
    } catch (Exception e) {
      log.debug("ping {}: {}", node, e.getMessage());
      return false;
    }
  }

  /**
   * Sets who decides SPAWN_REQUESTs from other nodes (null: refuse them all). Accepted tasks
   * run on this node's worker threads.
   */
  public void spawnHandler(SpawnHandler h) {
    this.spawnHandler = h;
  }

  /**
   * Sets who sees control messages before this node acts on them (null: nobody). See
   * {@link ControlInterceptor}.
   */
  void interceptor(ControlInterceptor i) {
    this.interceptor = i;
  }

  /**
   * Sends a raw control message (and payload, or null) to {@code node}, connecting first when
   * needed: for relays that act for processes this node stands in for.
   */
  void sendControl(String node, ControlMessage control, Term payload) {
    connections.send(node, control, payload);
  }

  /**
   * Decides which nodes may connect to this one (null: any with the cookie); a node refused
   * here is told {@code not_allowed} during the handshake.
   */
  void acceptGate(java.util.function.Predicate<String> gate) {
    connections.acceptGate(gate);
  }

  /**
   * Stops (true) or resumes reading from every distribution connection: backpressure when what
   * the node receives cannot be passed on fast enough. Ticks from peers wait too, so pause
   * briefly (well under the net tick time).
   */
  void pauseReading(boolean pause) {
    connections.pauseReading(pause);
  }

  /** Closes every distribution connection (each peer sees this node go down). */
  void disconnectAll() {
    for (String n : connections.upNodes()) {
      connections.disconnect(n);
    }
  }

  /**
   * Counters: messages dropped at full mailboxes, messages received past a decode or frame
   * limit and dropped (their connection stayed up), ignored control messages, refused spawn
   * requests.
   */
  public Map<String, Long> stats() {
    return Map.of("dropped_messages", dropped.get(),
        "dropped_inbound", connections.droppedInbound(),
        "ignored_control", ignoredControl.get(), "refused_spawns", refusedSpawns.get());
  }

  // ---- sending ----

  void send(Pid from, Pid to, Term msg) {
    if (to.node().equals(nodeAtom)) {
      deliverLocal(byPid.get(to), msg);
    } else {
      connections.send(to.node().name(), new ControlMessage.Send(to), msg);
    }
  }

  void sendRegistered(Pid from, Atom name, String node, Term msg) {
    if (node.equals(nodeAtom.name())) {
      deliverLocal(byName.get(name.name()), msg);
    } else {
      connections.send(node, new ControlMessage.RegSend(from, name), msg);
    }
  }

  void sendAlias(Pid from, Ref alias, Term msg) {
    if (alias.node().equals(nodeAtom)) {
      deliverLocal(aliases.get(alias), msg);
    } else {
      connections.send(alias.node().name(), new ControlMessage.AliasSend(from, alias), msg);
    }
  }

  private void deliverLocal(Mailbox mb, Term msg) {
    if (mb == null || !mb.deliver(msg)) {
      dropped.incrementAndGet();
    }
  }

  Ref createAlias(Mailbox mb) {
    Ref r = makeRef();
    aliases.put(r, mb);
    return r;
  }

  void removeAlias(Ref alias, Mailbox mb) {
    aliases.remove(alias, mb);
  }

  void ensureConnectedForMonitor(Mailbox mb, String node) {
    if (node.equals(nodeAtom.name())) {
      return;
    }
    connections.connect(node).whenComplete((ok, err) -> {
      if (err != null && mb.monitoredNodes.remove(node)) {
        mb.deliver(Tuple.of(Atom.of("nodedown"), Atom.of(node)));
      }
    });
  }

  Ref monitor(Mailbox mb, Term target, String node) {
    Ref ref = makeRef();
    if (node.equals(nodeAtom.name())) {
      Mailbox other = target instanceof Pid p ? byPid.get(p)
          : byName.get(((Atom) target).name());
      Term proc = target instanceof Atom a ? Tuple.of(a, nodeAtom) : target;
      if (other == null || other.isClosed()) {
        mb.deliver(Tuple.of(Atom.of("DOWN"), ref, Atom.of("process"), proc, Atom.of("noproc")));
      } else {
        other.watchers.put(ref, new Mailbox.Watcher(mb.self(),
            target instanceof Atom a ? a : null));
      }
      return ref;
    }
    Term proc = target instanceof Atom a ? Tuple.of(a, Atom.of(node)) : target;
    mb.monitoring.put(ref, new Mailbox.Monitored(node, proc));
    connections.send(node, new ControlMessage.MonitorP(mb.self(), target, ref), null);
    ensureMonitorDownOnFailure(mb, ref, node);
    return ref;
  }

  private void ensureMonitorDownOnFailure(Mailbox mb, Ref ref, String node) {
    if (connections.isUp(node)) {
      return; // a later node-down reaches the monitor through onNodeDown
    }
    connections.connect(node).whenComplete((ok, err) -> {
      Mailbox.Monitored m;
      if (err != null && (m = mb.monitoring.remove(ref)) != null) {
        mb.deliver(Tuple.of(Atom.of("DOWN"), ref, Atom.of("process"), m.proc(),
            Atom.of("noconnection")));
      }
    });
  }

  void demonitor(Mailbox mb, Ref ref) {
    Mailbox.Monitored m = mb.monitoring.remove(ref);
    if (m != null && connections.isUp(m.node())) {
      Term target = m.proc() instanceof Tuple t ? t.get(0) : m.proc();
      connections.send(m.node(), new ControlMessage.DemonitorP(mb.self(), target, ref), null);
    }
    for (Mailbox other : byPid.values()) {
      other.watchers.remove(ref);
    }
  }

  /**
   * Sends a SPAWN_REQUEST for {@code module:function(args)} on {@code node}, monitored: the
   * mailbox receives {@code {spawn_reply, ReqId, error, Reason}} if the spawn fails (a success
   * is not reported, as erlang:spawn_request's {@code {reply, error_only}}), and, when the
   * spawned process exits, {@code {'DOWN', ReqId, process, Pid, Reason}}. Returns ReqId. Used
   * for erpc.
   */
  public Ref spawnRequest(Mailbox mb, String node, Atom module, Atom function,
      List<? extends Term> args) {
    return spawnRequest(mb, makeRef(), node, module, function, args);
  }

  /** As above, with a request id made by {@link #makeRef} (to register it before sending). */
  public Ref spawnRequest(Mailbox mb, Ref reqId, String node, Atom module, Atom function,
      List<? extends Term> args) {
    mb.monitoring.put(reqId, new Mailbox.Monitored(node, Atom.UNDEFINED));
    connections.send(node, new ControlMessage.SpawnRequest(reqId, mb.self(), groupLeader(),
        Tuple.of(module, function, io.beamgate.node.term.Int.of(args.size())),
        io.beamgate.node.term.ErlList.of(Atom.of("monitor"))),
        io.beamgate.node.term.ErlList.of(args));
    ensureMonitorDownOnFailure(mb, reqId, node);
    return reqId;
  }

  /** True when {@code node} is connected and offered {@code flag} (a DistFlags bit). */
  public boolean peerHas(String node, long flag) {
    return connections.peer(node).map(p -> (p.flags() & flag) != 0).orElse(false);
  }

  void link(Mailbox mb, Pid to) {
    if (to.node().equals(nodeAtom)) {
      Mailbox other = byPid.get(to);
      if (other == null) {
        mb.deliver(Tuple.of(Atom.of("EXIT"), to, Atom.of("noproc")));
        return;
      }
      other.links.add(mb.self());
      mb.links.add(to);
      return;
    }
    mb.links.add(to);
    connections.send(to.node().name(), new ControlMessage.Link(mb.self(), to), null);
  }

  void unlink(Mailbox mb, Pid to) {
    if (!mb.links.remove(to)) {
      return;
    }
    if (to.node().equals(nodeAtom)) {
      Mailbox other = byPid.get(to);
      if (other != null) {
        other.links.remove(mb.self());
      }
    } else {
      connections.send(to.node().name(),
          new ControlMessage.UnlinkId(unlinkIds.getAndIncrement(), mb.self(), to), null);
    }
  }

  void closed(Mailbox mb, Term reason) {
    byPid.remove(mb.self(), mb);
    mb.name().ifPresent(n -> byName.remove(n, mb));
    aliases.values().removeIf(m -> m == mb);
    for (Pid linked : mb.links) {
      if (linked.node().equals(nodeAtom)) {
        Mailbox other = byPid.get(linked);
        if (other != null && other.links.remove(mb.self())) {
          other.deliver(Tuple.of(Atom.of("EXIT"), mb.self(), reason));
        }
      } else if (connections.isUp(linked.node().name())) {
        connections.send(linked.node().name(), new ControlMessage.Exit(mb.self(), linked, reason),
            null);
      }
    }
    mb.links.clear();
    for (Map.Entry<Ref, Mailbox.Watcher> w : mb.watchers.entrySet()) {
      Mailbox.Watcher watcher = w.getValue();
      Term proc = watcher.byName() != null ? watcher.byName() : mb.self();
      connections.send(watcher.pid().node().name(),
          new ControlMessage.MonitorPExit(proc, watcher.pid(), w.getKey(), reason), null);
    }
    mb.watchers.clear();
  }

  void runHandler(MessageHandler h, Mailbox mb, Term msg) {
    try {
      h.handle(mb, msg);
    } catch (RuntimeException e) {
      log.warn("handler of {} failed on a message: {}", mb, e.toString());
    }
  }

  private void checkOpen() {
    if (closed) {
      throw new IllegalStateException("node " + name() + " is closed");
    }
  }

  /** Closes every connection and mailbox, unregisters from EPMD and stops the I/O threads. */
  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    if (registration != null) {
      registration.close();
    }
    if (server != null) {
      server.close().awaitUninterruptibly(2000);
    }
    connections.close();
    for (Mailbox mb : byPid.values()) {
      mb.close();
    }
    group.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly(3000);
    blocking.shutdownNow();
  }

  // ---- from the connection layer ----

  private final class NodeDispatcher implements Dispatcher {
    @Override
    public void onControl(String from, ControlMessage c, Term payload) {
      ControlInterceptor i = interceptor;
      if (i != null) {
        try {
          if (i.intercept(from, c, payload)) {
            return;
          }
        } catch (RuntimeException e) {
          log.warn("control interceptor failed on {} from {}: {}", c.getClass().getSimpleName(),
              from, e.toString());
          return;
        }
      }
      if (c instanceof ControlMessage.Send s) {
        deliverLocal(local(s.to()), payload);
      } else if (c instanceof ControlMessage.SendSender s) {
        deliverLocal(local(s.to()), payload);
      } else if (c instanceof ControlMessage.RegSend r) {
        deliverLocal(byName.get(r.toName().name()), payload);
      } else if (c instanceof ControlMessage.AliasSend a) {
        deliverLocal(aliases.get(a.alias()), payload);
      } else if (c instanceof ControlMessage.Link l) {
        Mailbox mb = local(l.to());
        if (mb == null) {
          connections.send(from, new ControlMessage.Exit(l.to(), l.from(), Atom.of("noproc")),
              null);
        } else {
          mb.links.add(l.from());
        }
      } else if (c instanceof ControlMessage.UnlinkId u) {
        Mailbox mb = local(u.to());
        if (mb != null) {
          mb.links.remove(u.from());
        }
        connections.send(from, new ControlMessage.UnlinkIdAck(u.id(), u.to(), u.from()), null);
      } else if (c instanceof ControlMessage.Unlink u) {
        Mailbox mb = local(u.to());
        if (mb != null) {
          mb.links.remove(u.from());
        }
      } else if (c instanceof ControlMessage.Exit e) {
        exitSignal(e.from(), e.to(), e.reason(), true);
      } else if (c instanceof ControlMessage.Exit2 e) {
        exitSignal(e.from(), e.to(), e.reason(), false);
      } else if (c instanceof ControlMessage.PayloadExit e) {
        exitSignal(e.from(), e.to(), payload, !e.exit2());
      } else if (c instanceof ControlMessage.SpawnRequest s) {
        spawnRequest(from, s, payload);
      } else if (c instanceof ControlMessage.MonitorP m) {
        Mailbox mb = m.toProc() instanceof Atom name ? byName.get(name.name())
            : m.toProc() instanceof Pid p ? local(p) : null;
        if (mb == null || mb.isClosed()) {
          connections.send(from, new ControlMessage.MonitorPExit(m.toProc(), m.from(), m.ref(),
              Atom.of("noproc")), null);
        } else {
          mb.watchers.put(m.ref(), new Mailbox.Watcher(m.from(),
              m.toProc() instanceof Atom a ? a : null));
        }
      } else if (c instanceof ControlMessage.DemonitorP d) {
        Mailbox mb = d.toProc() instanceof Atom name ? byName.get(name.name())
            : d.toProc() instanceof Pid p ? local(p) : null;
        if (mb != null) {
          mb.watchers.remove(d.ref());
        }
      } else if (c instanceof ControlMessage.SpawnReply r) {
        Mailbox mb = local(r.to());
        if (mb != null) {
          boolean ok = r.result() instanceof Pid;
          if (!ok || (r.flags() & 2) == 0) {
            mb.monitoring.remove(r.reqId());
          } else {
            mb.monitoring.computeIfPresent(r.reqId(),
                (k, v) -> new Mailbox.Monitored(v.node(), r.result()));
          }
          if (!ok) {
            mb.deliver(Tuple.of(Atom.of("spawn_reply"), r.reqId(), Atom.ERROR, r.result()));
          }
        }
      } else if (c instanceof ControlMessage.MonitorPExit m) {
        monitorDown(from, m.fromProc(), m.to(), m.ref(), m.reason());
      } else if (c instanceof ControlMessage.PayloadMonitorPExit m) {
        monitorDown(from, m.fromProc(), m.to(), m.ref(), payload);
      } else if (c instanceof ControlMessage.UnlinkIdAck) {
        // Our unlink is complete; nothing to do.
      } else {
        ignoredControl.incrementAndGet();
        log.debug("ignoring control message from {}: {}", from, c);
      }
    }

    private void spawnRequest(String from, ControlMessage.SpawnRequest s, Term args) {
      SpawnHandler h = spawnHandler;
      java.util.Optional<java.util.concurrent.Callable<Term>> task = java.util.Optional.empty();
      if (h != null && args instanceof io.beamgate.node.term.ErlList l && l.isProper()) {
        try {
          task = h.accept(from, s.mfa(), l.elements());
        } catch (RuntimeException e) {
          log.warn("spawn handler failed on a request from {}: {}", from, e.toString());
        }
      }
      if (task.isEmpty()) {
        refusedSpawns.incrementAndGet();
        log.warn("refused spawn request from {}: {} (this node never spawns code)", from,
            s.mfa());
        connections.send(from, new ControlMessage.SpawnReply(s.reqId(), s.from(), 0,
            Atom.of("notsup")), null);
        return;
      }
      boolean monitor = false;
      boolean link = false;
      if (s.optList() instanceof io.beamgate.node.term.ErlList opts) {
        for (Term o : opts.elements()) {
          monitor |= Atom.of("monitor").equals(o)
              || (o instanceof Tuple t && t.isTagged("monitor", 2));
          link |= Atom.of("link").equals(o);
        }
      }
      // The stand-in process: a mailbox whose exit reason is the task's result.
      Mailbox proc = createMailbox();
      if (monitor) {
        proc.watchers.put(s.reqId(), new Mailbox.Watcher(s.from(), null));
      }
      if (link) {
        proc.links.add(s.from());
      }
      connections.send(from, new ControlMessage.SpawnReply(s.reqId(), s.from(),
          (link ? 1 : 0) | (monitor ? 2 : 0), proc.self()), null);
      java.util.concurrent.Callable<Term> work = task.get();
      blocking.execute(() -> {
        Term reason;
        try {
          reason = work.call();
        } catch (Exception | Error e) {
          log.warn("spawned task for {} failed: {}", s.mfa(), e.toString());
          reason = Tuple.of(Atom.of("java_exception"), Term.binary(String.valueOf(e)));
        }
        proc.exit(reason);
      });
    }

    private void monitorDown(String from, Term fromProc, Pid to, Ref ref, Term reason) {
      Mailbox mb = local(to);
      if (mb == null || mb.monitoring.remove(ref) == null) {
        return; // demonitored meanwhile
      }
      Term proc = fromProc instanceof Atom a ? Tuple.of(a, Atom.of(from)) : fromProc;
      mb.deliver(Tuple.of(Atom.of("DOWN"), ref, Atom.of("process"), proc, reason));
    }

    private Mailbox local(Pid pid) {
      if (!pid.node().equals(nodeAtom) || pid.creation() != creation) {
        return null;
      }
      return byPid.get(pid);
    }

    private void exitSignal(Pid from, Pid to, Term reason, boolean viaLink) {
      Mailbox mb = local(to);
      if (mb == null) {
        dropped.incrementAndGet();
        return;
      }
      if (viaLink && !mb.links.remove(from)) {
        return; // not linked (any more): a link exit without a link is ignored
      }
      mb.deliver(Tuple.of(Atom.of("EXIT"), from, reason));
    }

    @Override
    public void onNodeUp(String node, Handshake.Peer peer) {
      for (NodeListener l : listeners) {
        try {
          l.nodeUp(node);
        } catch (RuntimeException e) {
          log.warn("node listener failed: {}", e.toString());
        }
      }
    }

    @Override
    public void onNodeDown(String node, String reason) {
      Atom nodeName = Atom.of(node);
      for (Mailbox mb : byPid.values()) {
        if (mb.monitoredNodes.remove(node)) {
          mb.deliver(Tuple.of(Atom.of("nodedown"), nodeName));
        }
        mb.watchers.values().removeIf(w -> w.pid().node().equals(nodeName));
        for (Map.Entry<Ref, Mailbox.Monitored> m : mb.monitoring.entrySet()) {
          if (m.getValue().node().equals(node) && mb.monitoring.remove(m.getKey()) != null) {
            mb.deliver(Tuple.of(Atom.of("DOWN"), m.getKey(), Atom.of("process"),
                m.getValue().proc(), Atom.of("noconnection")));
          }
        }
        for (Pid p : mb.links) {
          if (p.node().equals(nodeName) && mb.links.remove(p)) {
            mb.deliver(Tuple.of(Atom.of("EXIT"), p, Atom.of("noconnection")));
          }
        }
      }
      for (NodeListener l : listeners) {
        try {
          l.nodeDown(node, reason);
        } catch (RuntimeException e) {
          log.warn("node listener failed: {}", e.toString());
        }
      }
    }
  }
}
