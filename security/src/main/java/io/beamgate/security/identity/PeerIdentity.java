package io.beamgate.security.identity;

import java.security.cert.X509Certificate;
import java.util.Objects;

/**
 * Who is on the other end of one TLS connection, computed once when the handshake completes:
 * the certificate's {@link Principal} (name, fingerprint, serial), the chain it presented (for
 * reloads that check open connections again) and the remote socket address the connection
 * came from. It travels with the connection; audit records are built from it. A class, not a
 * record, because it holds an array it must not hand out.
 */
public final class PeerIdentity {
  private final Principal principal;
  private final X509Certificate[] chain;
  private final String address;

  public PeerIdentity(Principal principal, X509Certificate[] chain, String address) {
    this.principal = Objects.requireNonNull(principal, "principal");
    this.chain = chain.clone();
    this.address = address;
  }

  /**
   * The identity of the peer that presented {@code chain} (leaf first) from {@code address}.
   *
   * @throws IdentityException when the chain is empty or its leaf proves no usable identity
   */
  public static PeerIdentity of(X509Certificate[] chain, String address)
      throws IdentityException {
    if (chain == null || chain.length == 0) {
      throw new IdentityException("no client certificate (expected: a chain, leaf first)");
    }
    return new PeerIdentity(Principal.of(chain[0]), chain, address);
  }

  /** A socket address as audit records and logs show it: {@code host:port}, no slash. */
  public static String address(Object socketAddress) {
    String s = String.valueOf(socketAddress);
    return s.startsWith("/") ? s.substring(1) : s;
  }

  /** The identity the leaf certificate proves. */
  public Principal principal() {
    return principal;
  }

  /** The principal's name (what rules name). */
  public String name() {
    return principal.name();
  }

  /** The chain the peer presented, leaf first (a copy). */
  public X509Certificate[] chain() {
    return chain.clone();
  }

  /** The remote socket address of the connection, {@code host:port}. */
  public String address() {
    return address;
  }

  @Override
  public String toString() {
    return principal.name() + " from " + address;
  }
}
