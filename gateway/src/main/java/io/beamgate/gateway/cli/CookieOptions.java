package io.beamgate.gateway.cli;

import io.beamgate.node.Cookie;
import java.io.IOException;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/** Where the cookie comes from: {@code --cookie}, {@code --cookie-file}, or ~/.erlang.cookie. */
final class CookieOptions {
  @Option(names = "--cookie", paramLabel = "C",
      description = "The cookie (visible to other users in the process list: prefer --cookie-file).")
  String cookie;

  @Option(names = "--cookie-file", paramLabel = "F", description = "File holding the cookie.")
  Path cookieFile;

  /** The cookie; {@code options} may be null (no option given): ~/.erlang.cookie, as erl. */
  static Cookie read(CookieOptions options) throws IOException {
    if (options == null) {
      return Cookie.fromHome();
    }
    return options.cookie != null ? Cookie.of(options.cookie) : Cookie.fromFile(options.cookieFile);
  }
}
