package io.beamgate.gateway.server;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The operator's line into a running gateway: a Unix socket, owner-only, on which
 * {@code beamgate gateway reload}, {@code reopen-audit} and {@code status} write one command
 * line ({@code reload}, {@code reopen-audit} or {@code status}) and read one answer line, {@code ok ...} or
 * {@code error ...}; the status is one JSON document (the same as the admin listener's
 * {@code /status}).
 *
 * <p>Several clients are served at once, each on its own thread, up to {@code maxClients};
 * a client that sends no full line within {@code readTimeout} is closed, so one idle client
 * never blocks the others, and clients past the limit are told so at once.
 */
public final class AdminSocket implements AutoCloseable {
  /** What the socket may ask of the gateway (and nothing else of it). */
  interface Operator {
    /** Reloads; {@code ok MESSAGE} or {@code error MESSAGE}. */
    String reload();

    /** Reopens the audit file; {@code ok MESSAGE} or {@code error MESSAGE}. */
    String reopenAudit();

    /** The gateway's status as data. */
    java.util.Map<String, Object> status();
  }

  private static final Logger log = LoggerFactory.getLogger(AdminSocket.class);
  /** Clients served at once. */
  static final int DEFAULT_MAX_CLIENTS = 4;
  /** How long a client may take to send its command line. */
  static final Duration DEFAULT_READ_TIMEOUT = Duration.ofSeconds(5);
  private final Path path;
  private final ServerSocketChannel server;
  private final Thread thread;
  private final java.util.concurrent.ThreadPoolExecutor workers;
  private final java.util.concurrent.ScheduledExecutorService timeouts;
  private final Duration readTimeout;

  private AdminSocket(Path path, ServerSocketChannel server, Operator gateway,
      int maxClients, Duration readTimeout) {
    this.path = path;
    this.server = server;
    this.readTimeout = readTimeout;
    java.util.concurrent.atomic.AtomicInteger n = new java.util.concurrent.atomic.AtomicInteger();
    // No queue: a client past maxClients is answered "busy" rather than left waiting.
    this.workers = new java.util.concurrent.ThreadPoolExecutor(maxClients, maxClients, 30,
        java.util.concurrent.TimeUnit.SECONDS, new java.util.concurrent.SynchronousQueue<>(),
        r -> {
          Thread t = new Thread(r, "beamgate-admin-" + n.incrementAndGet());
          t.setDaemon(true);
          return t;
        });
    workers.allowCoreThreadTimeOut(true);
    this.timeouts = java.util.concurrent.Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "beamgate-admin-timeouts");
      t.setDaemon(true);
      return t;
    });
    this.thread = new Thread(() -> serve(gateway), "beamgate-admin");
    thread.setDaemon(true);
    thread.start();
  }

  static AdminSocket open(Path path, Operator gateway) throws IOException {
    return open(path, gateway, DEFAULT_MAX_CLIENTS, DEFAULT_READ_TIMEOUT);
  }

  static AdminSocket open(Path path, Operator gateway, int maxClients,
      Duration readTimeout) throws IOException {
    if (maxClients < 1) {
      throw new IllegalArgumentException("maxClients: " + maxClients + " (expected: >= 1)");
    }
    if (Files.exists(path)) {
      // A socket left by a gateway that died; refuse to take over one that answers.
      try (SocketChannel probe = SocketChannel.open(UnixDomainSocketAddress.of(path))) {
        throw new IOException("another gateway is answering on " + path);
      } catch (IOException e) {
        if (e.getMessage() != null && e.getMessage().startsWith("another gateway")) {
          throw e;
        }
        Files.delete(path);
      }
    }
    ServerSocketChannel s = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
    try {
      s.bind(UnixDomainSocketAddress.of(path));
      Files.setPosixFilePermissions(path, PosixFilePermissions.fromString("rw-------"));
    } catch (IOException | UnsupportedOperationException e) {
      s.close();
      throw e instanceof IOException io ? io : new IOException(e.getMessage(), e);
    }
    log.info("admin socket: {}", path);
    return new AdminSocket(path, s, gateway, maxClients, readTimeout);
  }

  private void serve(Operator gateway) {
    while (server.isOpen()) {
      SocketChannel c;
      try {
        c = server.accept();
      } catch (IOException e) {
        if (server.isOpen()) {
          log.debug("admin socket accept: {}", e.getMessage());
        }
        continue;
      }
      try {
        workers.execute(() -> answer(c, gateway));
      } catch (java.util.concurrent.RejectedExecutionException e) {
        // Answered shortly, without blocking the timer's one thread: its command is read
        // first (closing with unread bytes would reset the connection, losing the answer).
        timeouts.schedule(() -> tellBusy(c), 50, java.util.concurrent.TimeUnit.MILLISECONDS);
      }
    }
  }

  private void answer(SocketChannel c, Operator gateway) {
    // Closing the channel from the timer ends a read that waits for a silent client.
    java.util.concurrent.ScheduledFuture<?> timeout = timeouts.schedule(() -> {
      try {
        c.close();
      } catch (IOException ignored) {
        // closed already
      }
    }, readTimeout.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS);
    try (c) {
      String cmd = readLine(c);
      timeout.cancel(false);
      String answer;
      if ("reload".equals(cmd)) {
        answer = gateway.reload();
      } else if ("reopen-audit".equals(cmd)) {
        answer = gateway.reopenAudit();
      } else if ("status".equals(cmd)) {
        answer = "ok " + io.beamgate.gateway.ops.Json.write(gateway.status());
      } else {
        answer = "error unknown command '" + cmd
            + "' (expected: reload, reopen-audit or status)";
      }
      write(c, answer);
    } catch (IOException e) {
      log.debug("admin connection: {}", e.getMessage());
    } finally {
      timeout.cancel(false);
    }
  }

  private void tellBusy(SocketChannel c) {
    try (c) {
      c.configureBlocking(false);
      ByteBuffer sink = ByteBuffer.allocate(256);
      while (c.read(sink) > 0) {
        sink.clear();
      }
      c.write(ByteBuffer.wrap(("error busy: " + workers.getMaximumPoolSize() + " admin"
          + " clients are being served; try again\n").getBytes(StandardCharsets.UTF_8)));
    } catch (IOException ignored) {
      // the client left
    }
  }

  private static void write(SocketChannel c, String answer) throws IOException {
    ByteBuffer b = ByteBuffer.wrap((answer.replace('\n', ' ') + "\n")
        .getBytes(StandardCharsets.UTF_8));
    while (b.hasRemaining()) {
      c.write(b);
    }
  }

  private static String readLine(SocketChannel c) throws IOException {
    ByteBuffer b = ByteBuffer.allocate(256);
    while (b.hasRemaining()) {
      if (c.read(b) < 0) {
        break;
      }
      for (int i = 0; i < b.position(); i++) {
        if (b.get(i) == '\n') {
          return new String(b.array(), 0, i, StandardCharsets.UTF_8).trim();
        }
      }
    }
    return new String(b.array(), 0, b.position(), StandardCharsets.UTF_8).trim();
  }

  /** Sends {@code command} to the gateway listening on {@code path}; returns its answer. */
  public static String ask(Path path, String command, Duration timeout) throws IOException {
    try (SocketChannel c = SocketChannel.open(UnixDomainSocketAddress.of(path))) {
      c.write(ByteBuffer.wrap((command + "\n").getBytes(StandardCharsets.UTF_8)));
      c.shutdownOutput();
      java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
      ByteBuffer b = ByteBuffer.allocate(64 * 1024);
      while (c.read(b) >= 0) {
        out.write(b.array(), 0, b.position());
        b.clear();
        if (out.size() > MAX_ANSWER_BYTES) {
          throw new IOException("the gateway's answer is longer than " + MAX_ANSWER_BYTES
              + " bytes");
        }
      }
      return out.toString(StandardCharsets.UTF_8).trim();
    }
  }

  /** The longest answer {@link #ask} reads (a status with many bridges and backends). */
  static final int MAX_ANSWER_BYTES = 16 << 20;

  @Override
  public void close() {
    workers.shutdownNow();
    timeouts.shutdownNow();
    try {
      server.close();
      Files.deleteIfExists(path);
    } catch (IOException e) {
      log.debug("closing admin socket: {}", e.getMessage());
    }
  }
}
