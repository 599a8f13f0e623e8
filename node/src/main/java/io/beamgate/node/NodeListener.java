package io.beamgate.node;

/** Told when connections to other nodes come up and go down. Called on I/O threads: be quick. */
public interface NodeListener {
  void nodeUp(String node);

  void nodeDown(String node, String reason);
}
