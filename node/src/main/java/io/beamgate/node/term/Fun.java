package io.beamgate.node.term;

import java.util.Arrays;
import java.util.Objects;

/**
 * A local fun (NEW_FUN_EXT), kept opaque: {@code encoded} holds its exact bytes from the tag on,
 * so it re-encodes byte-exactly. The fields decoded from it serve printing and inspection only;
 * beamgate never executes funs.
 */
public final class Fun implements Term {
  private final byte[] encoded;
  private final Atom module;
  private final int arity;
  private final long oldIndex;
  private final long oldUniq;

  public Fun(byte[] encoded, Atom module, int arity, long oldIndex, long oldUniq) {
    this.encoded = encoded.clone();
    this.module = Objects.requireNonNull(module, "module");
    this.arity = arity;
    this.oldIndex = oldIndex;
    this.oldUniq = oldUniq;
  }

  /** The exact external-format bytes, starting with the NEW_FUN_EXT tag (112). */
  public byte[] encoded() {
    return encoded.clone();
  }

  public byte[] unsafeEncoded() {
    return encoded;
  }

  public Atom module() {
    return module;
  }

  public int arity() {
    return arity;
  }

  public long oldIndex() {
    return oldIndex;
  }

  public long oldUniq() {
    return oldUniq;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Fun f && Arrays.equals(encoded, f.encoded);
  }

  @Override
  public int hashCode() {
    return Arrays.hashCode(encoded);
  }

  @Override
  public String toString() {
    return TermText.format(this);
  }
}
