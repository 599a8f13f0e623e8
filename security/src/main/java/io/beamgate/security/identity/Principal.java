package io.beamgate.security.identity;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.cert.CertificateEncodingException;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HexFormat;
import java.util.List;
import java.util.Objects;
import org.bouncycastle.asn1.ASN1String;
import org.bouncycastle.asn1.x500.RDN;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x500.style.BCStyle;

/**
 * Who a verified client certificate is: ONE name, the one it is allowed, rate-limited and
 * audited as. The name is the URI SAN (a SPIFFE ID, say), else the first DNS SAN, else the
 * subject CN; rules match that name only ({@link PrincipalMatcher}), so a certificate never
 * gets the rights of a second name it also carries. A certificate with more than one URI SAN
 * is refused: which one it means is ambiguous, and a SPIFFE X.509-SVID carries exactly one.
 * The SHA-256 fingerprint is kept for pinning. Names with NUL, control or non-ASCII characters
 * are refused anywhere in the certificate: look-alike characters must not impersonate anyone.
 */
public record Principal(String name, Kind kind, String fingerprintSha256, String serialHex) {

  /** Where the name came from: rules of one kind match principals of that kind only. */
  public enum Kind {
    URI, DNS, CN
  }

  public Principal {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(kind, "kind");
    Objects.requireNonNull(fingerprintSha256, "fingerprintSha256");
  }

  /** The principal of a certificate the TLS layer has already verified. */
  public static Principal of(X509Certificate cert) throws IdentityException {
    List<String> uris = new ArrayList<>();
    List<String> dns = new ArrayList<>();
    try {
      Collection<List<?>> sans = cert.getSubjectAlternativeNames();
      if (sans != null) {
        for (List<?> san : sans) {
          int type = (Integer) san.get(0);
          if (type == 6) {
            uris.add(checked("URI SAN", (String) san.get(1)));
          } else if (type == 2) {
            dns.add(checked("DNS SAN", (String) san.get(1)));
          }
        }
      }
    } catch (CertificateParsingException e) {
      throw new IdentityException("unreadable subject alternative names: " + e.getMessage());
    }
    String cn = commonName(cert);
    if (uris.size() > 1) {
      throw new IdentityException("the certificate has " + uris.size() + " URI SANs "
          + uris + " (expected: exactly one, as a SPIFFE X.509-SVID has; a gateway takes one"
          + " identity per certificate): issue it with one URI SAN");
    }
    String name;
    Kind kind;
    if (!uris.isEmpty()) {
      name = uris.get(0);
      kind = Kind.URI;
    } else if (!dns.isEmpty()) {
      name = dns.get(0);
      kind = Kind.DNS;
    } else if (cn != null) {
      name = cn;
      kind = Kind.CN;
    } else {
      throw new IdentityException("the certificate names nobody: no URI or DNS SAN and no CN");
    }
    return new Principal(name, kind, fingerprint(cert), cert.getSerialNumber().toString(16));
  }

  /**
   * The subject's CN as the raw string the certificate holds (not the RFC 2253 form, which
   * hex-encodes unusual characters and would hide a NUL from the check).
   */
  private static String commonName(X509Certificate cert) throws IdentityException {
    X500Name subject;
    try {
      subject = X500Name.getInstance(cert.getSubjectX500Principal().getEncoded());
    } catch (IllegalArgumentException e) {
      throw new IdentityException("unreadable subject: " + e.getMessage());
    }
    RDN[] cns = subject.getRDNs(BCStyle.CN);
    if (cns.length == 0) {
      return null;
    }
    if (cns.length > 1 || cns[0].isMultiValued()) {
      throw new IdentityException("the subject has more than one CN");
    }
    if (!(cns[0].getFirst().getValue() instanceof ASN1String str)) {
      throw new IdentityException("the subject's CN is not a string");
    }
    return checked("CN", str.getString());
  }

  /** Printable ASCII only (0x21..0x7E, and spaces inside a CN). */
  static String checked(String what, String value) throws IdentityException {
    if (value.isEmpty()) {
      throw new IdentityException(what + " is empty");
    }
    for (int i = 0; i < value.length(); i++) {
      char c = value.charAt(i);
      boolean ok = c > 0x20 && c < 0x7F || (c == ' ' && what.equals("CN"));
      if (!ok) {
        throw new IdentityException(what + " has a " + (c == 0 ? "NUL" : c < 0x20 || c == 0x7F
            ? "control" : "non-ASCII") + " character (U+" + String.format("%04X", (int) c)
            + ") at " + i + ": refused");
      }
    }
    return value;
  }

  /** The certificate's SHA-256 fingerprint, in lower-case hex. */
  public static String fingerprint(X509Certificate cert) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256")
          .digest(cert.getEncoded()));
    } catch (NoSuchAlgorithmException | CertificateEncodingException e) {
      throw new IllegalStateException(e);
    }
  }
}
