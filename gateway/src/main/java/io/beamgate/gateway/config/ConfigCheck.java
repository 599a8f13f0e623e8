package io.beamgate.gateway.config;

import io.beamgate.security.policy.PolicyException;
import io.beamgate.security.policy.PolicyFile;
import io.beamgate.security.policy.Rule;
import io.beamgate.security.tls.TlsMaterial;
import io.beamgate.security.tls.TlsSettings;
import io.beamgate.security.tls.TrustManagers;
import io.beamgate.security.yaml.ConfigException;
import io.beamgate.security.yaml.StrictYaml;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * Validates a gateway configuration and every file it names, without starting anything, and
 * prints what the policy allows per principal ({@code beamgate gateway check}). Every problem
 * found in one run is one {@code error:} line naming the file (and line, where there is one)
 * and what to do; findings that do not stop the gateway are {@code warning:} lines. Exit code
 * 0 when everything is usable, 1 otherwise. The numbers, flags and choices in force are listed
 * key by key as {@link ConfigTables} names them, each marked when it is the default.
 */
public final class ConfigCheck {
  private ConfigCheck() {}

  public static int run(Path configFile, PrintStream out, PrintStream err) {
    return run(configFile, out, err, Instant.now());
  }

  /** As {@link #run(Path, PrintStream, PrintStream)}, judging dates at {@code now}. */
  static int run(Path configFile, PrintStream out, PrintStream err, Instant now) {
    List<String> problems = new ArrayList<>();
    List<String> warnings = new ArrayList<>();
    GatewayConfig cfg;
    List<ConfigSetting> settings = new ArrayList<>();
    try {
      cfg = GatewayConfigFile.load(configFile, settings);
    } catch (ConfigException e) {
      for (String p : e.problems()) {
        err.println("error: " + p);
      }
      return 1;
    } catch (IOException e) {
      err.println("error: " + e.getMessage());
      return 1;
    }
    out.println("configuration " + configFile + ": ok");
    // The bounds and numbers in force, by the tables' rows: what the defaults amount to is
    // seen before the gateway runs with them (beamgate gateway config-reference says more).
    out.println("settings:");
    for (ConfigSetting s : settings) {
      out.println("  " + s);
    }
    tls(cfg.tls(), problems, warnings, now, out);
    checkSecret(cfg.cluster().cookieFile(), "cookie file", problems);
    if (cfg.cluster().listenAddress().equals(cfg.listen().address())) {
      problems.add("cluster.listen_address " + cfg.cluster().listenAddress()
          + " is the public listener's address: distribution must stay on the LAN");
    }
    audit(cfg.audit().file(), problems, warnings);
    policy(cfg, problems, warnings, out);
    for (GatewayConfig.Bridge b : cfg.bridges()) {
      out.println("bridge " + b.name() + ": the cluster behind " + b.host() + ":" + b.port()
          + " (expected: " + b.expect() + ") appears here as "
          + (b.visible() ? "visible" : "hidden") + " node " + b.nodeName()
          + (b.listenPort() == 0 ? "" : " on port " + b.listenPort()));
    }
    for (String w : warnings) {
      err.println("warning: " + w);
    }
    for (String p : problems) {
      err.println("error: " + p);
    }
    return problems.isEmpty() ? 0 : 1;
  }

  /**
   * Each TLS file on its own (so that every problem shows), then, when they pass, the server
   * context exactly as the gateway builds it (CA bundle, CRL, provider).
   */
  private static void tls(GatewayConfig.Tls t, List<String> problems, List<String> warnings,
      Instant now, PrintStream out) {
    int before = problems.size();
    for (Path p : new Path[] {t.certificate(), t.clientCas(), t.crl()}) {
      if (p != null && Files.exists(p)) { // a missing one is reported when it is read
        try {
          StrictYaml.checkNotWritableByOthers(p);
        } catch (ConfigException | IOException e) {
          problems.add("tls: " + e.getMessage());
        }
      }
    }
    TlsFilesCheck files = new TlsFilesCheck(problems, warnings, now);
    files.server(t.certificate(), t.key());
    TlsSettings settings = new TlsSettings(t.certificate(), t.key(), t.clientCas(), t.crl(),
        t.allowTls12(), Duration.ofMillis(t.handshakeTimeoutMillis()),
        TlsSettings.Provider.AUTO, t.chainCache());
    if (files.clientCas(t.clientCas())) {
      try {
        TrustManagers.clientValidator(settings); // the CA bundle and the CRL, as at run time
      } catch (IOException e) {
        problems.add("tls: " + e.getMessage());
      }
    } else if (t.crl() != null) {
      files.crlReadable(t.crl());
    }
    if (problems.size() > before) {
      return;
    }
    try {
      TlsMaterial.load(settings); // key, chain and trust, as the server's context reads them
      out.println("tls: ok (" + (t.allowTls12() ? "TLS 1.3 and 1.2 (ECDHE, AEAD)"
          : "TLS 1.3 only") + ", client certificates required"
          + (t.crl() != null ? ", CRL checked" : ", no CRL") + ")");
    } catch (IOException e) {
      problems.add("tls: " + e.getMessage());
    }
  }

  /** The audit file must be creatable and appendable by the gateway (checked as this user). */
  private static void audit(Path file, List<String> problems, List<String> warnings) {
    if (file == null) {
      warnings.add("audit: no audit file configured: audit records go to standard output");
      return;
    }
    Path dir = file.toAbsolutePath().getParent();
    if (!Files.isDirectory(dir)) {
      problems.add("audit " + file + ": its directory " + dir + " does not exist; create it"
          + " (writable by the gateway's user only) or point audit elsewhere");
    } else if (Files.exists(file) && !Files.isRegularFile(file)) {
      problems.add("audit " + file + ": not a regular file; point audit at a file");
    } else if (Files.exists(file) ? !Files.isWritable(file) : !Files.isWritable(dir)) {
      problems.add("audit " + file + ": " + (Files.exists(file) ? "the file" : "its directory "
          + dir) + " is not writable by this user, so the gateway could not record its"
          + " decisions; fix the owner or mode (checked as the user running check)");
    }
  }

  private static void policy(GatewayConfig cfg, List<String> problems,
      List<String> warnings, PrintStream out) {
    PolicyFile.Loaded loaded;
    try {
      loaded = PolicyFile.load(cfg.policy());
    } catch (PolicyException e) {
      problems.addAll(e.problems());
      warnings.addAll(e.warnings());
      return;
    } catch (IOException e) {
      problems.add("policy " + cfg.policy() + ": cannot read it (" + e.getClass()
          .getSimpleName() + ": " + e.getMessage() + ")");
      return;
    }
    out.println("policy " + cfg.policy() + ": ok, atom budget "
        + loaded.policy().atomBudget());
    if (loaded.policy().rules().stream()
        .allMatch(r -> r.calls().isEmpty() && r.sends().isEmpty())) {
      problems.add("policy " + cfg.policy() + ": allows nothing (no rule has calls or"
          + " sends); the gateway refuses to run with it");
    }
    for (Rule r : loaded.policy().rules()) {
      out.println("  rule " + r.id() + (r.permissive() ? " (permissive)" : "")
          + (r.unsafe() ? " (UNSAFE)" : ""));
      out.println("    principals: " + r.principals());
      List<String> calls = new ArrayList<>();
      for (Object c : r.calls()) {
        calls.add(c.toString());
      }
      out.println("    calls: " + (calls.isEmpty() ? "none" : String.join(", ", calls)));
      out.println("    sends: " + (r.sends().isEmpty() ? "none" : String.join(", ",
          r.sends())));
      out.println("    limits: " + r.limits().ratePerSecond() + "/s, "
          + r.limits().concurrency() + " in flight, timeout " + r.limits().timeoutMillis()
          + " ms, args <= " + r.guard().maxBytes() + " B, depth <= " + r.guard().maxDepth());
    }
    warnings.addAll(loaded.warnings());
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
