package io.beamgate.security.identity;

import java.util.Locale;

/**
 * A rule naming principals, as a policy writes it: {@code uri:spiffe://example.org/app},
 * {@code dns:client.example.org}, {@code cn:legacy-client}, or {@code sha256:<fingerprint>}.
 * A value ending in {@code *} is an explicit prefix pattern ({@code uri:spiffe://example.org/*});
 * anything else matches exactly. A CN never satisfies a URI or DNS rule.
 */
public record PrincipalMatcher(Type type, String value, boolean prefix) {
  public enum Type {
    URI, DNS, CN, SHA256
  }

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
      Principal.checked(type.name(), v.replace(' ', '_'));
    } catch (IdentityException e) {
      throw new IllegalArgumentException("principal rule '" + rule + "': " + e.getMessage());
    }
    if (type == Type.SHA256) {
      v = v.toLowerCase(Locale.ROOT).replace(":", "");
    }
    return new PrincipalMatcher(type, v, prefix);
  }

  public boolean matches(Principal p) {
    switch (type) {
      case URI:
        return p.uris().stream().anyMatch(this::test);
      case DNS:
        return p.dnsNames().stream().anyMatch(d -> test(d.toLowerCase(Locale.ROOT)));
      case CN:
        return p.commonName() != null && test(p.commonName());
      case SHA256:
        return p.fingerprintSha256().equals(value);
      default:
        return false;
    }
  }

  private boolean test(String s) {
    String v = type == Type.DNS ? value.toLowerCase(Locale.ROOT) : value;
    return prefix ? s.startsWith(v) : s.equals(v);
  }

  @Override
  public String toString() {
    return type.name().toLowerCase(Locale.ROOT) + ":" + value + (prefix ? "*" : "");
  }
}
