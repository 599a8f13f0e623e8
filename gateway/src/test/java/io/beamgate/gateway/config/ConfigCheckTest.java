package io.beamgate.gateway.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.beamgate.certs.DevCa;
import io.beamgate.certs.HeldCertificate;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConfigCheckTest {
  @TempDir Path dir;
  Path config;
  DevCa ca;

  static final String CONFIG = """
      version: 1
      listen: {address: 0.0.0.0, port: 9443}
      tls:
        certificate: gw.pem
        key: gw.key
        client_cas: ca/ca.pem
        crl: crl.pem
      cluster:
        node_name: gw@127.0.0.1
        cookie_file: cookie
        listen_address: 127.0.0.1
        backends: [app@127.0.0.1]
      policy: policy.yaml
      """;

  @BeforeEach
  void setUp() throws Exception {
    ca = DevCa.init(dir.resolve("ca"), "ca", Duration.ofDays(100), false);
    ca.issue(HeldCertificate.builder().dns("gw").serverAuth().validity(Duration.ofDays(90)))
        .writeTo(dir.resolve("gw.pem"), dir.resolve("gw.key"));
    Files.writeString(dir.resolve("crl.pem"), DevCa.pem(ca.crl(Duration.ofDays(1))));
    Path cookie = dir.resolve("cookie");
    Files.writeString(cookie, "secret");
    Files.setPosixFilePermissions(cookie, PosixFilePermissions.fromString("r--------"));
    Files.writeString(dir.resolve("policy.yaml"), """
        version: 1
        rules:
          - id: kv
            principals: ["uri:spiffe://t/app"]
            calls: ["kv:get/1"]
        """);
    config = dir.resolve("gateway.yaml");
    Files.writeString(config, CONFIG);
  }

  /** Replaces the gateway's certificate and key. */
  private void serverCertificate(HeldCertificate.Builder b) throws Exception {
    Files.delete(dir.resolve("gw.key"));
    ca.issue(b).writeTo(dir.resolve("gw.pem"), dir.resolve("gw.key"));
  }

  private String[] run() {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int code = ConfigCheck.run(config, new PrintStream(out, true, StandardCharsets.UTF_8),
        new PrintStream(err, true, StandardCharsets.UTF_8));
    return new String[] {Integer.toString(code), out.toString(StandardCharsets.UTF_8),
        err.toString(StandardCharsets.UTF_8)};
  }

  @Test
  void aGoodConfigurationPassesAndShowsThePolicy() {
    String[] r = run();
    assertEquals("0", r[0], r[2]);
    assertTrue(r[1].contains("tls: ok (TLS 1.3 only, client certificates required, CRL"
        + " checked)"), r[1]);
    assertTrue(r[1].contains("rule kv") && r[1].contains("calls: kv:get/1"), r[1]);
    assertTrue(r[1].contains("principals: [uri:spiffe://t/app]"), r[1]);
    assertTrue(!r[1].contains("secret") && !r[2].contains("secret"), "the cookie never shows");
    assertTrue(!r[1].contains("bridge "), r[1]);
  }

  @Test
  void theSettingsInForceAreListedByTheTablesKeys() throws Exception {
    Files.writeString(config, CONFIG + "limits: {max_frame_bytes: 65536}\n");
    String[] r = run();
    assertEquals("0", r[0], r[2]);
    assertTrue(r[1].contains("\nsettings:\n"), r[1]);
    assertTrue(r[1].contains("\n  limits.max_frame_bytes: 65536\n"), "set in the file: " + r[1]);
    assertTrue(r[1].contains("\n  limits.max_in_flight: 10000 (default)\n"), r[1]);
    assertTrue(r[1].contains("\n  cluster.routing: round_robin (default)\n"), r[1]);
    assertTrue(r[1].contains("\n  bridge.max_queue_bytes: 16777216 (default)\n"), r[1]);
  }

  @Test
  void everyProblemOfTheConfigurationFileIsOnItsOwnLine() throws Exception {
    Files.writeString(config, CONFIG.replace("backends: [app@127.0.0.1]",
        "backends: [app@127.0.0.1]\n  routing: random") + "limits: {max_frame_bytes: 1}\n");
    String[] r = run();
    assertEquals("1", r[0]);
    long errors = r[2].lines().filter(l -> l.startsWith("error: ")).count();
    assertEquals(2, errors, r[2]);
    assertTrue(r[2].contains("routing") && r[2].contains("max_frame_bytes"), r[2]);
  }

  @Test
  void bridgesAreListed() throws Exception {
    Files.writeString(config, CONFIG + "bridges:\n  - name: to-a\n"
        + "    connect: {host: gw-a.example, port: 9443}\n    expect: dns:gw-a.example\n"
        + "    node_name: cluster_a@10.0.0.5\n");
    String[] r = run();
    assertEquals("0", r[0], r[2]);
    assertTrue(r[1].contains("bridge to-a: the cluster behind gw-a.example:9443 (expected:"
        + " dns:gw-a.example) appears here as hidden node cluster_a@10.0.0.5"), r[1]);
  }

  @Test
  void problemsInReferencedFilesAreEachReported() throws Exception {
    Files.setPosixFilePermissions(dir.resolve("cookie"),
        PosixFilePermissions.fromString("rw-r--r--"));
    Files.writeString(dir.resolve("policy.yaml"), "version: 1\nrules:\n  - id: x\n    colour: 1\n");
    Files.delete(dir.resolve("crl.pem"));
    String[] r = run();
    assertEquals("1", r[0]);
    assertTrue(r[2].contains("cookie file") && r[2].contains("group or others"), r[2]);
    assertTrue(r[2].contains("policy.yaml:4: colour: unknown key"), r[2]);
    assertTrue(r[2].contains("cannot read the CRL"), r[2]);
  }

  @Test
  void aWritableCaBundleAndAPolicyThatAllowsNothingAreProblems() throws Exception {
    Files.setPosixFilePermissions(dir.resolve("ca/ca.pem"),
        java.nio.file.attribute.PosixFilePermissions.fromString("rw-rw-rw-"));
    Files.writeString(dir.resolve("policy.yaml"), "version: 1\nrules:\n  - id: x\n"
        + "    principals: [\"dns:a\"]\n");
    String[] r = run();
    assertEquals("1", r[0]);
    assertTrue(r[2].contains("ca.pem") && r[2].contains("writable"), r[2]);
    assertTrue(r[2].contains("allows nothing"), r[2]);
  }

  @Test
  void configurationErrorsNameFileLineAndKey() throws Exception {
    Files.writeString(config, CONFIG.replace("port: 9443", "port: 99999"));
    assertTrue(run()[2].contains("gateway.yaml:2: port: 99999 (expected: 1..65535)"));
    Files.writeString(config, CONFIG.replace("backends: [app@127.0.0.1]", "backends: []"));
    assertTrue(run()[2].contains("backends: empty"));
    Files.writeString(config, CONFIG.replace("policy: policy.yaml", "policy: policy.yaml\n"
        + "policy: other.yaml"));
    assertTrue(run()[2].contains("policy: duplicate key"));
    Files.writeString(config, CONFIG.replace("listen_address: 127.0.0.1",
        "listen_address: 0.0.0.0"));
    assertTrue(run()[2].contains("distribution must stay on the LAN"));
    Files.writeString(config, CONFIG.replace("policy: policy.yaml\n", ""));
    assertTrue(run()[2].contains("policy: missing"));
  }

  /** The lines of {@code out} that start with {@code prefix}. */
  static java.util.List<String> lines(String out, String prefix) {
    return out.lines().filter(l -> l.startsWith(prefix)).toList();
  }

  @Test
  void anExpiredOrNotYetValidServerCertificateIsAnErrorAndOneNearItsEndAWarning()
      throws Exception {
    Instant now = Instant.now();
    serverCertificate(HeldCertificate.builder().dns("gw").serverAuth()
        .validity(now.minus(Duration.ofDays(30)), now.minus(Duration.ofDays(3).plusHours(1))));
    String[] r = run();
    assertEquals("1", r[0], r[2]);
    assertTrue(r[2].contains("error: tls.certificate " + dir.resolve("gw.pem")
        + ": the server certificate (CN=") && r[2].contains("expired on ")
        && r[2].contains(", 3 days ago: clients refuse it; renew it"), r[2]);
    serverCertificate(HeldCertificate.builder().dns("gw").serverAuth()
        .validity(now.plus(Duration.ofDays(2).plusHours(1)), now.plus(Duration.ofDays(9))));
    r = run();
    assertEquals("1", r[0], r[2]);
    assertTrue(r[2].contains("is not valid before ") && r[2].contains("(in 2 days)"), r[2]);
    serverCertificate(HeldCertificate.builder().dns("gw").serverAuth()
        .validity(now.minus(Duration.ofDays(1)), now.plus(Duration.ofDays(10).plusHours(1))));
    r = run();
    assertEquals("0", r[0], r[2]);
    assertTrue(r[2].contains("warning: tls.certificate") && r[2].contains(", in 10 days: renew"
        + " it before then"), r[2]);
    assertTrue(lines(r[2], "error:").isEmpty(), r[2]);
    // At and past the 30-day line.
    serverCertificate(HeldCertificate.builder().dns("gw").serverAuth()
        .validity(now.minus(Duration.ofDays(1)), now.plus(Duration.ofDays(30).plusHours(1))));
    assertTrue(lines(run()[2], "warning: tls").isEmpty(), "31 days left: no warning");
    serverCertificate(HeldCertificate.builder().dns("gw").serverAuth()
        .validity(now.minus(Duration.ofDays(1)), now.plus(Duration.ofDays(29).plusHours(23))));
    assertTrue(run()[2].contains(", in 29 days: renew"), "under 30 days: a warning");
  }

  @Test
  void aKeyThatIsNotTheCertificatesIsAnError() throws Exception {
    Files.delete(dir.resolve("gw.key"));
    HeldCertificate other = ca.issue(HeldCertificate.builder().dns("other").serverAuth());
    other.writeTo(dir.resolve("other.pem"), dir.resolve("gw.key"));
    String[] r = run();
    assertEquals("1", r[0]);
    assertTrue(r[2].contains("error: tls.key " + dir.resolve("gw.key") + ": not the key of the"
        + " certificate in " + dir.resolve("gw.pem") + " (their public keys differ)"), r[2]);
    // RSA too: the same test works for every key type.
    Files.delete(dir.resolve("gw.key"));
    ca.issue(HeldCertificate.builder().dns("other").serverAuth().rsa(2048))
        .writeTo(dir.resolve("other.pem"), dir.resolve("gw.key"));
    assertTrue(run()[2].contains("not the key of the certificate"));
    serverCertificate(HeldCertificate.builder().dns("gw").serverAuth().rsa(2048));
    assertEquals("0", run()[0], "an RSA pair that matches passes");
  }

  @Test
  void aServerCertificateWithoutServerAuthIsAnError() throws Exception {
    serverCertificate(HeldCertificate.builder().dns("gw").clientAuth());
    String[] r = run();
    assertEquals("1", r[0]);
    assertTrue(r[2].contains("error: tls.certificate " + dir.resolve("gw.pem") + ": the"
        + " extended key usage [clientAuth] has no serverAuth"), r[2]);
    serverCertificate(HeldCertificate.builder().dns("gw"));
    assertEquals("0", run()[0], "no extended key usage at all: any use");
    serverCertificate(HeldCertificate.builder().dns("gw").serverAuth().clientAuth());
    assertEquals("0", run()[0], "a gateway's certificate, both");
  }

  @Test
  void aClientCaFileThatIsUnreadableOrNotACaIsAnError() throws Exception {
    Path cas = dir.resolve("ca/ca.pem");
    Files.copy(dir.resolve("gw.pem"), cas, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    String[] r = run();
    assertEquals("1", r[0]);
    assertTrue(r[2].contains("error: tls.client_cas " + cas + ": certificate 1 (CN=") && r[2].contains(
        ") is not a CA (no basicConstraints CA:true)"), r[2]);
    Files.writeString(cas, "not a certificate\n");
    r = run();
    assertEquals("1", r[0]);
    assertTrue(r[2].contains("error: tls.client_cas " + cas + ": "), r[2]);
    assertTrue(r[2].contains("expected: the PEM certificates of the CAs that issue client"
        + " certificates"), r[2]);
    Files.delete(cas);
    assertTrue(run()[2].contains("error: tls.client_cas " + cas + ": cannot read it"
        + " (NoSuchFileException"));
  }

  @Test
  void anAuditFileTheGatewayCouldNotWriteIsAnError() throws Exception {
    Files.writeString(config, CONFIG + "audit: logs/audit.jsonl\n");
    String[] r = run();
    assertEquals("1", r[0]);
    assertTrue(r[2].contains("error: audit " + dir.resolve("logs/audit.jsonl") + ": its"
        + " directory " + dir.resolve("logs") + " does not exist; create it"), r[2]);
    Files.createDirectory(dir.resolve("logs"));
    assertEquals("0", run()[0], run()[2]);
    Files.createDirectory(dir.resolve("logs/audit.jsonl"));
    assertTrue(run()[2].contains("not a regular file"));
    // A directory no one may create files in (procfs refuses even root).
    Files.writeString(config, CONFIG + "audit: /proc/self/audit.jsonl\n");
    r = run();
    assertEquals("1", r[0]);
    assertTrue(r[2].contains("error: audit /proc/self/audit.jsonl: its directory /proc/self is"
        + " not writable by this user"), r[2]);
    Files.writeString(config, CONFIG);
    assertTrue(run()[2].contains("warning: audit: no audit file configured"));
  }

  @Test
  void principalsNoCertificateCanCarryAreErrorsWithTheirLines() throws Exception {
    Files.writeString(dir.resolve("policy.yaml"), """
        version: 1
        rules:
          - id: a
            principals: ["sha256:abcd", "uri:spiffe//t/app"]
            calls: ["kv:get/1"]
          - id: b
            principals: ["dns:bad_name.example"]
            calls: ["kv:get/1"]
        """);
    String[] r = run();
    assertEquals("1", r[0]);
    Path p = dir.resolve("policy.yaml");
    java.util.List<String> errors = lines(r[2], "error:");
    assertEquals(3, errors.size(), r[2]);
    assertTrue(errors.get(0).startsWith("error: " + p + ":4: principals: principal rule"
        + " 'sha256:abcd': 4 hex digits (expected: 64"), errors.get(0));
    assertTrue(errors.get(1).startsWith("error: " + p + ":4: principals: principal rule"
        + " 'uri:spiffe//t/app': not an absolute URI"), errors.get(1));
    assertTrue(errors.get(2).startsWith("error: " + p + ":7: principals: principal rule"
        + " 'dns:bad_name.example': 'bad_name' is not a DNS label"), errors.get(2));
  }

  @Test
  void riskyRulesAreWarningsNamingTheirLines() throws Exception {
    Files.writeString(dir.resolve("policy.yaml"), """
        version: 1
        rules:
          - id: kv
            principals: ["uri:spiffe://t/*"]
            calls: ["kv:get/1"]
          - id: kv-again
            principals: ["uri:spiffe://t/*"]
            calls: ["kv:get/1"]
          - id: starter
            principals: ["dns:ops.t.example"]
            sends: [code_server, "Elixir.MyApp.TaskSupervisor", kv_server]
        """);
    String[] r = run();
    assertEquals("0", r[0], r[2]);
    Path p = dir.resolve("policy.yaml");
    java.util.List<String> w = lines(r[2], "warning: " + p);
    assertEquals(5, w.size(), r[2]);
    assertTrue(w.get(0).startsWith("warning: " + p + ":4: principals: 'uri:spiffe://t/*'"
        + " matches every workload of spiffe://t"), w.get(0));
    assertTrue(w.get(1).startsWith("warning: " + p + ":7: principals:"), w.get(1));
    assertTrue(w.get(2).startsWith("warning: " + p + ":11: sends: rule 'starter' allows sends"
        + " to code_server, an OTP system process") && w.get(2).contains("can start arbitrary"
        + " code"), w.get(2));
    assertTrue(w.get(3).startsWith("warning: " + p + ":11: sends: rule 'starter' allows sends"
        + " to Elixir.MyApp.TaskSupervisor, which looks like a supervisor")
        && w.get(3).contains("Task.Supervisor MFA"), w.get(3));
    assertTrue(w.get(4).startsWith("warning: " + p + ":6: id: rule 'kv-again' names the same"
        + " principals and allows the same calls and sends as rule 'kv' (line 3)"), w.get(4));
  }

  @Test
  void everyProblemShowsInOneRun() throws Exception {
    Instant now = Instant.now();
    serverCertificate(HeldCertificate.builder().dns("gw").clientAuth()
        .validity(now.minus(Duration.ofDays(30)), now.minus(Duration.ofDays(1))));
    Files.copy(dir.resolve("gw.pem"), dir.resolve("ca/ca.pem"),
        java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    Files.delete(dir.resolve("crl.pem"));
    Files.writeString(config, CONFIG + "audit: nowhere/audit.jsonl\n");
    Files.writeString(dir.resolve("policy.yaml"), """
        version: 1
        rules:
          - id: a
            principals: ["sha256:12"]
            calls: ["kv:get/1"]
          - id: b
            principals: ["uri:spiffe://t/b"]
            calls: ["kv:get/1"]
            colour: blue
          - id: c
            principals: ["dns:c.example"]
            sends: [rex]
        """);
    String[] r = run();
    assertEquals("1", r[0]);
    for (String expected : new String[] {"expired on", "has no serverAuth", "is not a CA",
        "cannot read the CRL", "nowhere does not exist", "policy.yaml:4: principals",
        "policy.yaml:9: colour: unknown key"}) {
      assertEquals(1, lines(r[2], "error:").stream().filter(l -> l.contains(expected)).count(),
          expected + " in\n" + r[2]);
    }
    assertEquals(7, lines(r[2], "error:").size(), r[2]);
    assertTrue(r[2].contains("warning: " + dir.resolve("policy.yaml") + ":12: sends: rule 'c'"
        + " allows sends to rex"), "warnings show even when the policy has errors: " + r[2]);
  }
}
