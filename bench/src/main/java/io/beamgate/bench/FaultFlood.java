package io.beamgate.bench;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.util.ArrayList;
import java.util.List;

/**
 * A connection flood for the fault run: {@code count} TCP connections to the gateway that
 * never send a byte (no TLS ClientHello), held open until closed. Non-blocking channels, so
 * the flood costs this JVM no thread per connection.
 */
final class FaultFlood implements AutoCloseable {
  private final List<SocketChannel> channels = new ArrayList<>();

  FaultFlood(int port, int count) {
    InetSocketAddress to = new InetSocketAddress(InetAddress.getLoopbackAddress(), port);
    for (int i = 0; i < count; i++) {
      try {
        SocketChannel ch = SocketChannel.open(to);
        ch.configureBlocking(false);
        channels.add(ch);
      } catch (IOException e) {
        // refused at accept: the backlog is full; counted by opened()
      }
    }
  }

  int opened() {
    return channels.size();
  }

  /** How many of the flood's connections the gateway has closed (a read sees end of stream). */
  int closedByGateway() {
    int closed = 0;
    ByteBuffer b = ByteBuffer.allocate(4096);
    for (SocketChannel ch : channels) {
      try {
        b.clear();
        int n;
        while ((n = ch.read(b)) > 0) {
          b.clear();
        }
        if (n < 0) {
          closed++;
        }
      } catch (IOException e) {
        closed++; // reset
      }
    }
    return closed;
  }

  @Override
  public void close() {
    for (SocketChannel ch : channels) {
      try {
        ch.close();
      } catch (IOException e) {
        // already gone
      }
    }
  }
}
