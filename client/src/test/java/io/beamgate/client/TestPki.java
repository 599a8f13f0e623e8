package io.beamgate.client;

import io.beamgate.certs.HeldCertificate;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Certificates for client tests, made on the fly in {@code dir} (no key is committed): a CA, a
 * gateway certificate for 127.0.0.1/localhost, a client; and the wrong ones (another CA, a
 * client it signed, a gateway certificate for another host).
 */
final class TestPki {
  final Path ca;
  final Path serverCert;
  final Path serverKey;
  final Path clientCert;
  final Path clientKey;
  final Path foreignCa;
  final Path foreignClientCert;
  final Path foreignClientKey;
  final Path otherHostCert;
  final Path otherHostKey;
  static final String CLIENT_URI = "spiffe://test/client";

  TestPki(Path dir) throws IOException {
    HeldCertificate root = HeldCertificate.builder().commonName("test CA")
        .certificateAuthority(0).build();
    HeldCertificate other = HeldCertificate.builder().commonName("foreign CA")
        .certificateAuthority(0).build();
    ca = write(dir.resolve("ca.pem"), root.certificatePem());
    foreignCa = write(dir.resolve("foreign-ca.pem"), other.certificatePem());
    serverCert = dir.resolve("server.pem");
    serverKey = dir.resolve("server.key");
    HeldCertificate.builder().commonName("gateway").dns("localhost").ip("127.0.0.1")
        .serverAuth().signedBy(root).build().writeTo(serverCert, serverKey);
    clientCert = dir.resolve("client.pem");
    clientKey = dir.resolve("client.key");
    HeldCertificate.builder().commonName("client").uri(CLIENT_URI).clientAuth()
        .signedBy(root).build().writeTo(clientCert, clientKey);
    foreignClientCert = dir.resolve("foreign-client.pem");
    foreignClientKey = dir.resolve("foreign-client.key");
    HeldCertificate.builder().commonName("intruder").uri("spiffe://other/intruder")
        .clientAuth().signedBy(other).build().writeTo(foreignClientCert, foreignClientKey);
    otherHostCert = dir.resolve("other-host.pem");
    otherHostKey = dir.resolve("other-host.key");
    HeldCertificate.builder().commonName("elsewhere").dns("gw.elsewhere.example")
        .serverAuth().signedBy(root).build().writeTo(otherHostCert, otherHostKey);
  }

  private static Path write(Path p, String pem) throws IOException {
    Files.writeString(p, pem);
    return p;
  }
}
