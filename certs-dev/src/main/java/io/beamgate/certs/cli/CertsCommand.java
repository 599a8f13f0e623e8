package io.beamgate.certs.cli;

import io.beamgate.certs.DevCa;
import io.beamgate.certs.HeldCertificate;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code beamgate certs}: a development PKI. */
@Command(name = "certs", mixinStandardHelpOptions = true,
    description = {"A development PKI: a CA, server and client certificates, revocation, CRLs.",
        "For development and tests; production admins bring their own CA."},
    subcommands = {CertsCommand.InitCa.class, CertsCommand.Issue.class,
        CertsCommand.Revoke.class, CertsCommand.Crl.class})
public final class CertsCommand implements Runnable {
  @Spec CommandSpec spec;

  @Override
  public void run() {
    spec.commandLine().usage(spec.commandLine().getOut());
  }

  static int fail(CommandSpec spec, String message) {
    spec.commandLine().getErr().println("beamgate certs " + spec.name() + ": " + message);
    return 1;
  }

  static Duration days(int days) {
    if (days < 1 || days > 3650) {
      throw new IllegalArgumentException("--days: " + days + " (expected: 1..3650)");
    }
    return Duration.ofDays(days);
  }

  /** {@code beamgate certs init-ca}. */
  @Command(name = "init-ca", mixinStandardHelpOptions = true,
      description = "Create a CA in DIR: ca.pem, and ca.key (mode 0600).")
  public static final class InitCa implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "Directory of the CA.")
    Path out;

    @Option(names = "--cn", paramLabel = "NAME", defaultValue = "beamgate development CA",
        description = "Common name (default: ${DEFAULT-VALUE}).")
    String cn;

    @Option(names = "--days", paramLabel = "N", defaultValue = "365",
        description = "Validity in days (default: ${DEFAULT-VALUE}).")
    int days;

    @Option(names = "--rsa", description = "RSA-2048 instead of EC P-256.")
    boolean rsa;

    @Override
    public Integer call() {
      try {
        DevCa ca = DevCa.init(out, cn, days(days), rsa);
        spec.commandLine().getOut().println("CA '" + cn + "' created in " + out + " (serial "
            + ca.certificate().serial().toString(16) + ")");
        return 0;
      } catch (IOException | IllegalArgumentException e) {
        return fail(spec, e.getMessage());
      }
    }
  }

  /** {@code beamgate certs issue}. */
  @Command(name = "issue", mixinStandardHelpOptions = true,
      description = "Issue a server or client certificate: DIR/cert.pem (chain), DIR/key.pem"
          + " (mode 0600), DIR/ca.pem.")
  public static final class Issue implements Callable<Integer> {
    @Spec CommandSpec spec;

    static final class Kind {
      @Option(names = "--server", required = true, description = "A server certificate.")
      boolean server;

      @Option(names = "--client", required = true, description = "A client certificate.")
      boolean client;

      @Option(names = "--gateway", required = true, description = "A gateway's certificate"
          + " for bridging: good for TLS servers and clients (it accepts links and opens"
          + " them).")
      boolean gateway;
    }

    @ArgGroup(exclusive = true, multiplicity = "1")
    Kind kind;

    @Option(names = "--ca", required = true, paramLabel = "DIR", description = "The CA's directory.")
    Path caDir;

    @Option(names = "--out", required = true, paramLabel = "DIR",
        description = "Where to write cert.pem and key.pem.")
    Path out;

    @Option(names = "--cn", paramLabel = "NAME", description = "Common name.")
    String cn;

    @Option(names = "--dns", paramLabel = "H", description = "DNS name (SAN), repeatable.")
    List<String> dns = new ArrayList<>();

    @Option(names = "--ip", paramLabel = "A", description = "IP address (SAN), repeatable.")
    List<String> ips = new ArrayList<>();

    @Option(names = "--uri", paramLabel = "URI",
        description = "URI (SAN), e.g. a SPIFFE ID, repeatable.")
    List<String> uris = new ArrayList<>();

    @Option(names = "--days", paramLabel = "N", defaultValue = "90",
        description = "Validity in days (default: ${DEFAULT-VALUE}).")
    int days;

    @Option(names = "--rsa", description = "RSA-2048 instead of EC P-256.")
    boolean rsa;

    @Override
    public Integer call() {
      try {
        if ((kind.server || kind.gateway) && dns.isEmpty() && ips.isEmpty()) {
          return fail(spec, "a server certificate needs --dns or --ip (clients check them)");
        }
        if (cn == null && dns.isEmpty() && uris.isEmpty()) {
          return fail(spec, "give the certificate a name: --cn, --dns or --uri");
        }
        DevCa ca = DevCa.open(caDir);
        HeldCertificate.Builder b = HeldCertificate.builder().validity(days(days));
        b.commonName(cn != null ? cn : !dns.isEmpty() ? dns.get(0) : uris.get(0));
        dns.forEach(b::dns);
        ips.forEach(b::ip);
        uris.forEach(b::uri);
        if (kind.server || kind.gateway) {
          b.serverAuth();
        }
        if (kind.client || kind.gateway) {
          b.clientAuth();
        }
        if (rsa) {
          b.rsa(2048);
        }
        HeldCertificate cert = ca.issue(b);
        Files.createDirectories(out);
        cert.writeTo(out.resolve("cert.pem"), out.resolve("key.pem"));
        Files.writeString(out.resolve("ca.pem"), ca.certificate().certificatePem());
        spec.commandLine().getOut().println((kind.gateway ? "gateway" : kind.server ? "server"
            : "client")
            + " certificate written to " + out + " (serial " + cert.serial().toString(16) + ")");
        return 0;
      } catch (IOException | IllegalArgumentException | IllegalStateException e) {
        return fail(spec, e.getMessage());
      }
    }
  }

  /** {@code beamgate certs revoke}. */
  @Command(name = "revoke", mixinStandardHelpOptions = true,
      description = "Record a certificate of this CA as revoked (publish with `certs crl`).")
  public static final class Revoke implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Option(names = "--ca", required = true, paramLabel = "DIR", description = "The CA's directory.")
    Path caDir;

    @Option(names = "--cert", required = true, paramLabel = "FILE",
        description = "The certificate (PEM) to revoke.")
    Path cert;

    @Override
    public Integer call() {
      try {
        DevCa ca = DevCa.open(caDir);
        X509Certificate c = DevCa.readCertificates(cert).get(0);
        ca.revoke(c);
        spec.commandLine().getOut().println("revoked serial " + c.getSerialNumber().toString(16)
            + "; publish it with `beamgate certs crl --ca " + caDir + " --out FILE`");
        return 0;
      } catch (IOException e) {
        return fail(spec, e.getMessage());
      }
    }
  }

  /** {@code beamgate certs crl}. */
  @Command(name = "crl", mixinStandardHelpOptions = true,
      description = "Write the CA's certificate revocation list (PEM).")
  public static final class Crl implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Option(names = "--ca", required = true, paramLabel = "DIR", description = "The CA's directory.")
    Path caDir;

    @Option(names = "--out", required = true, paramLabel = "FILE", description = "The CRL file.")
    Path out;

    @Option(names = "--days", paramLabel = "N", defaultValue = "7",
        description = "Days until the next update is due (default: ${DEFAULT-VALUE}).")
    int days;

    @Override
    public Integer call() {
      try {
        DevCa ca = DevCa.open(caDir);
        Files.writeString(out, DevCa.pem(ca.crl(days(days))));
        spec.commandLine().getOut().println("CRL with " + ca.revoked().size()
            + " revoked serial(s) written to " + out);
        return 0;
      } catch (IOException | IllegalArgumentException e) {
        return fail(spec, e.getMessage());
      }
    }
  }
}
