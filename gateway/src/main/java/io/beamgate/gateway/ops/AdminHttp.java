package io.beamgate.gateway.ops;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The admin HTTP listener (the JDK's com.sun.net.httpserver: four GET endpoints need no web
 * framework): {@code /metrics} Prometheus or OpenMetrics text, {@code /live} 200 while the
 * process answers, {@code /ready} 200 or 503 with the reasons, {@code /status} the gateway's
 * status as JSON (the same document as {@code beamgate gateway status --json}). It has no
 * authentication: it listens on loopback unless the configuration allows otherwise.
 */
public final class AdminHttp implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(AdminHttp.class);
  /**
   * Threads answering requests, started as needed and ended when idle: scrapes and probes are
   * short, but a client that sends half a request holds one until the time limit below.
   */
  static final int THREADS = 16;
  private final HttpServer server;
  private final ExecutorService executor;

  static {
    // The JDK server reads a request's head on an executor thread with no time limit: a
    // client that sends half a request would hold one of the THREADS for good. These (read
    // once per JVM, in seconds) close such a connection; set on the command line, they win.
    if (System.getProperty("sun.net.httpserver.maxReqTime") == null) {
      System.setProperty("sun.net.httpserver.maxReqTime", "10");
    }
    if (System.getProperty("sun.net.httpserver.maxRspTime") == null) {
      System.setProperty("sun.net.httpserver.maxRspTime", "30");
    }
  }

  private AdminHttp(HttpServer server, ExecutorService executor) {
    this.server = server;
    this.executor = executor;
  }

  /** Binds {@code host:port} (port 0: any free port) and starts serving. */
  public static AdminHttp start(String host, int port, GatewayMetrics metrics,
      Supplier<Health.Facts> facts, Supplier<Map<String, Object>> status) throws IOException {
    InetSocketAddress addr = new InetSocketAddress(host, port);
    HttpServer s;
    try {
      s = HttpServer.create(addr, 16);
    } catch (IOException e) {
      throw new IOException("admin listener: cannot listen on " + host + ":" + port + " ("
          + e.getMessage() + "; expected: a free port, or no admin section)", e);
    }
    AtomicInteger n = new AtomicInteger();
    java.util.concurrent.ThreadPoolExecutor ex = new java.util.concurrent.ThreadPoolExecutor(
        THREADS, THREADS, 30, TimeUnit.SECONDS, new java.util.concurrent.LinkedBlockingQueue<>(),
        r -> {
          Thread t = new Thread(r, "beamgate-admin-http-" + n.incrementAndGet());
          t.setDaemon(true);
          return t;
        });
    ex.allowCoreThreadTimeOut(true);
    s.setExecutor(ex);
    s.createContext("/", x -> {
      try (x) {
        if (!x.getRequestMethod().equals("GET") && !x.getRequestMethod().equals("HEAD")) {
          x.getResponseHeaders().add("Allow", "GET, HEAD");
          send(x, 405, "text/plain; charset=utf-8", "method not allowed (expected: GET)\n");
          return;
        }
        switch (x.getRequestURI().getPath()) {
          case "/metrics" -> {
            GatewayMetrics.Scrape sc = metrics.scrape(x.getRequestHeaders().getFirst("Accept"));
            send(x, 200, sc.contentType(), sc.body());
          }
          case "/live" -> json(x, 200, Map.of("status", "live"));
          case "/ready" -> {
            Health.Report r = Health.ready(facts.get(), Instant.now());
            json(x, r.ready() ? 200 : 503, r.body());
          }
          case "/status" -> json(x, 200, status.get());
          default -> send(x, 404, "text/plain; charset=utf-8",
              "not found (expected: /metrics, /live, /ready or /status)\n");
        }
      } catch (IOException | RuntimeException e) {
        log.debug("admin request {}: {}", x.getRequestURI(), e.toString());
      }
    });
    s.start();
    log.info("admin HTTP listener on {} (/metrics, /live, /ready, /status)", s.getAddress());
    return new AdminHttp(s, ex);
  }

  private static void json(HttpExchange x, int code, Object body) throws IOException {
    send(x, code, "application/json", Json.write(body) + "\n");
  }

  private static void send(HttpExchange x, int code, String type, String body)
      throws IOException {
    byte[] b = body.getBytes(StandardCharsets.UTF_8);
    x.getResponseHeaders().set("Content-Type", type);
    x.getResponseHeaders().set("Cache-Control", "no-store");
    boolean head = x.getRequestMethod().equals("HEAD");
    x.sendResponseHeaders(code, head ? -1 : b.length);
    if (!head) {
      try (OutputStream o = x.getResponseBody()) {
        o.write(b);
      }
    }
  }

  /** The bound address (its port when 0 was asked). */
  public InetSocketAddress address() {
    return server.getAddress();
  }

  @Override
  public void close() {
    server.stop(0);
    executor.shutdownNow();
    try {
      executor.awaitTermination(1, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
