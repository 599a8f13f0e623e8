package io.beamgate.node.term;

import java.util.Objects;

/** An atom. At most 255 characters (code points), as OTP requires. */
public record Atom(String name) implements Term {
  public static final int MAX_LENGTH = 255;
  public static final Atom TRUE = new Atom("true");
  public static final Atom FALSE = new Atom("false");
  public static final Atom OK = new Atom("ok");
  public static final Atom ERROR = new Atom("error");
  public static final Atom UNDEFINED = new Atom("undefined");
  public static final Atom NONODE = new Atom("nonode@nohost");

  public Atom {
    Objects.requireNonNull(name, "name");
    int len = name.codePointCount(0, name.length());
    if (len > MAX_LENGTH) {
      throw new IllegalArgumentException(
          "atom length: " + len + " (expected: <= " + MAX_LENGTH + ")");
    }
  }

  public static Atom of(String name) {
    return new Atom(name);
  }

  public static Atom of(boolean b) {
    return b ? TRUE : FALSE;
  }

  @Override
  public String toString() {
    return TermText.format(this);
  }
}
