package io.beamgate.security.policy;

/**
 * A call a rule allows: {@code module:function/arity}, {@code module:function} (any arity) or
 * {@code module:*} (every function of the module, written out as an explicit choice).
 */
public record CallPattern(String module, String function, int arity) {
  public static final int ANY_ARITY = -1;
  public static final String ANY_FUNCTION = "*";

  public static CallPattern parse(String s) {
    int colon = s.indexOf(':');
    if (colon <= 0 || colon == s.length() - 1) {
      throw new IllegalArgumentException("'" + s + "' (expected: module:function/arity,"
          + " module:function or module:*)");
    }
    String module = s.substring(0, colon);
    String rest = s.substring(colon + 1);
    int arity = ANY_ARITY;
    int slash = rest.indexOf('/');
    if (slash >= 0) {
      try {
        arity = Integer.parseInt(rest.substring(slash + 1));
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException("'" + s + "': arity is not a number");
      }
      if (arity < 0 || arity > 255) {
        throw new IllegalArgumentException("'" + s + "': arity " + arity
            + " (expected: 0..255)");
      }
      rest = rest.substring(0, slash);
    }
    checkName(s, module);
    if (!rest.equals(ANY_FUNCTION)) {
      checkName(s, rest);
    } else if (arity != ANY_ARITY) {
      throw new IllegalArgumentException("'" + s + "': module:* takes no arity");
    }
    return new CallPattern(module, rest, arity);
  }

  private static void checkName(String s, String name) {
    if (name.isEmpty() || name.length() > 255) {
      throw new IllegalArgumentException("'" + s + "': empty or over-long name");
    }
    for (int i = 0; i < name.length(); i++) {
      char c = name.charAt(i);
      if (!(Character.isLetterOrDigit(c) && c < 0x80 || c == '_' || c == '@' || c == '.')) {
        throw new IllegalArgumentException("'" + s + "': character '" + c
            + "' is not allowed in a module or function name");
      }
    }
  }

  /** Names one function exactly (module, function and arity): what unsafe entries must be. */
  public boolean isExact() {
    return !function.equals(ANY_FUNCTION) && arity != ANY_ARITY;
  }

  public boolean matches(String m, String f, int a) {
    return module.equals(m) && (function.equals(ANY_FUNCTION) || function.equals(f))
        && (arity == ANY_ARITY || arity == a);
  }

  @Override
  public String toString() {
    return module + ":" + function + (arity == ANY_ARITY ? "" : "/" + arity);
  }
}
