package io.beamgate.gateway.server;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.channel.Channel;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.util.concurrent.EventExecutor;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Where ClientLoops puts new connections: real NIO threads, unconnected NIO channels. */
class ClientLoopsTest {
  final EventLoopGroup group = new MultiThreadIoEventLoopGroup(3, NioIoHandler.newFactory());
  final List<EventLoop> loops = new ArrayList<>();
  final AtomicReference<List<EventLoop>> backends = new AtomicReference<>(List.of());
  final List<Channel> channels = new ArrayList<>();

  ClientLoopsTest() {
    for (EventExecutor e : group) {
      loops.add((EventLoop) e);
    }
  }

  @AfterEach
  void tearDown() {
    channels.forEach(Channel::close);
    group.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly(5000);
  }

  Channel open(ClientLoops cl) {
    Channel ch = new NioSocketChannel();
    cl.register(ch).syncUninterruptibly();
    channels.add(ch);
    return ch;
  }

  @Test
  void withoutABackendUpConnectionsAreSpreadOverEveryThread() {
    ClientLoops cl = new ClientLoops(group, backends::get);
    List<EventLoop> got = new ArrayList<>();
    for (int i = 0; i < 6; i++) {
      Channel ch = open(cl);
      ClientLoops.handshakeOver(ch);
      got.add(ch.eventLoop());
    }
    for (EventLoop l : loops) {
      assertTrue(got.stream().filter(x -> x == l).count() == 2, "two on each thread: " + got);
    }
  }

  @Test
  void connectionsGoToTheBackendsThreadOnceTheirHandshakesAreOver() {
    backends.set(List.of(loops.get(1)));
    ClientLoops cl = new ClientLoops(group, backends::get);
    for (int i = 0; i < 5; i++) {
      Channel ch = open(cl);
      assertSame(loops.get(1), ch.eventLoop(), "connection " + i);
      ClientLoops.handshakeOver(ch);
      ClientLoops.handshakeOver(ch); // counted once
    }
    assertArrayEquals(new int[] {0, 0}, cl.loads().get(0));
    assertArrayEquals(new int[] {5, 0}, cl.loads().get(1));
  }

  @Test
  void aHandshakeStormSpillsOverToTheOtherThreadsAndComesBack() {
    backends.set(List.of(loops.get(0)));
    ClientLoops cl = new ClientLoops(group, backends::get);
    List<Channel> storm = new ArrayList<>();
    for (int i = 0; i < 6; i++) {
      storm.add(open(cl)); // handshakes under way, none over
    }
    for (EventLoop l : loops) {
      assertTrue(storm.stream().filter(c -> c.eventLoop() == l).count() == 2,
          "handshakes spread over every thread");
    }
    storm.forEach(ClientLoops::handshakeOver);
    // calm again: the backend's thread, although it holds as many connections as the others
    assertSame(loops.get(0), open(cl).eventLoop());
  }

  @Test
  void ofTwoBackendsTheThreadWithFewerClientsIsTaken() throws Exception {
    backends.set(List.of(loops.get(0), loops.get(2)));
    ClientLoops cl = new ClientLoops(group, backends::get);
    List<EventLoop> got = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      Channel ch = open(cl);
      ClientLoops.handshakeOver(ch);
      got.add(ch.eventLoop());
    }
    assertTrue(got.stream().allMatch(l -> l == loops.get(0) || l == loops.get(2)), "" + got);
    assertArrayEquals(new int[] {2, 0}, cl.loads().get(0));
    assertArrayEquals(new int[] {2, 0}, cl.loads().get(2));
    // a closed connection is no longer counted
    Channel first = channels.get(0);
    first.close().syncUninterruptibly();
    long end = System.nanoTime() + 2_000_000_000L;
    while (cl.loads().get(loops.indexOf(first.eventLoop()))[0] != 1
        && System.nanoTime() < end) {
      Thread.sleep(5);
    }
    assertArrayEquals(new int[] {1, 0}, cl.loads().get(loops.indexOf(first.eventLoop())));
  }

  @Test
  void aConnectionClosedDuringItsHandshakeNoLongerCountsAsOne() throws Exception {
    backends.set(List.of(loops.get(0)));
    ClientLoops cl = new ClientLoops(group, backends::get);
    Channel ch = open(cl);
    ch.close().syncUninterruptibly();
    long end = System.nanoTime() + 2_000_000_000L;
    while (cl.loads().get(0)[1] != 0 && System.nanoTime() < end) {
      Thread.sleep(5);
    }
    assertArrayEquals(new int[] {0, 0}, cl.loads().get(0));
  }
}
