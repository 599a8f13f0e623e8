package io.beamgate.bench;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

/**
 * A TCP relay on loopback for the fault run. While {@link #partition(boolean) partitioned} it
 * forwards nothing in either direction and closes nothing: both ends see a connection that is
 * up and silent, as with packets dropped by a firewall (a silent partition), with no reset.
 *
 * <p>While {@link #impair impaired} it delays every chunk it forwards by a latency with
 * jitter, and holds a fraction of the chunks (and everything behind them) for a stall: what an
 * application sees of packet loss over TCP is a retransmission delay of at least the minimum
 * RTO (200 ms on Linux), in order, with nothing lost. A real qdisc ({@code tc netem}) is not
 * available in this sandbox (gVisor has no netem), so the relay emulates loss that way.
 * Chunks are timestamped when read and written when due by a second thread, so latency does
 * not cut the throughput.
 */
final class FaultRelay implements AutoCloseable {
  /** Latency, jitter and stalls to add; {@link #NONE} for none. */
  record Impairment(int latencyMs, int jitterMs, double stallProbability, int stallMs) {
    static final Impairment NONE = new Impairment(0, 0, 0, 0);

    long delayNanos() {
      if (this == NONE) {
        return 0;
      }
      ThreadLocalRandom r = ThreadLocalRandom.current();
      long ms = latencyMs + (jitterMs == 0 ? 0 : r.nextInt(-jitterMs, jitterMs + 1));
      if (stallProbability > 0 && r.nextDouble() < stallProbability) {
        ms += stallMs;
      }
      return TimeUnit.MILLISECONDS.toNanos(Math.max(0, ms));
    }

    @Override
    public String toString() {
      return this == NONE ? "none" : latencyMs + " ms ± " + jitterMs + " ms each way, "
          + stallProbability * 100 + "% of chunks held " + stallMs + " ms (loss as TCP shows it)";
    }
  }

  private record Chunk(byte[] data, long dueNanos) {}

  private static final Chunk EOF = new Chunk(new byte[0], 0);

  private final ServerSocket server;
  private final int target;
  private final List<Socket> sockets = new CopyOnWriteArrayList<>();
  private volatile boolean partitioned;
  private volatile boolean closed;
  private volatile Impairment impairment = Impairment.NONE;

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

  void impair(Impairment i) {
    impairment = i;
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
        in.setTcpNoDelay(true);
        out.setTcpNoDelay(true);
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
    BlockingQueue<Chunk> queue = new LinkedBlockingQueue<>(1024);
    Thread reader = new Thread(() -> {
      byte[] buf = new byte[16384];
      long lastDue = 0;
      try {
        InputStream i = from.getInputStream(); // closed by the writer, with the socket
        while (true) {
          // Partitioned: stop reading, so the sender's kernel buffers fill and nothing moves.
          while (partitioned && !closed) {
            Thread.sleep(20);
          }
          int n = i.read(buf);
          if (n < 0) {
            break;
          }
          // Never before the chunk ahead of it: TCP delivers in order.
          long due = Math.max(lastDue, System.nanoTime() + impairment.delayNanos());
          lastDue = due;
          queue.put(new Chunk(Arrays.copyOf(buf, n), due));
        }
      } catch (IOException | InterruptedException e) {
        // the other side went away
      } finally {
        queue.offer(EOF);
      }
    }, "relay-read");
    Thread writer = new Thread(() -> {
      try (OutputStream o = to.getOutputStream()) {
        while (true) {
          Chunk c = queue.poll(1, TimeUnit.SECONDS);
          if (c == null) {
            if (closed) {
              break;
            }
            continue;
          }
          if (c == EOF) {
            break;
          }
          long wait = c.dueNanos() - System.nanoTime();
          if (wait > 0) {
            TimeUnit.NANOSECONDS.sleep(wait);
          }
          // Data read just before a partition is held until it heals, like a dropped packet
          // that TCP retransmits later.
          while (partitioned && !closed) {
            Thread.sleep(20);
          }
          o.write(c.data());
          o.flush();
        }
      } catch (IOException | InterruptedException e) {
        // the other side went away
      } finally {
        close(from);
        close(to);
      }
    }, "relay-write");
    reader.setDaemon(true);
    writer.setDaemon(true);
    reader.start();
    writer.start();
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
