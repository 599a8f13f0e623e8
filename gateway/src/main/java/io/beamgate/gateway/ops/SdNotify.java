package io.beamgate.gateway.ops;

import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollDomainDatagramChannel;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.unix.DomainSocketAddress;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Tells systemd how the service is doing (sd_notify(3)), for {@code Type=notify}: READY=1
 * once listening with the cluster-side node up, RELOADING=1 then READY=1 around a reload,
 * STOPPING=1 when the drain starts. Each message is one datagram to {@code $NOTIFY_SOCKET}.
 *
 * <p>Java 17's channels have no Unix datagram sockets, so the datagram goes out through
 * Netty's epoll transport (already a dependency family of the gateway; its native library is
 * in the jar). The other way, running {@code systemd-notify --pid} for each message, would
 * need {@code NotifyAccess=all} (the message comes from a child, not the main process) and a
 * process per message; this way the unit keeps {@code NotifyAccess=main}.
 *
 * <p>Without {@code $NOTIFY_SOCKET} (not under systemd, or {@code Type=exec}) every method does
 * nothing. A message that cannot be sent is logged, never thrown: the gateway serves anyway.
 */
public final class SdNotify implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(SdNotify.class);
  /** The longest path a sockaddr_un holds (with its terminating zero). */
  static final int MAX_PATH_BYTES = 107;
  private static final SdNotify NONE = new SdNotify(null);
  private final DomainSocketAddress target;
  private EventLoopGroup loop;

  private SdNotify(DomainSocketAddress target) {
    this.target = target;
  }

  /** The notifier for {@code $NOTIFY_SOCKET}, or one that does nothing when it is unset. */
  public static SdNotify fromEnvironment() {
    return to(System.getenv("NOTIFY_SOCKET"));
  }

  /**
   * The notifier for {@code socket}: a path, or {@code @name} in the abstract namespace;
   * null or empty: one that does nothing.
   */
  public static SdNotify to(String socket) {
    if (socket == null || socket.isEmpty()) {
      return NONE;
    }
    if (!socket.startsWith("/") && !socket.startsWith("@")) {
      log.warn("NOTIFY_SOCKET: '{}' (expected: an absolute path or @name); systemd is not told"
          + " when the gateway is ready", socket);
      return NONE;
    }
    if (socket.getBytes(StandardCharsets.UTF_8).length > MAX_PATH_BYTES) {
      log.warn("NOTIFY_SOCKET: {} bytes (expected: <= {}); systemd is not told when the"
          + " gateway is ready", socket.length(), MAX_PATH_BYTES);
      return NONE;
    }
    if (!Epoll.isAvailable()) {
      log.error("NOTIFY_SOCKET is set but Netty's epoll transport cannot load ({}): systemd is"
          + " not told that the gateway is ready (use Type=exec in the unit on this platform)",
          Epoll.unavailabilityCause().toString());
      return NONE;
    }
    // sd_notify's convention: a leading '@' names the abstract namespace (a leading NUL).
    String path = socket.startsWith("@") ? "\0" + socket.substring(1) : socket;
    return new SdNotify(new DomainSocketAddress(path));
  }

  /** Whether messages go anywhere. */
  public boolean enabled() {
    return target != null;
  }

  /** READY=1 with a status line. */
  public void ready(String status) {
    send("READY=1\nSTATUS=" + oneLine(status));
  }

  /** RELOADING=1, stamped with CLOCK_MONOTONIC as systemd 253's notify-reload wants. */
  public void reloading() {
    // On Linux, System.nanoTime is CLOCK_MONOTONIC.
    send("RELOADING=1\nMONOTONIC_USEC=" + System.nanoTime() / 1000
        + "\nSTATUS=reloading the policy, certificates and CRL");
  }

  /** STOPPING=1: the drain has begun. */
  public void stopping() {
    send("STOPPING=1\nSTATUS=draining: calls in flight finish, no new connections");
  }

  private static String oneLine(String s) {
    return s.replace('\n', ' ');
  }

  /** Sends one datagram; waits at most a second (systemd reads its socket at once). */
  public synchronized void send(String state) {
    if (target == null) {
      return;
    }
    try {
      if (loop == null) {
        loop = new MultiThreadIoEventLoopGroup(1, new DefaultThreadFactory("beamgate-sd-notify",
            true), EpollIoHandler.newFactory());
      }
      Channel ch = new EpollDomainDatagramChannel();
      loop.register(ch).sync();
      try {
        ch.connect(target).sync();
        io.netty.channel.ChannelFuture f = ch.writeAndFlush(
            Unpooled.wrappedBuffer(state.getBytes(StandardCharsets.UTF_8)));
        if (!f.await(1, TimeUnit.SECONDS)) {
          throw new java.io.IOException("no send within 1 s");
        }
        if (!f.isSuccess()) {
          throw new java.io.IOException(f.cause().toString(), f.cause());
        }
      } finally {
        ch.close();
      }
      log.debug("sd_notify: {}", state.replace('\n', ' '));
    } catch (Exception e) {
      if (e instanceof InterruptedException) {
        Thread.currentThread().interrupt();
      }
      log.warn("sd_notify to {} failed ({}): {}", target.path().replace('\0', '@'), e.toString(),
          state.replace('\n', ' '));
    }
  }

  @Override
  public synchronized void close() {
    if (loop != null) {
      loop.shutdownGracefully(0, 1, TimeUnit.SECONDS);
      loop = null;
    }
  }
}
