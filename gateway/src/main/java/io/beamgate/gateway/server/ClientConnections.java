package io.beamgate.gateway.server;

import io.beamgate.gateway.proto.Error;
import java.util.Iterator;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The client connections whose peer is known, for reloads (which check each again) and the
 * drain at shutdown (the lifecycle's end: stop accepting, drain, tell, close). Once
 * {@link #closeAll} or {@link #refuseNew} ran, a connection that comes up is told the gateway
 * is shutting down and closed.
 */
final class ClientConnections implements Iterable<ClientConnection> {
  static final String SHUTTING_DOWN = "the gateway is shutting down";
  private final Set<ClientConnection> open = ConcurrentHashMap.newKeySet();
  private volatile boolean closing;

  void add(ClientConnection c) {
    open.add(c);
    if (closing) {
      c.closeWith(Error.Code.CLOSING, SHUTTING_DOWN);
    }
  }

  void remove(ClientConnection c) {
    open.remove(c);
  }

  int size() {
    return open.size();
  }

  /** From now on, connections coming up are closed as soon as they are known. */
  void refuseNew() {
    closing = true;
  }

  /**
   * The drain at shutdown: waits up to {@code grace} for the requests in flight (as
   * {@code inFlight} counts them, both doors) to end.
   */
  void drain(java.util.function.IntSupplier inFlight, java.time.Duration grace) {
    long end = System.nanoTime() + grace.toNanos();
    while (inFlight.getAsInt() > 0 && System.nanoTime() < end) {
      try {
        Thread.sleep(20);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
    }
  }

  /** Closes every open connection's channel now, without a word (the gateway stops). */
  void closeChannels() {
    for (ClientConnection c : open) {
      if (c.channel() != null) {
        c.channel().close();
      }
    }
  }

  /** Tells every open connection the gateway is shutting down, and closes it. */
  void closeAll() {
    closing = true;
    for (ClientConnection c : open) {
      c.closeWith(Error.Code.CLOSING, SHUTTING_DOWN);
    }
  }

  @Override
  public Iterator<ClientConnection> iterator() {
    return open.iterator();
  }
}
