package io.beamgate.node.dist;

import io.beamgate.node.term.Term;

/** What the connection layer tells the node runtime. Called on I/O threads: must not block. */
public interface Dispatcher {
  void onControl(String fromNode, ControlMessage control, Term payload);

  void onNodeUp(String node, Handshake.Peer peer);

  void onNodeDown(String node, String reason);
}
