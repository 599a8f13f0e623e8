package io.beamgate.node;

import io.beamgate.node.dist.ControlMessage;
import io.beamgate.node.term.Term;
import java.util.function.Predicate;

/**
 * What only a gateway does with a node, behind one named door ({@link LocalNode#gatewayDoor()}):
 * it sees control messages before the node acts on them, relays raw ones for processes it
 * stands in for, decides which nodes may connect, pauses reading for backpressure, reaches
 * backends at static ports, and serves its own connections on the node's I/O threads.
 * Applications that only call and send never need it; the methods are not on {@link LocalNode}
 * itself. No transport type appears here: {@link #ioThreads} names the one the caller expects.
 */
public interface GatewayDoor {
  /**
   * Sets who sees control messages before this node acts on them (null: nobody). See
   * {@link ControlInterceptor}.
   */
  void interceptor(ControlInterceptor i);

  /**
   * Sends a raw control message (and payload, or null) to {@code node}, connecting first when
   * needed: for relays that act for processes this node stands in for.
   */
  void sendControl(String node, ControlMessage control, Term payload);

  /**
   * Decides which nodes may connect to this one (null: any with the cookie); a node refused
   * here is told {@code not_allowed} during the handshake.
   */
  void acceptGate(Predicate<String> gate);

  /**
   * Stops (true) or resumes reading from every distribution connection: backpressure when what
   * the node receives cannot be passed on fast enough. Ticks from peers wait too, so pause
   * briefly (well under the net tick time).
   */
  void pauseReading(boolean pause);

  /** Closes every distribution connection (each peer sees this node go down). */
  void disconnectAll();

  /**
   * Reaches {@code node} at distribution port {@code port} instead of asking EPMD on its host
   * (0: ask EPMD again).
   */
  void staticPort(String node, int port);

  /**
   * The threads that do this node's network I/O, as {@code type} (Netty's
   * {@code EventLoopGroup} today), for a component that wants its own connections served by
   * them (fewer hand-offs between threads). Only non-blocking work may run there; their life
   * is the node's: do not shut them down.
   *
   * @throws IllegalArgumentException when the node's threads are not a {@code type}
   */
  <T> T ioThreads(Class<T> type);

  /**
   * The one of {@link #ioThreads} that serves the distribution connection to {@code node}, as
   * {@code type} (Netty's {@code EventLoop} today), while that connection is up; else null. A
   * component whose own connection mostly talks to {@code node} can be served by the same
   * thread: its requests and their answers then cross no thread at all.
   *
   * @throws IllegalArgumentException when the node's threads are not {@code type}s
   */
  <T> T ioThreadOf(String node, Class<T> type);
}
