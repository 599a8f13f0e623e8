package io.beamgate.gateway.server;

/** The gateway's version as pongs, logs and status show it. */
final class GatewayVersion {
  private GatewayVersion() {}

  static String text() {
    String v = GatewayVersion.class.getPackage().getImplementationVersion();
    return "beamgate " + (v == null ? "dev" : v);
  }
}
