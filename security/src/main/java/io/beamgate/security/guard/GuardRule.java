package io.beamgate.security.guard;

import java.util.Set;

/**
 * What a policy rule lets the terms of a call contain.
 *
 * @param allowedAtoms atoms always allowed (besides the global budget)
 * @param allowPids whether pids may appear (default: no)
 * @param allowRefs whether references may appear (default: no)
 * @param allowPorts whether ports may appear (default: no)
 * @param maxDepth deepest nesting of the arguments (default 32)
 * @param maxBytes largest encoded size of the arguments (default 1 MiB)
 */
public record GuardRule(Set<String> allowedAtoms, boolean allowPids, boolean allowRefs,
    boolean allowPorts, int maxDepth, long maxBytes) {
  public static final GuardRule DEFAULTS = new GuardRule(Set.of(), false, false, false, 32,
      1 << 20);

  public GuardRule {
    allowedAtoms = Set.copyOf(allowedAtoms);
    if (maxDepth < 1) {
      throw new IllegalArgumentException("maxDepth: " + maxDepth + " (expected: >= 1)");
    }
    if (maxBytes < 1) {
      throw new IllegalArgumentException("maxBytes: " + maxBytes + " (expected: >= 1)");
    }
  }

  public GuardRule withAtoms(Set<String> atoms) {
    return new GuardRule(atoms, allowPids, allowRefs, allowPorts, maxDepth, maxBytes);
  }

  public GuardRule withPids(boolean allow) {
    return new GuardRule(allowedAtoms, allow, allowRefs, allowPorts, maxDepth, maxBytes);
  }

  public GuardRule withRefs(boolean allow) {
    return new GuardRule(allowedAtoms, allowPids, allow, allowPorts, maxDepth, maxBytes);
  }

  public GuardRule withMaxDepth(int d) {
    return new GuardRule(allowedAtoms, allowPids, allowRefs, allowPorts, d, maxBytes);
  }

  public GuardRule withMaxBytes(long b) {
    return new GuardRule(allowedAtoms, allowPids, allowRefs, allowPorts, maxDepth, b);
  }
}
