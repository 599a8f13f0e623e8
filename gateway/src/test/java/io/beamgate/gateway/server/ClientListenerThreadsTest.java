package io.beamgate.gateway.server;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.beamgate.gateway.config.GatewayConfig;
import io.beamgate.gateway.ops.GatewayMetrics;
import io.beamgate.security.audit.AuditRecord;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.util.concurrent.EventExecutor;
import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The listener accepts on the workers' threads (issue 17: no thread of its own, no hand-off
 * for a connection registered where it was accepted), and can be stopped from one of them.
 */
class ClientListenerThreadsTest {
  /** No connection is made: nothing of a connection's parts is ever asked for. */
  private static final ClientListener.Parts NO_PARTS = new ClientListener.Parts() {
    @Override
    public GatewayState state() {
      throw new AssertionError("no connection expected");
    }

    @Override
    public void audit(AuditRecord r) {
      throw new AssertionError("no connection expected");
    }

    @Override
    public TlsUp tlsUp() {
      throw new AssertionError("no connection expected");
    }

    @Override
    public ClientContext clients() {
      throw new AssertionError("no connection expected");
    }

    @Override
    public void alpnRefused(String peer, String why) {
      throw new AssertionError("no connection expected");
    }

    @Override
    public GatewayConfig.ProxyProtocol proxyProtocol() {
      throw new AssertionError("no connection expected");
    }

    @Override
    public void proxyRefused(String peer, String why) {
      throw new AssertionError("no connection expected");
    }
  };

  private static final GatewayConfig.Limits LIMITS = new GatewayConfig.Limits(10, 10, 10,
      1 << 16, 60_000);

  @Test
  void acceptsOnTheSharedNodeThreadsAndStopsFromOneOfThem() throws Exception {
    EventLoopGroup node = new MultiThreadIoEventLoopGroup(2, NioIoHandler.newFactory());
    try {
      ClientLoops loops = new ClientLoops(node, java.util.List::of);
      ClientListener l = ClientListener.bind(new InetSocketAddress("127.0.0.1", 0), LIMITS, 0,
          loops, new GatewayMetrics(), NO_PARTS);
      assertTrue(contains(node, l.acceptLoop()), "accepts on " + l.acceptLoop()
          + " (expected: one of the node's I/O threads)");
      for (int[] load : loops.loads()) {
        assertTrue(load[0] == 0 && load[1] == 0, "the listening socket is no client connection"
            + " and holds no handshake: " + load[0] + ", " + load[1]);
      }
      // Stopping from the accepting thread itself must not deadlock on that thread.
      l.acceptLoop().submit(l::stopAccepting).get(10, TimeUnit.SECONDS);
      for (int i = 0; i < 100 && l.isActive(); i++) {
        Thread.sleep(20);
      }
      assertFalse(l.isActive(), "still accepting after stopAccepting");
      l.close();
      assertFalse(node.isShuttingDown(), "closing the listener stopped the node's threads");
    } finally {
      node.shutdownGracefully(0, 1, TimeUnit.SECONDS).await(10, TimeUnit.SECONDS);
    }
  }

  @Test
  void acceptsOnItsOwnWorkersWhenItHasThem() throws Exception {
    EventLoopGroup node = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    try {
      ClientListener l = ClientListener.bind(new InetSocketAddress("127.0.0.1", 0), LIMITS, 2,
          new ClientLoops(node, java.util.List::of), new GatewayMetrics(), NO_PARTS);
      try {
        assertFalse(contains(node, l.acceptLoop()), "accepts on the node's thread although"
            + " the listener has workers of its own");
      } finally {
        l.close();
      }
      assertFalse(node.isShuttingDown());
    } finally {
      node.shutdownGracefully(0, 1, TimeUnit.SECONDS).await(10, TimeUnit.SECONDS);
    }
  }

  private static boolean contains(EventLoopGroup group, EventExecutor loop) {
    for (EventExecutor e : group) {
      if (e == loop) {
        return true;
      }
    }
    return false;
  }
}
