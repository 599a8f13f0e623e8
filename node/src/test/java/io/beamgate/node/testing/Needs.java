package io.beamgate.node.testing;

import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Assumptions;

/**
 * The one rule for a test whose outside tool is missing (erl, elixir, haproxy, protoc,
 * logrotate...): it fails under CI=true, where .ci/run installs everything and the test must
 * run, and is skipped elsewhere.
 */
public final class Needs {
  private Needs() {}

  /** {@code what} is missing: fails (CI) or aborts the test (elsewhere), saying so. */
  public static void missing(String what) {
    if ("true".equalsIgnoreCase(System.getenv("CI"))) {
      Assertions.fail(what + " (CI=true: this test must run, not skip)");
    }
    Assumptions.abort(what);
  }
}
