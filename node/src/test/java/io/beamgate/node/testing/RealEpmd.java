package io.beamgate.node.testing;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.concurrent.TimeUnit;

/** OTP's own {@code epmd}, in the foreground on a free port; killed by PID on close. */
public final class RealEpmd implements AutoCloseable {
  private final Process process;
  private final int port;

  private RealEpmd(Process process, int port) {
    this.process = process;
    this.port = port;
  }

  public static RealEpmd start() throws IOException, InterruptedException {
    String epmd = Erl.require("epmd");
    int port = freePort();
    Process p = new ProcessBuilder(epmd, "-port", Integer.toString(port))
        .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (System.nanoTime() < deadline) {
      try (Socket s = new Socket("127.0.0.1", port)) {
        return new RealEpmd(p, port);
      } catch (IOException e) {
        Thread.sleep(50);
      }
    }
    p.destroyForcibly();
    throw new IOException("epmd did not start on port " + port);
  }

  public static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  public int port() {
    return port;
  }

  /** Runs the real {@code epmd -port P -names} client and returns what it prints. */
  public static String names(int port) throws IOException, InterruptedException {
    Process p = new ProcessBuilder(Erl.require("epmd"), "-port", Integer.toString(port), "-names")
        .redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes());
    p.waitFor(10, TimeUnit.SECONDS);
    return out;
  }

  @Override
  public void close() throws InterruptedException {
    process.destroyForcibly();
    process.waitFor(10, TimeUnit.SECONDS);
  }
}
