package io.beamgate.security.config;

import io.beamgate.security.policy.CallPattern;
import io.beamgate.security.policy.PolicyFile;
import io.beamgate.security.policy.Rule;
import io.beamgate.security.tls.TlsContexts;
import io.beamgate.security.tls.TlsSettings;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * Validates a gateway configuration and every file it names, without starting anything, and
 * prints what the policy allows per principal ({@code beamgate gateway check}). Exit code 0
 * when everything is usable, 1 otherwise; each problem is one line naming the file.
 */
public final class ConfigCheck {
  private ConfigCheck() {}

  public static int run(Path configFile, PrintStream out, PrintStream err) {
    List<String> problems = new ArrayList<>();
    GatewayConfig cfg;
    try {
      cfg = GatewayConfigFile.load(configFile);
    } catch (ConfigException | IOException e) {
      err.println("error: " + e.getMessage());
      return 1;
    }
    out.println("configuration " + configFile + ": ok");
    try {
      TlsContexts.server(new TlsSettings(cfg.tls().certificate(), cfg.tls().key(),
          cfg.tls().clientCas(), cfg.tls().crl(), cfg.tls().allowTls12(),
          Duration.ofMillis(cfg.tls().handshakeTimeoutMillis()), TlsSettings.Provider.AUTO));
      out.println("tls: ok (" + (cfg.tls().allowTls12() ? "TLS 1.3 and 1.2 (ECDHE, AEAD)"
          : "TLS 1.3 only") + ", client certificates required"
          + (cfg.tls().crl() != null ? ", CRL checked" : ", no CRL") + ")");
    } catch (IOException e) {
      problems.add("tls: " + e.getMessage());
    }
    checkSecret(cfg.cluster().cookieFile(), "cookie file", problems);
    for (Path p : new Path[] {cfg.tls().certificate(), cfg.tls().clientCas(), cfg.tls().crl()}) {
      if (p != null) {
        try {
          StrictYaml.checkNotWritableByOthers(p);
        } catch (ConfigException | IOException e) {
          problems.add("tls: " + e.getMessage());
        }
      }
    }
    if (cfg.cluster().listenAddress().equals(cfg.listen().address())) {
      problems.add("cluster.listen_address " + cfg.cluster().listenAddress()
          + " is the public listener's address: distribution must stay on the LAN");
    }
    try {
      PolicyFile.Loaded loaded = PolicyFile.load(cfg.policy());
      out.println("policy " + cfg.policy() + ": ok, atom budget "
          + loaded.policy().atomBudget());
      if (loaded.policy().rules().stream()
          .allMatch(r -> r.calls().isEmpty() && r.sends().isEmpty())) {
        problems.add("policy " + cfg.policy() + ": allows nothing (no rule has calls or"
            + " sends); the gateway refuses to run with it");
      }
      for (Rule r : loaded.policy().rules()) {
        out.println("  rule " + r.id() + (r.shadow() ? " (shadow)" : "")
            + (r.unsafe() ? " (UNSAFE)" : ""));
        out.println("    principals: " + r.principals());
        List<String> calls = new ArrayList<>();
        for (CallPattern c : r.calls()) {
          calls.add(c.toString());
        }
        out.println("    calls: " + (calls.isEmpty() ? "none" : String.join(", ", calls)));
        out.println("    sends: " + (r.sends().isEmpty() ? "none" : String.join(", ",
            r.sends())));
        out.println("    limits: " + r.limits().ratePerSecond() + "/s, "
            + r.limits().concurrency() + " in flight, timeout " + r.limits().timeoutMillis()
            + " ms, args <= " + r.guard().maxBytes() + " B, depth <= " + r.guard().maxDepth());
      }
      for (String w : loaded.warnings()) {
        out.println("warning: " + w);
      }
      for (GatewayConfig.Bridge b : cfg.bridges()) {
        out.println("bridge " + b.name() + ": the cluster behind " + b.host() + ":" + b.port()
            + " (expected: " + b.expect() + ") appears here as "
            + (b.visible() ? "visible" : "hidden") + " node " + b.nodeName()
            + (b.listenPort() == 0 ? "" : " on port " + b.listenPort()));
      }
    } catch (ConfigException | IOException e) {
      problems.add(e.getMessage());
    }
    for (String p : problems) {
      err.println("error: " + p);
    }
    return problems.isEmpty() ? 0 : 1;
  }

  private static void checkSecret(Path file, String what, List<String> problems) {
    String problem = secretProblem(file, what);
    if (problem != null) {
      problems.add(problem);
    }
  }

  /**
   * Why {@code file}, a secret (a key, a cookie), may not be used: not readable, or accessible
   * to group or others (as erl refuses such a cookie file); null when it may.
   */
  public static String secretProblem(Path file, String what) {
    if (!Files.isReadable(file)) {
      return what + " " + file + ": not readable";
    }
    try {
      Set<PosixFilePermission> perms = Files.getPosixFilePermissions(file);
      for (PosixFilePermission p : perms) {
        if (p.name().startsWith("GROUP") || p.name().startsWith("OTHERS")) {
          return what + " " + file + ": accessible to group or others; make it owner-only"
              + " (chmod 400)";
        }
      }
    } catch (IOException | UnsupportedOperationException e) {
      // not a POSIX file system
    }
    return null;
  }
}
