package io.beamgate.security.guard;

/**
 * The term guard's decision. A refusal names the reason and where in the arguments the
 * offending term is, e.g. {@code fun at args[1]{2}#{key}}.
 */
public record Verdict(boolean allowed, String reason, String path) {
  static final Verdict OK = new Verdict(true, null, null);

  static Verdict refuse(String reason, String path) {
    return new Verdict(false, reason, path);
  }

  @Override
  public String toString() {
    return allowed ? "allowed" : reason + (path == null ? "" : " at " + path);
  }
}
