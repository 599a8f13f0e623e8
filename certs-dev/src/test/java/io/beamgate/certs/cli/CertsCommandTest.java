package io.beamgate.certs.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** The certs CLI end to end, checked with real openssl. */
class CertsCommandTest {
  @TempDir Path dir;

  record Run(int exit, String out, String err) {}

  static Run certs(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    CommandLine cl = new CommandLine(new CertsCommand());
    cl.setOut(new PrintWriter(out, true));
    cl.setErr(new PrintWriter(err, true));
    return new Run(cl.execute(args), out.toString(), err.toString());
  }

  static String openssl(String... args) throws Exception {
    List<String> cmd = new ArrayList<>(List.of("openssl"));
    cmd.addAll(List.of(args));
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes());
    p.waitFor(30, TimeUnit.SECONDS);
    return p.exitValue() + ":" + out;
  }

  @Test
  void initIssueRevokeAndCrlAgreeWithOpenssl() throws Exception {
    Path ca = dir.resolve("ca");
    assertEquals(0, certs("init-ca", "--out", ca.toString(), "--cn", "test CA").exit());
    Run srv = certs("issue", "--ca", ca.toString(), "--out", dir.resolve("srv").toString(),
        "--server", "--dns", "localhost", "--ip", "127.0.0.1");
    assertEquals(0, srv.exit(), srv.err());
    Run cli = certs("issue", "--ca", ca.toString(), "--out", dir.resolve("cli").toString(),
        "--client", "--uri", "spiffe://example.org/app", "--rsa");
    assertEquals(0, cli.exit(), cli.err());
    String caPem = ca.resolve("ca.pem").toString();
    String cliPem = dir.resolve("cli/cert.pem").toString();
    assertTrue(openssl("verify", "-CAfile", caPem, "-purpose", "sslserver",
        dir.resolve("srv/cert.pem").toString()).startsWith("0:"));
    assertTrue(openssl("verify", "-CAfile", caPem, "-purpose", "sslclient", cliPem)
        .startsWith("0:"));
    assertTrue(openssl("x509", "-in", cliPem, "-noout", "-text").contains("rsaEncryption"));
    // a bridging gateway's certificate serves both purposes; a plain server's only one
    Run gw = certs("issue", "--ca", ca.toString(), "--out", dir.resolve("gw").toString(),
        "--gateway", "--dns", "gw-a.example.org");
    assertEquals(0, gw.exit(), gw.err());
    String gwPem = dir.resolve("gw/cert.pem").toString();
    assertTrue(openssl("verify", "-CAfile", caPem, "-purpose", "sslserver", gwPem)
        .startsWith("0:"));
    assertTrue(openssl("verify", "-CAfile", caPem, "-purpose", "sslclient", gwPem)
        .startsWith("0:"));
    assertTrue(!openssl("verify", "-CAfile", caPem, "-purpose", "sslclient",
        dir.resolve("srv/cert.pem").toString()).startsWith("0:"));

    Path crl = dir.resolve("crl.pem");
    assertEquals(0, certs("crl", "--ca", ca.toString(), "--out", crl.toString()).exit());
    assertTrue(openssl("verify", "-crl_check", "-CAfile", caPem, "-CRLfile", crl.toString(),
        cliPem).startsWith("0:"), "not revoked yet");
    Run revoke = certs("revoke", "--ca", ca.toString(), "--cert", cliPem);
    assertEquals(0, revoke.exit(), revoke.err());
    assertEquals(0, certs("crl", "--ca", ca.toString(), "--out", crl.toString()).exit());
    String v = openssl("verify", "-crl_check", "-CAfile", caPem, "-CRLfile", crl.toString(),
        cliPem);
    assertTrue(v.contains("certificate revoked"), v);
    String crlText = openssl("crl", "-in", crl.toString(), "-noout", "-text");
    assertTrue(crlText.contains("X509v3 CRL Number: \n                2"), crlText);
  }

  @Test
  void mistakesAreExplained() throws Exception {
    Path ca = dir.resolve("ca");
    assertEquals(0, certs("init-ca", "--out", ca.toString()).exit());
    Run again = certs("init-ca", "--out", ca.toString());
    assertEquals(1, again.exit());
    assertTrue(again.err().contains("refusing to overwrite"), again.err());
    Run noName = certs("issue", "--ca", ca.toString(), "--out", dir.resolve("x").toString(),
        "--server");
    assertEquals(1, noName.exit());
    assertTrue(noName.err().contains("needs --dns or --ip"), noName.err());
    Run noCa = certs("issue", "--ca", dir.resolve("nope").toString(), "--out",
        dir.resolve("x").toString(), "--client", "--cn", "c");
    assertEquals(1, noCa.exit());
    assertTrue(noCa.err().contains("no CA in"), noCa.err());
    Run both = certs("issue", "--ca", ca.toString(), "--out", dir.resolve("x").toString(),
        "--client", "--server", "--cn", "c");
    assertEquals(2, both.exit(), "mutually exclusive kinds are a usage error");
    Run days = certs("issue", "--ca", ca.toString(), "--out", dir.resolve("x").toString(),
        "--client", "--cn", "c", "--days", "0");
    assertEquals(1, days.exit());
    assertTrue(days.err().contains("--days: 0 (expected: 1..3650)"), days.err());
    // A certificate from another CA cannot be revoked here.
    Path other = dir.resolve("other");
    certs("init-ca", "--out", other.toString());
    certs("issue", "--ca", other.toString(), "--out", dir.resolve("o").toString(), "--client",
        "--cn", "o");
    Run foreign = certs("revoke", "--ca", ca.toString(), "--cert",
        dir.resolve("o/cert.pem").toString());
    assertEquals(1, foreign.exit());
    assertTrue(foreign.err().contains("not issued by this CA"), foreign.err());
    assertTrue(Files.readString(ca.resolve("revoked.txt")).isEmpty());
  }
}
