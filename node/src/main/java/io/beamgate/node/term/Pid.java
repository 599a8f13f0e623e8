package io.beamgate.node.term;

import java.util.Objects;

/** A process identifier (NEW_PID_EXT): node, id, serial and creation, each 32 bits unsigned. */
public record Pid(Atom node, int id, int serial, int creation) implements Term {
  public Pid {
    Objects.requireNonNull(node, "node");
  }

  @Override
  public String toString() {
    return TermText.format(this);
  }
}
