package io.beamgate.node.testing;

import java.io.File;

/**
 * Where real Erlang/OTP is. Tests that need it call {@link #require()}: without erl they fail
 * under CI=true (CI must run them) and are skipped elsewhere.
 */
public final class Erl {
  private Erl() {}

  public static String find(String program) {
    String path = System.getenv("PATH");
    if (path != null) {
      for (String dir : path.split(File.pathSeparator)) {
        File f = new File(dir, program);
        if (f.canExecute()) {
          return f.getAbsolutePath();
        }
      }
    }
    return null;
  }

  /** The path of {@code erl}; fails (CI) or skips (elsewhere) when it is missing. */
  public static String require() {
    return require("erl");
  }

  public static String require(String program) {
    String p = find(program);
    if (p == null) {
      Needs.missing(program + " not found on PATH: install Debian's erlang-nox");
    }
    return p;
  }
}
