package io.beamgate.gateway.cli;

import io.beamgate.gateway.server.GatewayServer;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code beamgate gateway reopen-audit --config FILE}: the running gateway reopens its audit
 * file, for logrotate's postrotate (as SIGUSR1 does).
 */
@Command(name = "reopen-audit", mixinStandardHelpOptions = true,
    description = {"Ask the running gateway to reopen its audit file now, over its admin"
        + " socket: after logrotate renamed it, the next record goes to a new file at the"
        + " configured path. SIGUSR1 does the same; without either the gateway notices the"
        + " rename within a second.",
        "Exit 0 when reopened, 1 when it cannot be, 69 when no gateway answers."})
public final class GatewayReopenAuditCommand implements Callable<Integer> {
  @Option(names = "--config", required = true, paramLabel = "FILE",
      description = "The running gateway's configuration (names the admin socket).")
  Path config;

  @Override
  public Integer call() {
    GatewayCommand.AdminAnswer a = GatewayCommand.askAdmin("reopen-audit", config,
        "reopen-audit");
    if (a.text() == null) {
      return a.exit();
    }
    String answer = a.text();
    if (answer.startsWith("ok")) {
      System.out.println(answer.substring(2).trim());
      return 0;
    }
    System.err.println("beamgate gateway reopen-audit: "
        + (answer.startsWith("error") ? answer.substring(5).trim() : answer));
    return 1;
  }

  /** SIGUSR1 reopens the audit file of {@code server} (where the platform has the signal). */
  static void onSigusr1(GatewayServer server) {
    try {
      sun.misc.Signal.handle(new sun.misc.Signal("USR1"), sig -> server.reopenAuditFile());
    } catch (IllegalArgumentException e) {
      // no SIGUSR1 here (or the JVM keeps it): reopen-audit and the rename check remain
    }
  }
}
