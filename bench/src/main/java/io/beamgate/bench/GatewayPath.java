package io.beamgate.bench;

import java.nio.file.Path;

/**
 * The gateway path of Issue 5 §6 — client → mTLS → gateway → distribution → erl — as the
 * harness plugs it in: a running gateway in front of the run's erl backend, a {@link
 * Harness.Client} that calls through it (measured like every other client), its listener as a
 * {@link Handshakes.TlsTarget} (the same s_time load as openssl s_server) and the process whose
 * memory the idle-connection scenario reads.
 *
 * <p>The gateway server ({@code beamgate gateway run}) and the Java client library
 * ({@code io.beamgate.client.BeamgateClient}) are not merged yet: {@link #start} says so, and the
 * report lists the gateway's goals as not measured. Filling {@link #start} is all phase 2 needs
 * to change in the harness.
 */
interface GatewayPath extends AutoCloseable {
  /** The erl node the gateway forwards to (plain distribution), as the other clients call it. */
  record Backend(String node, int epmdPort, String cookie, Path codeDir) {}

  /** Calls through the gateway, named "gateway" in the report. */
  Harness.Client client();

  /** The gateway's mTLS listener and the client files it accepts. */
  Handshakes.TlsTarget listener();

  /** The gateway's OS process (for RSS and heap), or -1 when it runs inside the harness. */
  long pid();

  @Override
  void close() throws Exception;

  /** Why the gateway path cannot run here, or null when {@link #start} will start it. */
  static String unavailable() {
    return "the gateway server and the Java client library are not merged yet";
  }

  /** Starts a gateway in front of {@code backend}, with the run's PKI, files under {@code dir}. */
  static GatewayPath start(Backend backend, BenchPki pki, Path dir) {
    throw new UnsupportedOperationException(unavailable());
  }
}
