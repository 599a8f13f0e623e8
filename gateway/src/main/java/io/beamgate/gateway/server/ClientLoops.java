package io.beamgate.gateway.server;

import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelPromise;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.util.AttributeKey;
import io.netty.util.concurrent.AbstractEventExecutorGroup;
import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.Future;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;

/**
 * Where an accepted client connection lives: the node's I/O threads (they also serve the
 * backends' distribution connections), one chosen per connection so that a request, its call
 * to the backend and the answer cross no thread.
 *
 * <p>Why: a call read on one thread and sent on a distribution connection served by another
 * is handed over twice (the request one way, the answer back), each a wake-up of a parked
 * thread; on a small or shared host those wake-ups are most of a small call's latency, and
 * measured per call they cost more CPU than the protocol work. So a new connection goes to
 * the thread of a backend's connection (of those in rotation, the one with the fewest
 * client connections). TLS handshakes are the exception that wants the other threads: a
 * connection is put on the least busy thread instead when the backend's thread has more
 * handshakes under way than that one, so a storm of new connections (a failover, a restart
 * of many clients) still uses every core. With no backend up, or {@code cluster.io_affinity:
 * spread}, connections go to the least busy thread.
 *
 * <p>Only {@link #register(Channel)} (what netty's server bootstrap calls for each accepted
 * connection) and {@link #next()} choose; everything else is the node's group, whose life is
 * the node's: shutting this down does nothing.
 */
final class ClientLoops extends AbstractEventExecutorGroup implements EventLoopGroup {
  private static final AttributeKey<Runnable> HANDSHAKE_OVER =
      AttributeKey.valueOf("beamgate.client-loops.handshake-over");
  private final EventLoopGroup node;
  private final Supplier<List<EventLoop>> backendLoops;
  private final Map<EventLoop, Load> loads = new IdentityHashMap<>();
  private final List<EventLoop> all = new ArrayList<>();

  /** Connections and handshakes under way on one thread. */
  static final class Load {
    final AtomicInteger connections = new AtomicInteger();
    final AtomicInteger handshakes = new AtomicInteger();
  }

  /**
   * @param backendLoops the threads of the backends' connections in rotation now (empty:
   *     none up, or affinity off)
   */
  ClientLoops(EventLoopGroup node, Supplier<List<EventLoop>> backendLoops) {
    this.node = node;
    this.backendLoops = backendLoops;
    for (EventExecutor e : node) {
      EventLoop l = (EventLoop) e;
      all.add(l);
      loads.put(l, new Load());
    }
  }

  /** The node's threads themselves (for the listening socket, which is no connection). */
  EventLoopGroup threads() {
    return node;
  }

  /** The thread for a new connection (see the class comment). */
  EventLoop choose() {
    EventLoop least = null;
    int leastScore = Integer.MAX_VALUE;
    for (EventLoop l : all) {
      Load ld = loads.get(l);
      int score = ld.handshakes.get() * 64 + ld.connections.get();
      if (score < leastScore) {
        least = l;
        leastScore = score;
      }
    }
    EventLoop best = null;
    int bestConnections = Integer.MAX_VALUE;
    for (EventLoop l : backendLoops.get()) {
      Load ld = loads.get(l);
      if (ld != null && ld.connections.get() < bestConnections) {
        best = l;
        bestConnections = ld.connections.get();
      }
    }
    if (best == null) {
      return least;
    }
    return loads.get(best).handshakes.get() > loads.get(least).handshakes.get() ? least : best;
  }

  /** For tests and metrics: the load of each thread, in the group's order. */
  List<int[]> loads() {
    List<int[]> out = new ArrayList<>();
    for (EventLoop l : all) {
      Load ld = loads.get(l);
      out.add(new int[] {ld.connections.get(), ld.handshakes.get()});
    }
    return out;
  }

  @Override
  public ChannelFuture register(Channel channel) {
    return placed(channel).register(channel);
  }

  @Override
  public ChannelFuture register(ChannelPromise promise) {
    return placed(promise.channel()).register(promise);
  }

  @Deprecated
  @Override
  public ChannelFuture register(Channel channel, ChannelPromise promise) {
    return register(promise);
  }

  /** Chooses {@code ch}'s thread and counts it there until it closes. */
  private EventLoop placed(Channel ch) {
    EventLoop loop = choose();
    Load ld = loads.get(loop);
    ld.connections.incrementAndGet();
    ld.handshakes.incrementAndGet();
    AtomicBoolean over = new AtomicBoolean();
    Runnable end = () -> {
      if (over.compareAndSet(false, true)) {
        ld.handshakes.decrementAndGet();
      }
    };
    ch.attr(HANDSHAKE_OVER).set(end);
    ch.closeFuture().addListener(f -> {
      end.run();
      ld.connections.decrementAndGet();
    });
    return loop;
  }

  /** {@code ch}'s TLS handshake is over (done or failed): it no longer counts as one. */
  static void handshakeOver(Channel ch) {
    Runnable end = ch.attr(HANDSHAKE_OVER).get();
    if (end != null) {
      end.run();
    }
  }

  @Override
  public EventLoop next() {
    return choose();
  }

  @Override
  public Iterator<EventExecutor> iterator() {
    return node.iterator();
  }

  @Override
  public boolean isShuttingDown() {
    return node.isShuttingDown();
  }

  @Override
  public Future<?> shutdownGracefully(long quietPeriod, long timeout, TimeUnit unit) {
    return node.terminationFuture(); // the node's threads: the node shuts them down
  }

  @Override
  public Future<?> terminationFuture() {
    return node.terminationFuture();
  }

  @Deprecated
  @Override
  public void shutdown() {
    // the node's threads: the node shuts them down
  }

  @Override
  public boolean isShutdown() {
    return node.isShutdown();
  }

  @Override
  public boolean isTerminated() {
    return node.isTerminated();
  }

  @Override
  public boolean awaitTermination(long timeout, TimeUnit unit) throws InterruptedException {
    return node.awaitTermination(timeout, unit);
  }
}
