package io.beamgate.security.identity;

import java.net.URI;
import java.net.URISyntaxException;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * A rule naming principals, as a policy writes it: {@code uri:spiffe://example.org/app},
 * {@code dns:client.example.org}, {@code cn:legacy-client}, or {@code sha256:<fingerprint>}.
 * A value ending in {@code *} is an explicit prefix pattern ({@code uri:spiffe://example.org/*});
 * anything else matches exactly. A rule matches the principal's one name, and only a name of
 * its own kind: a {@code uri:} rule a URI principal, a {@code dns:} rule a DNS one, a {@code cn:}
 * rule a certificate whose identity is its CN (it has no SAN); a {@code sha256:} rule matches
 * the certificate's fingerprint whatever its name. Values no certificate can carry (a
 * fingerprint that is not 64 hex digits, a URI that is not absolute, a DNS name that is not a
 * hostname) are refused when the rule is read.
 */
public record PrincipalMatcher(Type type, String value, boolean prefix) {
  public enum Type {
    URI, DNS, CN, SHA256
  }

  private static final Pattern SCHEME = Pattern.compile("[A-Za-z][A-Za-z0-9+.-]*");
  private static final Pattern LABEL = Pattern.compile("[A-Za-z0-9]([A-Za-z0-9-]{0,61}"
      + "[A-Za-z0-9])?");
  private static final Pattern PARTIAL_LABEL = Pattern.compile("([A-Za-z0-9][A-Za-z0-9-]{0,62})?");

  public static PrincipalMatcher parse(String rule) {
    int colon = rule.indexOf(':');
    if (colon <= 0) {
      throw new IllegalArgumentException("principal rule '" + rule
          + "' (expected: uri:..., dns:..., cn:... or sha256:...)");
    }
    Type type;
    try {
      type = Type.valueOf(rule.substring(0, colon).toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("principal rule '" + rule + "': unknown kind '"
          + rule.substring(0, colon) + "' (expected: uri, dns, cn or sha256)");
    }
    String v = rule.substring(colon + 1);
    boolean prefix = v.endsWith("*");
    if (prefix) {
      v = v.substring(0, v.length() - 1);
      if (type == Type.SHA256) {
        throw new IllegalArgumentException("principal rule '" + rule
            + "': a fingerprint matches exactly, never by prefix");
      }
    }
    if (v.isEmpty() || v.indexOf('*') >= 0) {
      throw new IllegalArgumentException("principal rule '" + rule
          + "': '*' is allowed only once, at the end, after a non-empty prefix");
    }
    try {
      Principal.checked(type.name(), type == Type.CN ? v.replace(' ', '_') : v);
    } catch (IdentityException e) {
      throw new IllegalArgumentException("principal rule '" + rule + "': " + e.getMessage()
          + (v.indexOf(' ') >= 0 ? " (a space cannot appear in a URI or DNS name)" : ""));
    }
    String problem = switch (type) {
      case SHA256 -> fingerprintProblem(v);
      case URI -> uriProblem(v, prefix);
      case DNS -> hostnameProblem(v, prefix);
      case CN -> null;
    };
    if (problem != null) {
      throw new IllegalArgumentException("principal rule '" + rule + "': " + problem);
    }
    if (type == Type.SHA256) {
      v = v.toLowerCase(Locale.ROOT).replace(":", "");
    } else if (type == Type.DNS) {
      v = v.toLowerCase(Locale.ROOT); // DNS names are case-blind
    }
    return new PrincipalMatcher(type, v, prefix);
  }

  private static String fingerprintProblem(String v) {
    String hex = v.replace(":", "");
    for (int i = 0; i < hex.length(); i++) {
      if (Character.digit(hex.charAt(i), 16) < 0) {
        return "'" + hex.charAt(i) + "' is not a hex digit (expected: the SHA-256 of the"
            + " certificate, 64 hex digits, colons allowed)";
      }
    }
    if (hex.length() != 64) {
      return hex.length() + " hex digits (expected: 64, the SHA-256 of the certificate;"
          + " colons allowed)";
    }
    return null;
  }

  private static String uriProblem(String v, boolean prefix) {
    int colon = v.indexOf(':');
    String scheme = colon < 0 ? v : v.substring(0, colon);
    if (!SCHEME.matcher(scheme).matches() || colon < 0 && !prefix) {
      return "not an absolute URI (expected: scheme:..., e.g. spiffe://example.org/app)";
    }
    try {
      // A prefix must be the start of a URI: complete it with one character to parse it.
      URI u = new URI(prefix ? v + "a" : v);
      if (!prefix && !u.isAbsolute()) {
        return "not an absolute URI (expected: scheme:..., e.g. spiffe://example.org/app)";
      }
    } catch (URISyntaxException e) {
      return "not " + (prefix ? "the start of " : "") + "a URI: " + e.getReason() + " at "
          + e.getIndex() + " (expected: e.g. spiffe://example.org/app)";
    }
    return null;
  }

  private static String hostnameProblem(String v, boolean prefix) {
    if (v.length() > 253) {
      return v.length() + " characters (expected: a hostname, at most 253)";
    }
    String[] labels = v.split("\\.", -1);
    for (int i = 0; i < labels.length; i++) {
      boolean last = i == labels.length - 1;
      Pattern p = prefix && last ? PARTIAL_LABEL : LABEL;
      if (!p.matcher(labels[i]).matches()) {
        return "'" + labels[i] + "' is not a DNS label (expected: a hostname, labels of"
            + " letters, digits and inner '-', 1 to 63 characters, separated by '.')";
      }
    }
    return null;
  }

  public boolean matches(Principal p) {
    return switch (type) {
      case URI -> p.kind() == Principal.Kind.URI && test(p.name());
      case DNS -> p.kind() == Principal.Kind.DNS && test(p.name().toLowerCase(Locale.ROOT));
      case CN -> p.kind() == Principal.Kind.CN && test(p.name());
      case SHA256 -> p.fingerprintSha256().equals(value);
    };
  }

  private boolean test(String s) {
    return prefix ? s.startsWith(value) : s.equals(value);
  }

  /**
   * Why this rule names far more principals than it seems to, for a warning; null when it
   * does not. Prefixes that stop at a scheme, inside an authority or at a trust domain's root,
   * and DNS prefixes of less than two whole labels.
   */
  public String breadth() {
    if (!prefix) {
      return null;
    }
    if (type == Type.URI) {
      int colon = value.indexOf(':');
      if (colon < 0) {
        return "matches every URI whose scheme starts with '" + value + "'";
      }
      String scheme = value.substring(0, colon);
      String rest = value.substring(colon + 1);
      if (rest.isEmpty() || rest.equals("/") || rest.equals("//")) {
        return "matches every " + scheme + ": URI, of any trust domain or host";
      }
      if (rest.startsWith("//")) {
        int slash = rest.indexOf('/', 2);
        String authority = slash < 0 ? rest.substring(2) : rest.substring(2, slash);
        if (slash < 0) {
          return "ends inside the authority '" + authority + "': it also matches "
              + scheme + "://" + authority + ".other.example/..., another trust domain or"
              + " host; end the prefix with '/'";
        }
        if (slash == rest.length() - 1) {
          return "matches every workload of " + scheme + "://" + authority + " (the trust"
              + " domain's root)";
        }
      }
      return null;
    }
    if (type == Type.DNS) {
      int dots = (int) value.chars().filter(c -> c == '.').count();
      if (dots < 2) {
        return "matches every DNS name starting with '" + value + "', in any domain the CA"
            + " certifies (a DNS prefix matches leading characters, not a domain)";
      }
    }
    return null;
  }

  @Override
  public String toString() {
    return type.name().toLowerCase(Locale.ROOT) + ":" + value + (prefix ? "*" : "");
  }
}
