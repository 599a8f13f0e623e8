package io.beamgate.bench;

import io.beamgate.bench.Handshakes.TlsTarget;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;

/**
 * Memory per idle connection: opens {@code n} mutual-TLS 1.3 connections to a listener (full
 * handshakes, the client certificate presented), leaves them idle, and reads the listening
 * process's memory before and after, from outside:
 *
 * <ul>
 *   <li>RSS: {@code VmRSS} of {@code /proc/PID/status} — everything the process holds (heap,
 *       direct buffers, native TLS state, thread stacks);
 *   <li>Java heap in use after a full GC ({@code jcmd PID GC.run}, then {@code GC.heap_info})
 *       when the process is a JVM, so garbage is not counted.
 * </ul>
 *
 * Both are read after a GC and a settling pause, before and after opening; the delta over
 * {@code n} is the cost per connection. A sample of the connections is checked to be still
 * open (not closed by the server) at the end.
 */
final class IdleConnections {
  private IdleConnections() {}

  record Memory(long rssBytes, long heapUsedBytes) {}

  record Result(String target, int connections, Memory before, Memory after, double openSeconds,
      int sampledOpen, int sampled) {
    double rssPerConnection() {
      return (after.rssBytes() - before.rssBytes()) / (double) connections;
    }

    double heapPerConnection() {
      return before.heapUsedBytes() < 0 ? Double.NaN
          : (after.heapUsedBytes() - before.heapUsedBytes()) / (double) connections;
    }
  }

  static Result measure(TlsTarget target, long pid, int n) throws Exception {
    Memory before = memory(pid);
    SSLContext ctx = Handshakes.context(target.client(), target.client().ca());
    List<SSLSocket> sockets = Collections.synchronizedList(new ArrayList<>(n));
    AtomicInteger next = new AtomicInteger();
    ExecutorService pool = Executors.newFixedThreadPool(8);
    long t0 = System.nanoTime();
    try {
      List<Future<?>> jobs = new ArrayList<>();
      for (int t = 0; t < 8; t++) {
        jobs.add(pool.submit(() -> {
          while (next.getAndIncrement() < n) {
            SSLSocket s = (SSLSocket) ctx.getSocketFactory().createSocket();
            sockets.add(s);
            s.setTcpNoDelay(true); // each handshake flight goes out at once, no Nagle wait
            s.connect(new InetSocketAddress(target.host(), target.port()), 10_000);
            SSLParameters p = s.getSSLParameters();
            p.setProtocols(new String[] {"TLSv1.3"});
            s.setSSLParameters(p);
            s.startHandshake();
          }
          return null;
        }));
      }
      for (Future<?> f : jobs) {
        f.get();
      }
      double openSeconds = (System.nanoTime() - t0) / 1e9;
      Thread.sleep(2000); // let the server finish the last handshakes (TLS 1.3: after ours)
      Memory after = memory(pid);
      int sampled = Math.min(100, sockets.size());
      int open = 0;
      for (int i = 0; i < sampled; i++) {
        SSLSocket s = sockets.get(i * (sockets.size() / sampled));
        s.setSoTimeout(20);
        try {
          if (s.getInputStream().read() >= 0) {
            open++; // the server spoke first: still open
          }
        } catch (SocketTimeoutException e) {
          open++;
        } catch (IOException e) {
          // closed or reset by the server
        }
      }
      return new Result(target.name(), n, before, after, openSeconds, open, sampled);
    } finally {
      pool.shutdownNow();
      for (SSLSocket s : sockets) {
        try {
          s.close();
        } catch (IOException e) {
          // closing anyway
        }
      }
    }
  }

  /** RSS, and the heap in use after a full GC when {@code pid} is a JVM (-1 otherwise). */
  static Memory memory(long pid) throws Exception {
    long heap = -1;
    if (jcmd(pid, "GC.run") != null) {
      Thread.sleep(1000);
      String info = jcmd(pid, "GC.heap_info");
      Matcher m = info == null ? null : Pattern.compile("used (\\d+)K").matcher(info);
      if (m != null && m.find()) {
        heap = Long.parseLong(m.group(1)) * 1024;
      }
    } else {
      Thread.sleep(1000);
    }
    for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
      if (line.startsWith("VmRSS:")) {
        return new Memory(Long.parseLong(line.replaceAll("\\D", "")) * 1024, heap);
      }
    }
    throw new IOException("no VmRSS for process " + pid);
  }

  private static String jcmd(long pid, String command) throws Exception {
    Process p = new ProcessBuilder("jcmd", Long.toString(pid), command).redirectErrorStream(true)
        .start();
    try {
      String out = Harness.output(p, 30);
      return p.waitFor(1, TimeUnit.SECONDS) && p.exitValue() == 0 ? out : null;
    } finally {
      Harness.kill(p);
    }
  }
}
