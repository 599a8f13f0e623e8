package io.beamgate.security.config;

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
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConfigCheckTest {
  @TempDir Path dir;
  Path config;

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
    DevCa ca = DevCa.init(dir.resolve("ca"), "ca", Duration.ofDays(1), false);
    ca.issue(HeldCertificate.builder().dns("gw").serverAuth())
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
}
