package io.beamgate.node.term;

import java.util.Objects;

/** A port identifier (NEW_PORT_EXT / V4_PORT_EXT): node, 64-bit id, creation. */
public record Port(Atom node, long id, int creation) implements Term {
  public Port {
    Objects.requireNonNull(node, "node");
  }

  @Override
  public String toString() {
    return TermText.format(this);
  }
}
