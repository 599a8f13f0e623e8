package io.beamgate.gateway.server;

import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * A real HAProxy (Debian's {@code haproxy}) run in the foreground for one test, stopped by its
 * own PID. Missing HAProxy fails the test under CI=true and skips it elsewhere.
 */
final class HaProxy implements AutoCloseable {
  private final Process process;
  final Path log;

  private HaProxy(Process process, Path log) {
    this.process = process;
    this.log = log;
  }

  static String require() {
    for (String p : List.of("/usr/sbin/haproxy", "/usr/local/sbin/haproxy")) {
      if (Files.isExecutable(Path.of(p))) {
        return p;
      }
    }
    String found = io.beamgate.node.testing.Erl.find("haproxy");
    if (found != null) {
      return found;
    }
    io.beamgate.node.testing.Needs.missing("haproxy not found: install Debian's haproxy");
    return null;
  }

  /** Starts HAProxy with {@code config} and waits until each of {@code ports} accepts. */
  static HaProxy start(Path dir, String config, int... ports) throws Exception {
    String bin = require();
    Path cfg = dir.resolve("haproxy.cfg");
    Files.writeString(cfg, config, StandardCharsets.UTF_8);
    Path log = dir.resolve("haproxy.out");
    Process p = new ProcessBuilder(bin, "-db", "-f", cfg.toString())
        .redirectErrorStream(true).redirectOutput(log.toFile()).start();
    HaProxy h = new HaProxy(p, log);
    long end = System.nanoTime() + 10_000_000_000L;
    for (int port : ports) {
      while (true) {
        if (!p.isAlive()) {
          String out = Files.readString(log);
          fail("haproxy exited (" + p.exitValue() + "): " + out);
        }
        try (Socket s = new Socket()) {
          s.connect(new InetSocketAddress("127.0.0.1", port), 200);
          break;
        } catch (IOException e) {
          if (System.nanoTime() > end) {
            h.close();
            fail("haproxy does not listen on " + port + ": " + Files.readString(log));
          }
          Thread.sleep(50);
        }
      }
    }
    return h;
  }

  @Override
  public void close() throws InterruptedException {
    process.destroy();
    if (!process.waitFor(5, java.util.concurrent.TimeUnit.SECONDS)) {
      process.destroyForcibly();
    }
  }
}
