package io.beamgate.node;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Objects;

/**
 * A node name, {@code alive@host}. Short names ({@code -sname}) have a host without dots; long
 * names ({@code -name}) a fully qualified host or an address.
 */
public record NodeName(String alive, String host) {
  public NodeName {
    Objects.requireNonNull(alive, "alive");
    Objects.requireNonNull(host, "host");
    if (alive.isEmpty() || host.isEmpty()) {
      throw new IllegalArgumentException("node name: '" + alive + "@" + host
          + "' (expected: alive@host, both parts non-empty)");
    }
    for (String part : new String[] {alive, host}) {
      for (int i = 0; i < part.length(); i++) {
        char c = part.charAt(i);
        if (c == '@' || c < 0x20 || c == 0x7F) {
          throw new IllegalArgumentException(
              "node name: invalid character " + (int) c + " in '" + alive + "@" + host + "'");
        }
      }
    }
    if ((alive + "@" + host).getBytes(java.nio.charset.StandardCharsets.UTF_8).length > 255) {
      throw new IllegalArgumentException("node name longer than 255 bytes");
    }
  }

  /** Parses {@code alive@host}. */
  public static NodeName parse(String full) {
    int at = full.indexOf('@');
    if (at < 0) {
      throw new IllegalArgumentException(
          "node name: '" + full + "' (expected: alive@host)");
    }
    return new NodeName(full.substring(0, at), full.substring(at + 1));
  }

  /**
   * A name as {@code erl -sname} or {@code -name} would make it: {@code alive} alone gets this
   * machine's host name (short or fully qualified), {@code alive@host} is kept.
   */
  public static NodeName of(String name, boolean longNames) {
    if (name.indexOf('@') >= 0) {
      return parse(name);
    }
    return new NodeName(name, longNames ? longHostName() : shortHostName());
  }

  /** This machine's host name, up to the first dot, as erl's -sname uses it. */
  public static String shortHostName() {
    String h = localHostName();
    int dot = h.indexOf('.');
    return dot > 0 ? h.substring(0, dot) : h;
  }

  /** This machine's fully qualified host name where known, as erl's -name uses it. */
  public static String longHostName() {
    try {
      return InetAddress.getLocalHost().getCanonicalHostName();
    } catch (UnknownHostException e) {
      return localHostName();
    }
  }

  private static String localHostName() {
    try {
      return InetAddress.getLocalHost().getHostName();
    } catch (UnknownHostException e) {
      String env = System.getenv("HOSTNAME");
      return env != null && !env.isBlank() ? env : "localhost";
    }
  }

  public boolean isShort() {
    return host.indexOf('.') < 0;
  }

  @Override
  public String toString() {
    return alive + "@" + host;
  }
}
