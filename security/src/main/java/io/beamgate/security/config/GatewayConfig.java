package io.beamgate.security.config;

import java.nio.file.Path;
import java.util.List;

/**
 * The gateway's configuration file, as {@link GatewayConfigFile} reads it. Paths are resolved
 * against the file's directory. See docs/admin-guide.md for each field's default and caveat.
 */
public record GatewayConfig(
    Path file,
    Listen listen,
    Tls tls,
    Cluster cluster,
    Limits limits,
    Path policy,
    Path audit) {

  /** The public mTLS listener. */
  public record Listen(String address, int port) {}

  /** The listener's TLS files. */
  public record Tls(Path certificate, Path key, Path clientCas, Path crl, boolean allowTls12,
      int handshakeTimeoutMillis) {}

  /** The cluster side: the gateway's hidden node and the backends it calls. */
  public record Cluster(String nodeName, Path cookieFile, String listenAddress, int epmdPort,
      List<String> backends, String routing) {}

  /** Gateway-wide bounds. */
  public record Limits(int maxConnections, int maxInFlight, int maxFrameBytes,
      int idleTimeoutMillis) {}
}
