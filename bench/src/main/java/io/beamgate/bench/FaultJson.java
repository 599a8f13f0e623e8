package io.beamgate.bench;

/**
 * Whether one audit line is one whole JSON object (RFC 8259 grammar, nothing after it): the
 * fault run's check that no record is torn or glued to the next. A validator only; it builds
 * nothing.
 */
final class FaultJson {
  private final String s;
  private int i;

  private FaultJson(String s) {
    this.s = s;
  }

  static boolean isObject(String line) {
    FaultJson p = new FaultJson(line);
    try {
      p.ws();
      if (p.i >= line.length() || line.charAt(p.i) != '{') {
        return false;
      }
      p.value();
      p.ws();
      return p.i == line.length();
    } catch (RuntimeException e) {
      return false;
    }
  }

  private void value() {
    ws();
    char c = s.charAt(i);
    switch (c) {
      case '{' -> container('}', true);
      case '[' -> container(']', false);
      case '"' -> string();
      case 't' -> literal("true");
      case 'f' -> literal("false");
      case 'n' -> literal("null");
      default -> number();
    }
    ws();
  }

  private void container(char close, boolean object) {
    i++;
    ws();
    if (s.charAt(i) == close) {
      i++;
      return;
    }
    while (true) {
      ws();
      if (object) {
        string();
        ws();
        expect(':');
      }
      value();
      char c = s.charAt(i++);
      if (c == close) {
        return;
      }
      if (c != ',') {
        throw new IllegalArgumentException("at " + i);
      }
    }
  }

  private void string() {
    expect('"');
    while (true) {
      char c = s.charAt(i++);
      if (c == '"') {
        return;
      }
      if (c < 0x20) {
        throw new IllegalArgumentException("control character");
      }
      if (c == '\\') {
        char e = s.charAt(i++);
        if (e == 'u') {
          Integer.parseInt(s.substring(i, i + 4), 16);
          i += 4;
        } else if ("\"\\/bfnrt".indexOf(e) < 0) {
          throw new IllegalArgumentException("escape");
        }
      }
    }
  }

  private void number() {
    int start = i;
    while (i < s.length() && "+-0123456789.eE".indexOf(s.charAt(i)) >= 0) {
      i++;
    }
    Double.parseDouble(s.substring(start, i));
  }

  private void literal(String w) {
    if (!s.startsWith(w, i)) {
      throw new IllegalArgumentException("literal");
    }
    i += w.length();
  }

  private void expect(char c) {
    if (s.charAt(i++) != c) {
      throw new IllegalArgumentException("expected " + c);
    }
  }

  private void ws() {
    while (i < s.length() && " \t\r\n".indexOf(s.charAt(i)) >= 0) {
      i++;
    }
  }
}
