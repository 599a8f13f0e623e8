package io.beamgate.gateway.server;

import io.beamgate.security.yaml.ConfigException;
import io.beamgate.gateway.config.GatewayConfig;
import io.beamgate.security.policy.Policy;
import io.beamgate.security.policy.PolicyFile;
import io.beamgate.security.policy.Rule;
import io.beamgate.gateway.transport.TlsContexts;
import io.beamgate.security.tls.TlsException;
import io.beamgate.security.tls.TlsSettings;
import io.netty.handler.ssl.SslContext;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import javax.net.ssl.X509TrustManager;

/**
 * What a reload can change, loaded and validated as a whole before it replaces the one in
 * force: the policy, the listener's TLS context (certificate, key, client CAs, CRL) and the
 * validator that re-checks open connections. {@code stamps} fingerprint the files it came from.
 */
record GatewayState(Policy policy, List<String> warnings, SslContext ssl, TlsSettings tls,
    X509TrustManager validator, Map<Path, String> stamps, int generation) {

  static GatewayState load(GatewayConfig cfg, TlsSettings.Provider provider, int generation)
      throws ConfigException, IOException, TlsException {
    // Fingerprint first: a file that changes while loading is seen again on the next check.
    Map<Path, String> stamps = stamps(cfg);
    PolicyFile.Loaded loaded = PolicyFile.load(cfg.policy());
    Policy policy = loaded.policy();
    boolean allowsSomething = false;
    for (Rule r : policy.rules()) {
      if (!r.calls().isEmpty() || !r.sends().isEmpty()) {
        allowsSomething = true;
      }
    }
    if (!allowsSomething) {
      throw new ConfigException(cfg.policy() + ": the policy allows nothing (no rule has calls"
          + " or sends); refusing to run a gateway that can only say no");
    }
    // Whoever can write these can let themselves in: refuse files others may write.
    for (Path p : new Path[] {cfg.tls().certificate(), cfg.tls().clientCas(), cfg.tls().crl()}) {
      if (p != null) {
        io.beamgate.security.yaml.StrictYaml.checkNotWritableByOthers(p);
      }
    }
    TlsSettings tls = tlsSettings(cfg, provider);
    SslContext ssl = TlsContexts.server(tls);
    X509TrustManager validator = TlsContexts.clientValidator(tls);
    return new GatewayState(policy, loaded.warnings(), ssl, tls, validator, stamps, generation);
  }

  static TlsSettings tlsSettings(GatewayConfig cfg, TlsSettings.Provider provider) {
    GatewayConfig.Tls t = cfg.tls();
    TlsSettings s = TlsSettings.of(t.certificate(), t.key(), t.clientCas())
        .withTls12(t.allowTls12())
        .withHandshakeTimeout(java.time.Duration.ofMillis(t.handshakeTimeoutMillis()))
        .withProvider(provider)
        .withChainCache(t.chainCache());
    return t.crl() == null ? s : s.withCrl(t.crl());
  }

  /** The files a reload reads, each with a digest of its content (absent: "missing"). */
  static Map<Path, String> stamps(GatewayConfig cfg) {
    List<Path> files = new ArrayList<>(List.of(cfg.policy(), cfg.tls().certificate(),
        cfg.tls().key(), cfg.tls().clientCas()));
    if (cfg.tls().crl() != null) {
      files.add(cfg.tls().crl());
    }
    Map<Path, String> out = new LinkedHashMap<>();
    for (Path p : files) {
      out.put(p, digest(p));
    }
    return out;
  }

  private static String digest(Path p) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256")
          .digest(Files.readAllBytes(p)));
    } catch (IOException e) {
      return "missing: " + e.getMessage();
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
