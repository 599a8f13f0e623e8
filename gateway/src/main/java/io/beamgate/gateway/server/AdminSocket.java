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
 * {@code beamgate gateway reload} writes one command line ({@code reload} or {@code status})
 * and reads one answer line, {@code ok ...} or {@code error ...}.
 */
public final class AdminSocket implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(AdminSocket.class);
  private final Path path;
  private final ServerSocketChannel server;
  private final Thread thread;

  private AdminSocket(Path path, ServerSocketChannel server, GatewayServer gateway) {
    this.path = path;
    this.server = server;
    this.thread = new Thread(() -> serve(gateway), "beamgate-admin");
    thread.setDaemon(true);
    thread.start();
  }

  static AdminSocket open(Path path, GatewayServer gateway) throws IOException {
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
    return new AdminSocket(path, s, gateway);
  }

  private void serve(GatewayServer gateway) {
    while (server.isOpen()) {
      try (SocketChannel c = server.accept()) {
        String cmd = readLine(c);
        String answer;
        if ("reload".equals(cmd)) {
          GatewayServer.ReloadResult r = gateway.reload();
          answer = (r.ok() ? "ok " : "error ") + r.message();
        } else if ("status".equals(cmd)) {
          answer = "ok " + new java.util.TreeMap<>(gateway.status());
        } else {
          answer = "error unknown command '" + cmd + "' (expected: reload or status)";
        }
        c.write(ByteBuffer.wrap((answer.replace('\n', ' ') + "\n")
            .getBytes(StandardCharsets.UTF_8)));
      } catch (IOException e) {
        if (server.isOpen()) {
          log.debug("admin connection: {}", e.getMessage());
        }
      }
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
      ByteBuffer b = ByteBuffer.allocate(64 * 1024);
      while (c.read(b) >= 0 && b.hasRemaining()) {
        // read to the end
      }
      return new String(b.array(), 0, b.position(), StandardCharsets.UTF_8).trim();
    }
  }

  @Override
  public void close() {
    try {
      server.close();
      Files.deleteIfExists(path);
    } catch (IOException e) {
      log.debug("closing admin socket: {}", e.getMessage());
    }
  }
}
