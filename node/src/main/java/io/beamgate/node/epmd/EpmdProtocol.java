package io.beamgate.node.epmd;

/**
 * Request and response tags of the EPMD protocol (erts "Distribution Protocol", section EPMD
 * Protocol). Every request is preceded by a 2-byte big-endian length.
 */
final class EpmdProtocol {
  static final int ALIVE2_REQ = 120;
  static final int ALIVE2_RESP = 121;
  static final int ALIVE2_X_RESP = 118;
  static final int PORT_PLEASE2_REQ = 122;
  static final int PORT2_RESP = 119;
  static final int NAMES_REQ = 110;
  static final int DUMP_REQ = 100;
  static final int KILL_REQ = 107;
  static final int STOP_REQ = 115;

  /** Node types in ALIVE2_REQ / PORT2_RESP. */
  static final int NODE_TYPE_NORMAL = 77;
  static final int NODE_TYPE_HIDDEN = 72;
  static final int PROTOCOL_TCP_IPV4 = 0;

  static final int DEFAULT_PORT = 4369;
  static final int MAX_NAME_BYTES = 255;

  private EpmdProtocol() {}
}
