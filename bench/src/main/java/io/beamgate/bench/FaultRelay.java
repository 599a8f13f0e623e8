package io.beamgate.bench;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A TCP relay on loopback for the fault run. While {@link #partition(boolean) partitioned} it
 * forwards nothing in either direction and closes nothing: both ends see a connection that is
 * up and silent, as with packets dropped by a firewall (a silent partition), with no reset.
 */
final class FaultRelay implements AutoCloseable {
  private final ServerSocket server;
  private final int target;
  private final List<Socket> sockets = new CopyOnWriteArrayList<>();
  private volatile boolean partitioned;
  private volatile boolean closed;

  FaultRelay(int target) throws IOException {
    this.target = target;
    this.server = new ServerSocket(0, 200, InetAddress.getLoopbackAddress());
    Thread t = new Thread(this::acceptLoop, "relay-accept-" + target);
    t.setDaemon(true);
    t.start();
  }

  int port() {
    return server.getLocalPort();
  }

  void partition(boolean on) {
    partitioned = on;
  }

  private void acceptLoop() {
    while (!closed) {
      try {
        Socket in = server.accept();
        Socket out = new Socket();
        try {
          out.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), target), 2000);
        } catch (IOException e) {
          in.close();
          continue;
        }
        sockets.add(in);
        sockets.add(out);
        pump(in, out);
        pump(out, in);
      } catch (IOException e) {
        if (closed) {
          return;
        }
      }
    }
  }

  private void pump(Socket from, Socket to) {
    Thread t = new Thread(() -> {
      byte[] buf = new byte[16384];
      try (InputStream i = from.getInputStream(); OutputStream o = to.getOutputStream()) {
        while (true) {
          // Partitioned: stop reading, so the sender's kernel buffers fill and nothing moves.
          while (partitioned && !closed) {
            Thread.sleep(20);
          }
          int n = i.read(buf);
          if (n < 0) {
            break;
          }
          // Data read just before a partition is held until it heals, like a dropped packet
          // that TCP retransmits later.
          while (partitioned && !closed) {
            Thread.sleep(20);
          }
          o.write(buf, 0, n);
          o.flush();
        }
      } catch (IOException | InterruptedException e) {
        // the other side went away
      } finally {
        close(from);
        close(to);
      }
    }, "relay-pump");
    t.setDaemon(true);
    t.start();
  }

  private void close(Socket s) {
    try {
      s.close();
    } catch (IOException e) {
      // already closed
    }
    sockets.remove(s);
  }

  @Override
  public void close() throws IOException {
    closed = true;
    server.close();
    for (Socket s : sockets) {
      close(s);
    }
  }
}
