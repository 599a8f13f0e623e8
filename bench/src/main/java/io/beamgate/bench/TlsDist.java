package io.beamgate.bench;

import io.beamgate.bench.BenchPki.CertFiles;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * OTP's TLS distribution, the anchor the gateway is measured against: erl nodes started with
 * {@code -proto_dist inet_tls -ssl_dist_optfile FILE}, TLS 1.3 only, {@code verify_peer} and
 * {@code fail_if_no_peer_cert} on both the server and the client side, with the run's
 * {@link BenchPki} certificates. {@link #checks} shows that TLS is really what connects them.
 */
final class TlsDist {
  private TlsDist() {}

  /** What one node may offer as a TLS client, for the refusal checks. */
  enum ClientKind { VALID, NO_CERTIFICATE, OTHER_CA, TLS12_ONLY }

  /** Writes an optfile: the server side always as configured, the client side as {@code kind}. */
  static Path optfile(Path file, BenchPki pki, ClientKind kind) throws IOException {
    String common = "{verify, verify_peer}, {fail_if_no_peer_cert, true}";
    String server = "{server, [" + certOpts(pki.server()) + ", " + common
        + ", {versions, ['tlsv1.3']}]}";
    String client = switch (kind) {
      case VALID -> certOpts(pki.client()) + ", " + common + ", {versions, ['tlsv1.3']}";
      case NO_CERTIFICATE -> "{cacertfile, " + str(pki.caFile()) + "}, " + common
          + ", {versions, ['tlsv1.3']}";
      case OTHER_CA -> certOpts(pki.otherClient()) + ", " + common + ", {versions, ['tlsv1.3']}";
      case TLS12_ONLY -> certOpts(pki.client()) + ", " + common + ", {versions, ['tlsv1.2']}";
    };
    Files.writeString(file, "[" + server + ",\n {client, [" + client + "]}].\n");
    return file;
  }

  /** The erl arguments that make a node use TLS distribution with {@code optfile}. */
  static List<String> erlArgs(Path optfile) {
    return List.of("-proto_dist", "inet_tls", "-ssl_dist_optfile", optfile.toString());
  }

  private static String certOpts(CertFiles f) {
    return "{certfile, " + str(f.cert()) + "}, {keyfile, " + str(f.key()) + "}, {cacertfile, "
        + str(f.ca()) + "}";
  }

  private static String str(Path p) {
    return "\"" + p.toAbsolutePath().toString().replace("\\", "\\\\").replace("\"", "\\\"")
        + "\"";
  }

  /** One connection attempt to the TLS server node and what came of it. */
  record Check(String client, String expected, String got) {
    boolean ok() {
      return expected.equals(got);
    }
  }

  /**
   * Pings the TLS distribution server from five erl nodes at once: one configured like the
   * benchmark's clients (must answer {@code pong} over protocol {@code tls}), and four that must
   * be refused: plain TCP distribution, TLS without a client certificate, a client certificate
   * of another CA, and TLS 1.2 only. Throws when any check fails, so no run can report TLS
   * figures from a connection that was not mutual TLS 1.3.
   */
  static List<Check> checks(int epmdPort, Path dir, BenchPki pki, String server, String prefix)
      throws Exception {
    record Attempt(String label, String expected, Process p) {}
    List<Attempt> attempts = new ArrayList<>();
    try {
      String eval = "R = net_adm:ping(list_to_atom(\"" + server + "\")),"
          + " P = case net_kernel:node_info(list_to_atom(\"" + server + "\"), address) of"
          + " {ok, A} -> element(4, A); _ -> none end,"
          + " io:format(\"CHECK ~w ~w~n\", [R, P]), halt().";
      int i = 0;
      for (ClientKind kind : ClientKind.values()) {
        Path opt = optfile(dir.resolve("check-" + kind.name().toLowerCase() + ".conf"), pki,
            kind);
        List<String> args = new ArrayList<>(erlArgs(opt));
        args.addAll(List.of("-sname", prefix + i++, "-noshell", "-eval", eval));
        attempts.add(new Attempt(label(kind), kind == ClientKind.VALID ? "pong tls" : "pang",
            Harness.erl(epmdPort, dir, args.toArray(String[]::new))));
      }
      attempts.add(new Attempt("plain TCP distribution (no -proto_dist)", "pang",
          Harness.erl(epmdPort, dir, "-sname", prefix + i, "-noshell", "-eval", eval)));
      List<Check> out = new ArrayList<>();
      for (Attempt a : attempts) {
        String text;
        try (InputStream in = a.p().getInputStream()) {
          text = new String(in.readAllBytes());
        }
        a.p().waitFor(30, TimeUnit.SECONDS);
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("CHECK (\\w+) (\\w+)")
            .matcher(text);
        String got = !m.find() ? "no answer: " + text.strip()
            : m.group(1).equals("pong") ? "pong " + m.group(2) : m.group(1);
        out.add(new Check(a.label(), a.expected(), got));
      }
      for (Check c : out) {
        if (!c.ok()) {
          throw new IllegalStateException("TLS distribution check failed: " + c);
        }
      }
      return out;
    } finally {
      for (Attempt a : attempts) {
        Harness.kill(a.p());
      }
    }
  }

  private static String label(ClientKind kind) {
    return switch (kind) {
      case VALID -> "TLS 1.3, client certificate of the bench CA (as the benchmark's clients)";
      case NO_CERTIFICATE -> "TLS 1.3, no client certificate";
      case OTHER_CA -> "TLS 1.3, client certificate of another CA";
      case TLS12_ONLY -> "TLS 1.2 only, client certificate of the bench CA";
    };
  }
}
