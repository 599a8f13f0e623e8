package io.beamgate.security.audit;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A strict reader of one audit line: a flat JSON object of strings and integers (RFC 8259
 * syntax), as {@link AuditJson} writes. Anything else, a fragment or two records glued
 * together included, is an IllegalArgumentException.
 */
final class JsonLine {
  private final String s;
  private int i;

  private JsonLine(String s) {
    this.s = s;
  }

  static Map<String, Object> parse(String line) {
    JsonLine p = new JsonLine(line);
    Map<String, Object> m = p.object();
    if (p.i != line.length()) {
      throw p.fail("text after the object");
    }
    return m;
  }

  private Map<String, Object> object() {
    expect('{');
    Map<String, Object> m = new LinkedHashMap<>();
    if (peek() == '}') {
      i++;
      return m;
    }
    while (true) {
      String key = string();
      expect(':');
      Object v = peek() == '"' ? string() : number();
      if (m.put(key, v) != null) {
        throw fail("duplicate key " + key);
      }
      char c = next();
      if (c == '}') {
        return m;
      }
      if (c != ',') {
        throw fail("expected , or }");
      }
    }
  }

  private String string() {
    expect('"');
    StringBuilder sb = new StringBuilder();
    while (true) {
      char c = next();
      if (c == '"') {
        return sb.toString();
      }
      if (c < 0x20) {
        throw fail("control character in a string");
      }
      if (c != '\\') {
        sb.append(c);
        continue;
      }
      char e = next();
      switch (e) {
        case '"', '\\', '/' -> sb.append(e);
        case 'n' -> sb.append('\n');
        case 'r' -> sb.append('\r');
        case 't' -> sb.append('\t');
        case 'b' -> sb.append('\b');
        case 'f' -> sb.append('\f');
        case 'u' -> {
          if (i + 4 > s.length()) {
            throw fail("short \\u escape");
          }
          sb.append((char) Integer.parseInt(s.substring(i, i + 4), 16));
          i += 4;
        }
        default -> throw fail("bad escape \\" + e);
      }
    }
  }

  private Long number() {
    int start = i;
    if (peek() == '-') {
      i++;
    }
    while (i < s.length() && Character.isDigit(s.charAt(i))) {
      i++;
    }
    if (i == start || (i == start + 1 && s.charAt(start) == '-')) {
      throw fail("expected a string or a number");
    }
    return Long.parseLong(s.substring(start, i));
  }

  private void expect(char c) {
    if (next() != c) {
      throw fail("expected " + c);
    }
  }

  private char peek() {
    if (i >= s.length()) {
      throw fail("unexpected end");
    }
    return s.charAt(i);
  }

  private char next() {
    char c = peek();
    i++;
    return c;
  }

  private IllegalArgumentException fail(String why) {
    return new IllegalArgumentException(why + " at " + i + " in: " + s);
  }
}
