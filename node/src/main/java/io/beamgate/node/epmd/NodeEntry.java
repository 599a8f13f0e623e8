package io.beamgate.node.epmd;

import java.util.Objects;

/**
 * What EPMD knows of a registered node: its alive name (the part before '@'), distribution
 * port, node type, protocol and the range of distribution versions it speaks.
 */
public record NodeEntry(
    String alive, int port, boolean hidden, int protocol, int highestVersion, int lowestVersion) {
  public NodeEntry {
    Objects.requireNonNull(alive, "alive");
    if (port < 1 || port > 65535) {
      throw new IllegalArgumentException("port: " + port + " (expected: 1..65535)");
    }
  }
}
