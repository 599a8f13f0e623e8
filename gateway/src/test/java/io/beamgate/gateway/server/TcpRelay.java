package io.beamgate.gateway.server;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A TCP relay for tests: forwards each accepted connection to {@code target}, and can be told
 * to stop forwarding in both directions without closing anything, as a partition that drops
 * packets would (nothing arrives, nothing is reset). What was held back flows again on
 * {@link #heal()}, as TCP's retransmissions would deliver it. Threads are daemons; {@link
 * #close} closes every socket.
 */
public final class TcpRelay implements AutoCloseable {
  private final ServerSocket server;
  private final InetSocketAddress target;
  private final AtomicBoolean partitioned = new AtomicBoolean();
  private final Object gate = new Object();
  private final List<Socket> sockets = new CopyOnWriteArrayList<>();
  private volatile boolean closed;

  /** Listens on {@code port} (0: any) of 127.0.0.1 and forwards to 127.0.0.1:{@code to}. */
  public TcpRelay(int port, int to) throws IOException {
    this.server = new ServerSocket(port, 50, InetAddress.getLoopbackAddress());
    this.target = new InetSocketAddress(InetAddress.getLoopbackAddress(), to);
    Thread t = new Thread(this::accept, "relay-accept-" + server.getLocalPort());
    t.setDaemon(true);
    t.start();
  }

  public int port() {
    return server.getLocalPort();
  }

  /** Stops forwarding both ways; connections stay open. */
  public void partition() {
    partitioned.set(true);
  }

  /** Forwards again, what was held back first. */
  public void heal() {
    synchronized (gate) {
      partitioned.set(false);
      gate.notifyAll();
    }
  }

  private void accept() {
    while (!closed) {
      try {
        Socket in = server.accept();
        sockets.add(in);
        if (partitioned.get()) {
          continue; // a SYN that got through, then silence
        }
        Socket out = new Socket();
        sockets.add(out);
        out.connect(target, 2_000);
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
      try {
        InputStream is = from.getInputStream();
        OutputStream os = to.getOutputStream();
        while (true) {
          int n = is.read(buf);
          awaitHealed(); // a close does not cross a partition either
          if (n < 0) {
            break;
          }
          os.write(buf, 0, n);
          os.flush();
        }
      } catch (IOException | InterruptedException e) {
        // closed
      }
      quietClose(from);
      quietClose(to);
    }, "relay-pump");
    t.setDaemon(true);
    t.start();
  }

  private void awaitHealed() throws InterruptedException {
    synchronized (gate) {
      while (partitioned.get() && !closed) {
        gate.wait(100);
      }
    }
  }

  private static void quietClose(Socket s) {
    try {
      s.close();
    } catch (IOException ignored) {
      // closing anyway
    }
  }

  @Override
  public void close() {
    closed = true;
    heal();
    try {
      server.close();
    } catch (IOException ignored) {
      // closing anyway
    }
    sockets.forEach(TcpRelay::quietClose);
  }
}
