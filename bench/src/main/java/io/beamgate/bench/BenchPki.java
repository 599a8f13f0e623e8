package io.beamgate.bench;

import io.beamgate.certs.DevCa;
import io.beamgate.certs.HeldCertificate;
import io.beamgate.node.NodeName;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

/**
 * The certificates of one benchmark run, made at bench time with beamgate's certs-dev (EC P-256
 * everywhere, the dev CA's default): a CA, a server certificate (serverAuth; SANs: localhost
 * first, as a bridge's expect names a gateway by its first DNS SAN, then this host's short
 * name, 127.0.0.1) and a client certificate (clientAuth) under it, and a client
 * certificate of another CA for the refusal checks. Every TLS scenario uses these same files:
 * OTP's TLS distribution, openssl s_server/s_time and, later, the gateway's listener.
 */
record BenchPki(Path caFile, CertFiles server, CertFiles client, CertFiles otherClient) {

  /** A certificate chain file and its key file (PEM), and the CA file to trust. */
  record CertFiles(Path cert, Path key, Path ca) {}

  static BenchPki create(Path dir) throws IOException {
    Files.createDirectories(dir);
    DevCa ca = DevCa.init(dir.resolve("ca"), "beamgate bench CA", Duration.ofDays(2), false);
    DevCa other = DevCa.init(dir.resolve("other-ca"), "beamgate bench other CA",
        Duration.ofDays(2), false);
    Path caFile = ca.dir().resolve(DevCa.CERT);
    CertFiles server = write(dir.resolve("server"), caFile, ca.issue(HeldCertificate.builder()
        .commonName("beamgate-bench-server").dns("localhost").dns(NodeName.shortHostName())
        .ip("127.0.0.1").serverAuth().validity(Duration.ofDays(1))));
    CertFiles client = write(dir.resolve("client"), caFile, ca.issue(HeldCertificate.builder()
        .commonName("beamgate-bench-client").uri(GatewayPath.PRINCIPAL).clientAuth().validity(Duration.ofDays(1))));
    CertFiles otherClient = write(dir.resolve("other-client"), caFile,
        other.issue(HeldCertificate.builder().commonName("beamgate-bench-intruder")
            .clientAuth().validity(Duration.ofDays(1))));
    return new BenchPki(caFile, server, client, otherClient);
  }

  private static CertFiles write(Path dir, Path caFile, HeldCertificate cert) throws IOException {
    Files.createDirectories(dir);
    Path certFile = dir.resolve("cert.pem");
    Path keyFile = dir.resolve("key.pem");
    cert.writeTo(certFile, keyFile);
    return new CertFiles(certFile, keyFile, caFile);
  }
}
