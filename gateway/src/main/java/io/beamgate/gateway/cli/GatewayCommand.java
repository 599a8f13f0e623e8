package io.beamgate.gateway.cli;

import io.beamgate.gateway.server.AdminSocket;
import io.beamgate.gateway.server.GatewayServer;
import io.beamgate.security.yaml.ConfigException;
import io.beamgate.gateway.config.GatewayConfig;
import io.beamgate.gateway.config.GatewayConfigFile;
import io.beamgate.security.tls.TlsSettings;
import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import io.beamgate.gateway.config.ConfigCheck;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code beamgate gateway}: the mTLS gateway. */
@Command(name = "gateway", mixinStandardHelpOptions = true,
    description = "The mTLS gateway in front of an Erlang cluster.",
    subcommands = {GatewayCommand.Run.class, GatewayCommand.Check.class,
        GatewayCommand.Reload.class, GatewayStatusCommand.class, ConfigReferenceCommand.class,
        GatewayReopenAuditCommand.class})
public final class GatewayCommand implements Runnable {
  @Spec CommandSpec spec;

  @Override
  public void run() {
    spec.commandLine().usage(spec.commandLine().getOut());
  }

  /** {@code beamgate gateway check --config FILE}. */
  @Command(name = "check", mixinStandardHelpOptions = true,
      description = {"Validate a gateway configuration and every file it names (TLS files, CRL,"
          + " cookie, policy) without starting anything, and print what the policy allows.",
          "Exit 0 when all is usable, 1 otherwise."})
  public static final class Check implements Callable<Integer> {
    @Option(names = "--config", required = true, paramLabel = "FILE",
        description = "The gateway configuration (YAML).")
    Path config;

    @Override
    public Integer call() {
      return ConfigCheck.run(config, System.out, System.err);
    }
  }

  /** {@code beamgate gateway run --config FILE}. */
  @Command(name = "run", mixinStandardHelpOptions = true,
      description = {"Run the gateway: the mTLS listener for clients, and a hidden node that"
          + " calls the cluster's backends. Every request passes the policy, the term guard"
          + " and the limits, and leaves one audit record.",
          "The policy, certificates and CRL are reloaded when their files change, on SIGHUP,"
          + " and on `beamgate gateway reload`. SIGTERM or Ctrl-C stop it, letting calls in"
          + " flight finish for up to --grace.",
          "Exit 1 when the configuration or a file it names is invalid."})
  public static final class Run implements Callable<Integer> {
    @Option(names = "--config", required = true, paramLabel = "FILE",
        description = "The gateway configuration (YAML).")
    Path config;

    @Option(names = "--tls-provider", paramLabel = "P", defaultValue = "AUTO",
        description = "TLS implementation: AUTO (OpenSSL when it loads, else the JDK), JDK or"
            + " OPENSSL. Default: ${DEFAULT-VALUE}.")
    TlsSettings.Provider provider;

    @Option(names = "--grace", paramLabel = "MS", defaultValue = "5000",
        description = "On shutdown, how long calls in flight may take. Default: ${DEFAULT-VALUE}.")
    long graceMillis;

    @Option(names = "--backend-wait", paramLabel = "MS", defaultValue = "10000",
        description = "At start, how long to wait for a backend before listening anyway."
            + " Default: ${DEFAULT-VALUE}.")
    long backendWaitMillis;

    @Option(names = "--gateway-id", paramLabel = "ID",
        description = "The id audit records carry as `gateway` (and in their `request_id`)."
            + " Default: this host's name and the listener's port (HOST:PORT).")
    String gatewayId;

    @Option(names = "--log-level", paramLabel = "LEVEL", defaultValue = "info",
        description = "error, warn, info, debug or trace. Default: ${DEFAULT-VALUE}.")
    String logLevel;

    @Option(names = "--log-format", paramLabel = "FORMAT", defaultValue = "TEXT",
        description = "text (lines for people) or json (one JSON object a line, for log"
            + " shippers). Default: text.")
    String logFormat;

    @Override
    public Integer call() throws Exception {
      String bad = LogSetup.levelProblem(logLevel);
      LogSetup.Format format = null;
      for (LogSetup.Format f : LogSetup.Format.values()) {
        if (f.name().equalsIgnoreCase(logFormat)) {
          format = f;
        }
      }
      if (bad == null && format == null) {
        bad = "--log-format: '" + logFormat + "' (expected: text or json)";
      }
      if (bad != null) {
        System.err.println("beamgate gateway run: " + bad);
        return Main.EXIT_USAGE;
      }
      LogSetup.configure(logLevel, format);
      GatewayConfig cfg;
      GatewayServer server;
      try {
        cfg = GatewayConfigFile.load(config);
        server = GatewayServer.start(cfg, GatewayServer.Options.DEFAULTS.withProvider(provider)
            .withBackendWait(Duration.ofMillis(backendWaitMillis)).withGatewayId(gatewayId));
      } catch (ConfigException | IOException e) {
        System.err.println("beamgate gateway run: " + e.getMessage());
        return 1;
      }
      // Type=notify: systemd hears READY=1 now (listening, node up), RELOADING=1/READY=1
      // around each reload, STOPPING=1 when the drain starts.
      io.beamgate.gateway.ops.SdNotify systemd = io.beamgate.gateway.ops.SdNotify
          .fromEnvironment();
      server.notifyReloads(systemd);
      CountDownLatch stopped = new CountDownLatch(1);
      Runtime.getRuntime().addShutdownHook(new Thread(() -> {
        systemd.stopping();
        server.shutdown(Duration.ofMillis(graceMillis));
        stopped.countDown();
      }, "beamgate-shutdown"));
      try {
        sun.misc.Signal.handle(new sun.misc.Signal("HUP"), sig -> {
          GatewayServer.ReloadResult r = server.reload();
          if (!r.ok()) {
            System.err.println(r.message());
          }
        });
      } catch (IllegalArgumentException e) {
        // no SIGHUP on this platform: the admin socket and file watching remain
      }
      GatewayReopenAuditCommand.onSigusr1(server);
      String ready = "beamgate gateway listening on " + server.listenAddress()
          + " (admin socket " + cfg.reload().adminSocket()
          + (server.adminAddress() == null ? "" : ", admin HTTP " + server.adminAddress())
          + ")";
      systemd.ready("listening on " + server.listenAddress());
      if (format == LogSetup.Format.JSON) {
        // stderr stays all JSON lines
        org.slf4j.LoggerFactory.getLogger(GatewayCommand.class).info(ready);
      } else {
        System.err.println(ready);
      }
      stopped.await();
      return 0;
    }
  }

  /** {@code beamgate gateway reload --config FILE}. */
  @Command(name = "reload", mixinStandardHelpOptions = true,
      description = {"Ask the running gateway to reload its policy, certificates and CRL now."
          + " It validates them first; when any is invalid the old ones stay in force and the"
          + " reason is printed.",
          "Exit 0 when reloaded, 1 when refused, 69 when no gateway answers on the admin"
          + " socket."})
  public static final class Reload implements Callable<Integer> {
    @Option(names = "--config", required = true, paramLabel = "FILE",
        description = "The running gateway's configuration (names the admin socket).")
    Path config;

    @Option(names = "--status", description = "Print the gateway's status (JSON) instead;"
        + " `beamgate gateway status` prints it readably.")
    boolean status;

    @Override
    public Integer call() {
      AdminAnswer a = askAdmin("reload", config, status ? "status" : "reload");
      if (a.text() == null) {
        return a.exit();
      }
      String answer = a.text();
      if (answer.startsWith("ok")) {
        System.out.println(answer.substring(2).trim());
        return 0;
      }
      System.err.println(answer.startsWith("error") ? answer.substring(5).trim() : answer);
      return 1;
    }
  }

  /** The running gateway's answer over its admin socket, or (text null) the exit code why not. */
  record AdminAnswer(String text, int exit) {}

  /**
   * Asks the gateway that {@code config} describes: a configuration that cannot be read is
   * exit 1, no gateway on the admin socket exit 69 (each printed for {@code command}).
   */
  static AdminAnswer askAdmin(String command, Path config, String request) {
    GatewayConfig cfg;
    try {
      cfg = GatewayConfigFile.load(config);
    } catch (ConfigException | IOException e) {
      System.err.println("beamgate gateway " + command + ": " + e.getMessage());
      return new AdminAnswer(null, 1);
    }
    try {
      return new AdminAnswer(AdminSocket.ask(cfg.reload().adminSocket(), request,
          Duration.ofSeconds(30)), 0);
    } catch (IOException e) {
      System.err.println("beamgate gateway " + command + ": no gateway answers on "
          + cfg.reload().adminSocket() + " (" + e.getMessage() + ")");
      return new AdminAnswer(null, 69);
    }
  }
}
