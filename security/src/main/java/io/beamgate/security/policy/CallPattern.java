package io.beamgate.security.policy;

/**
 * A call a rule allows: {@code module:function/arity}, {@code module:function} (any arity) or
 * {@code module:*} (every function of the module, written out as an explicit choice).
 *
 * <p>A name is written plain (letters, digits, {@code _ @ .}) or quoted as in Erlang source,
 * {@code erlang:'!'/2} or {@code 'Elixir.Task':async/1}: operators such as {@code '!'} and
 * {@code '=='} are functions too, and a table that cannot name them cannot classify them. A
 * quoted name holds printable ASCII other than {@code '} and {@code \} (no escapes: no module
 * or function an admin would allow needs them). Quoting changes nothing else: {@code 'kv':get}
 * and {@code kv:get} are the same pattern. The function {@code '*'} (multiplication) cannot be
 * named in a policy: it would read as the wildcard.
 */
public record CallPattern(String module, String function, int arity) {
  public static final int ANY_ARITY = -1;
  public static final String ANY_FUNCTION = "*";
  private static final int MAX_NAME = 255;

  public static CallPattern parse(String s) {
    return parse(s, false);
  }

  /**
   * Parses a pattern; with {@code literalStar}, {@code m:'*'/2} names the function {@code *}
   * (for the capability table, which lists every export by name); without it that is refused,
   * as a policy pattern that would read as the wildcard.
   */
  static CallPattern parse(String s, boolean literalStar) {
    Cursor c = new Cursor(s);
    String module = c.name();
    if (!c.take(':')) {
      throw new IllegalArgumentException("'" + s + "' (expected: module:function/arity,"
          + " module:function or module:*)");
    }
    boolean wildcard = !c.atQuote() && c.peek() == '*';
    String function;
    if (wildcard) {
      c.take('*');
      function = ANY_FUNCTION;
    } else {
      function = c.name();
    }
    int arity = ANY_ARITY;
    if (c.take('/')) {
      if (wildcard) {
        throw new IllegalArgumentException("'" + s + "': module:* takes no arity");
      }
      String digits = c.rest();
      if (digits.isEmpty() || !digits.chars().allMatch(Character::isDigit)
          || digits.length() > 3) {
        throw new IllegalArgumentException("'" + s + "': arity '" + digits
            + "' is not a number (expected: 0..255)");
      }
      arity = Integer.parseInt(digits);
      if (arity > 255) {
        throw new IllegalArgumentException("'" + s + "': arity " + arity
            + " (expected: 0..255)");
      }
    }
    if (!c.done()) {
      throw new IllegalArgumentException("'" + s + "': unexpected '" + c.rest()
          + "' (expected: module:function/arity, module:function or module:*;"
          + " quote operator names: erlang:'!'/2)");
    }
    if (!wildcard && function.equals(ANY_FUNCTION) && !literalStar) {
      throw new IllegalArgumentException("'" + s + "': the function '*' cannot be named in a"
          + " policy (expected: module:* for every function, or another function)");
    }
    return new CallPattern(module, function, arity);
  }

  /** Reads plain or quoted names off a pattern, left to right. */
  private static final class Cursor {
    private final String s;
    private int i;

    Cursor(String s) {
      this.s = s;
    }

    char peek() {
      return i < s.length() ? s.charAt(i) : '\0';
    }

    boolean atQuote() {
      return peek() == '\'';
    }

    boolean take(char c) {
      if (peek() == c && i < s.length()) {
        i++;
        return true;
      }
      return false;
    }

    boolean done() {
      return i == s.length();
    }

    String rest() {
      String r = s.substring(i);
      i = s.length();
      return r;
    }

    String name() {
      int start = i;
      String name;
      if (atQuote()) {
        int end = s.indexOf('\'', i + 1);
        if (end < 0) {
          throw new IllegalArgumentException("'" + s + "': unterminated quote"
              + " (expected: a name in quotes, like erlang:'!'/2)");
        }
        name = s.substring(i + 1, end);
        i = end + 1;
        for (int k = 0; k < name.length(); k++) {
          char c = name.charAt(k);
          if (c < 0x21 || c > 0x7e || c == '\\') {
            throw new IllegalArgumentException("'" + s + "': character "
                + String.format("U+%04X", (int) c) + " is not allowed in a quoted name"
                + " (expected: printable ASCII, no backslash)");
          }
        }
      } else {
        while (i < s.length() && plain(s.charAt(i))) {
          i++;
        }
        name = s.substring(start, i);
        if (i < s.length() && s.charAt(i) != ':' && s.charAt(i) != '/') {
          throw new IllegalArgumentException("'" + s + "': character '" + s.charAt(i)
              + "' is not allowed in a module or function name (quote the name, like"
              + " erlang:'!'/2, if it is an operator)");
        }
      }
      if (name.isEmpty() || name.length() > MAX_NAME) {
        throw new IllegalArgumentException("'" + s + "': empty or over-long name"
            + " (expected: 1.." + MAX_NAME + " characters)");
      }
      return name;
    }
  }

  private static boolean plain(char c) {
    return c < 0x80 && Character.isLetterOrDigit(c) || c == '_' || c == '@' || c == '.';
  }

  /** A name as it must be written in a pattern: plain when it can be, else quoted. */
  static String quote(String name) {
    for (int i = 0; i < name.length(); i++) {
      if (!plain(name.charAt(i))) {
        return "'" + name + "'";
      }
    }
    return name;
  }

  /** Names one function exactly (module, function and arity): what unsafe entries must be. */
  public boolean isExact() {
    return arity != ANY_ARITY;
  }

  /** {@code module:*}: every function of the module (with an arity, {@code *} is a name). */
  public boolean isModuleWildcard() {
    return function.equals(ANY_FUNCTION) && arity == ANY_ARITY;
  }

  public boolean matches(String m, String f, int a) {
    return module.equals(m) && (isModuleWildcard() || function.equals(f))
        && (arity == ANY_ARITY || arity == a);
  }

  @Override
  public String toString() {
    String f = isModuleWildcard() ? ANY_FUNCTION : quote(function);
    return quote(module) + ":" + f + (arity == ANY_ARITY ? "" : "/" + arity);
  }
}
