package io.beamgate.node.term;

import java.io.ByteArrayOutputStream;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Terms in Elixir's literal syntax, for people who think in Elixir: {@code "text"} is a
 * binary, {@code 'text'} and {@code ~c"text"} a charlist, {@code :atom} an atom,
 * {@code MyApp.KV} the module atom {@code 'Elixir.MyApp.KV'}, {@code true}, {@code false}
 * and {@code nil} atoms, {@code %{k => v, key: v}} a map, {@code [a: 1]} a keyword list,
 * {@code <<1, 2::size(3)>>} a bitstring. What {@link #format} prints, Elixir's
 * {@code Code.eval_string} reads back as the same term, and {@link #parse} reads what Elixir's
 * {@code inspect} prints (tested against a real elixir). Pids, references, ports and funs
 * have no literal syntax and are refused. No interpolation, no expressions: data only.
 */
public final class ElixirText {
  private static final Pattern ALIAS = Pattern.compile("[A-Z][A-Za-z0-9_]*(\\.[A-Z][A-Za-z0-9_]*)*");
  private static final Pattern PLAIN_ATOM = Pattern.compile("[a-z_][A-Za-z0-9_@]*[?!]?");
  private static final Pattern KEY = Pattern.compile("[a-z_][A-Za-z0-9_]*[?!]?");

  private ElixirText() {}

  // ---- printing --------------------------------------------------------------------------

  /** {@code t} in Elixir syntax. */
  public static String format(Term t) {
    StringBuilder sb = new StringBuilder();
    print(t, sb);
    return sb.toString();
  }

  private static void print(Term t, StringBuilder sb) {
    if (t instanceof Atom a) {
      atom(a.name(), sb);
    } else if (t instanceof Int i) {
      sb.append(i.value());
    } else if (t instanceof BigInt b) {
      sb.append(b.value());
    } else if (t instanceof ErlFloat f) {
      sb.append(TermText.formatFloat(f.value()));
    } else if (t instanceof Binary b) {
      byte[] bytes = b.unsafeArray();
      String s = printableUtf8(bytes);
      if (s != null) {
        string(s, '"', sb);
      } else {
        bytes(bytes, bytes.length, 0, sb);
      }
    } else if (t instanceof BitBinary b) {
      byte[] bytes = b.unsafeArray();
      bytes(bytes, bytes.length - 1, b.lastBits(), sb);
    } else if (t instanceof Tuple tu) {
      sb.append('{');
      for (int i = 0; i < tu.arity(); i++) {
        sb.append(i == 0 ? "" : ", ");
        print(tu.get(i), sb);
      }
      sb.append('}');
    } else if (t instanceof ErlList l && l.isProper() && isCharlist(l)) {
      StringBuilder text = new StringBuilder();
      for (Term c : l.elements()) {
        text.append((char) ((Int) c).value());
      }
      string(text.toString(), '\'', sb);
    } else if (t instanceof ErlList l) {
      sb.append('[');
      boolean keywords = l.isProper() && isKeywords(l);
      for (int i = 0; i < l.size(); i++) {
        sb.append(i == 0 ? "" : ", ");
        if (keywords) {
          Tuple kv = (Tuple) l.get(i);
          keywordKey(((Atom) kv.get(0)).name(), sb);
          print(kv.get(1), sb);
        } else {
          print(l.get(i), sb);
        }
      }
      if (!l.isProper()) {
        sb.append(" | ");
        print(l.tail(), sb);
      }
      sb.append(']');
    } else if (t instanceof ErlMap m) {
      sb.append("%{");
      boolean first = true;
      for (Map.Entry<Term, Term> e : m.entries().entrySet()) {
        sb.append(first ? "" : ", ");
        first = false;
        print(e.getKey(), sb);
        sb.append(" => ");
        print(e.getValue(), sb);
      }
      sb.append('}');
    } else {
      throw new IllegalArgumentException("no Elixir literal for " + TermText.format(t));
    }
  }

  /** A non-empty list of printable ASCII (and \n, \t), as Elixir prints charlists. */
  private static boolean isCharlist(ErlList l) {
    if (l.isEmpty()) {
      return false;
    }
    for (Term c : l.elements()) {
      if (!(c instanceof Int i) || !(i.value() >= 0x20 && i.value() < 0x7F
          || i.value() == '\n' || i.value() == '\t')) {
        return false;
      }
    }
    return true;
  }

  /** A non-empty list of {atom, value} pairs: a keyword list, printed {@code [a: 1]}. */
  private static boolean isKeywords(ErlList l) {
    if (l.isEmpty()) {
      return false;
    }
    for (Term e : l.elements()) {
      if (!(e instanceof Tuple t) || t.arity() != 2 || !(t.get(0) instanceof Atom)) {
        return false;
      }
    }
    return true;
  }

  /** {@code key: } or {@code "quoted key": }. */
  private static void keywordKey(String name, StringBuilder sb) {
    if (KEY.matcher(name).matches()) {
      sb.append(name);
    } else {
      string(name, '"', sb);
    }
    sb.append(": ");
  }

  private static void atom(String name, StringBuilder sb) {
    if (name.equals("true") || name.equals("false") || name.equals("nil")) {
      sb.append(name);
    } else if (name.startsWith("Elixir.") && ALIAS.matcher(name.substring(7)).matches()) {
      sb.append(name, 7, name.length());
    } else if (PLAIN_ATOM.matcher(name).matches()) {
      sb.append(':').append(name);
    } else {
      sb.append(':');
      string(name, '"', sb);
    }
  }

  /** {@code <<b1, b2, last::size(bits)>>}: {@code whole} full bytes, then {@code bits}. */
  private static void bytes(byte[] b, int whole, int bits, StringBuilder sb) {
    sb.append("<<");
    for (int i = 0; i < whole; i++) {
      sb.append(i == 0 ? "" : ", ").append(b[i] & 0xFF);
    }
    if (bits > 0) {
      int last = (b[whole] & 0xFF) >>> (8 - bits);
      sb.append(whole == 0 ? "" : ", ").append(last).append("::size(").append(bits).append(')');
    }
    sb.append(">>");
  }

  /** The text when {@code b} is UTF-8 that reads well as a string, else null. */
  private static String printableUtf8(byte[] b) {
    String s;
    try {
      s = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(b))
          .toString();
    } catch (CharacterCodingException e) {
      return null;
    }
    for (int i = 0; i < s.length(); ) {
      int c = s.codePointAt(i);
      if (Character.isISOControl(c) && c != '\n' && c != '\t' && c != '\r') {
        return null;
      }
      i += Character.charCount(c);
    }
    return s;
  }

  private static void string(String s, char quote, StringBuilder sb) {
    sb.append(quote);
    for (int i = 0; i < s.length(); ) {
      int c = s.codePointAt(i);
      i += Character.charCount(c);
      if (c == quote || c == '\\') {
        sb.append('\\').append((char) c);
      } else if (c == '#' && i < s.length() && s.charAt(i) == '{') {
        sb.append("\\#"); // not an interpolation
      } else if (c == '\n') {
        sb.append("\\n");
      } else if (c == '\t') {
        sb.append("\\t");
      } else if (c == '\r') {
        sb.append("\\r");
      } else if (c < 0x20 || c == 0x7F || (c >= 0x80 && c < 0xA0)) {
        sb.append("\\u{").append(Integer.toHexString(c)).append('}');
      } else {
        sb.appendCodePoint(c);
      }
    }
    sb.append(quote);
  }

  // ---- reading ---------------------------------------------------------------------------

  /** Reads one term in Elixir syntax; throws TermSyntaxException with the offset. */
  public static Term parse(String text) {
    return parse(text, TermText.DEFAULT_MAX_DEPTH);
  }

  public static Term parse(String text, int maxDepth) {
    Reader r = new Reader(text, maxDepth);
    r.skip();
    Term t = r.term(0);
    r.skip();
    if (r.pos < text.length()) {
      throw r.error("unexpected text after the term");
    }
    return t;
  }

  /**
   * An Elixir module name as the atom the node knows: {@code MyApp.KV} is
   * {@code 'Elixir.MyApp.KV'}, {@code :lists} and {@code lists} are {@code lists}.
   */
  public static String moduleName(String s) {
    if (ALIAS.matcher(s).matches()) {
      return "Elixir." + s;
    }
    return s.startsWith(":") ? ((Atom) parse(s)).name() : s;
  }

  /** True when {@code s} is written as an Elixir alias ({@code MyApp.KV}). */
  public static boolean isAlias(String s) {
    return ALIAS.matcher(s).matches();
  }

  private static final class Reader {
    final String s;
    final int maxDepth;
    int pos;

    Reader(String s, int maxDepth) {
      this.s = s;
      this.maxDepth = maxDepth;
    }

    TermSyntaxException error(String why) {
      return new TermSyntaxException(why, pos);
    }

    void skip() {
      while (pos < s.length() && Character.isWhitespace(s.charAt(pos))) {
        pos++;
      }
    }

    boolean eat(String tok) {
      skip();
      if (s.startsWith(tok, pos)) {
        pos += tok.length();
        return true;
      }
      return false;
    }

    void expect(String tok) {
      if (!eat(tok)) {
        throw error("expected '" + tok + "'");
      }
    }

    Term term(int depth) {
      if (depth > maxDepth) {
        throw error("nesting deeper than " + maxDepth);
      }
      skip();
      if (pos >= s.length()) {
        throw error("a term was expected");
      }
      char c = s.charAt(pos);
      if (c == '[') {
        pos++;
        return list(depth);
      }
      if (c == '{') {
        pos++;
        List<Term> els = new ArrayList<>();
        if (!eat("}")) {
          do {
            els.add(term(depth + 1));
          } while (eat(","));
          expect("}");
        }
        return new Tuple(els);
      }
      if (s.startsWith("%{", pos)) {
        pos += 2;
        return map(depth);
      }
      if (s.startsWith("<<", pos)) {
        pos += 2;
        return bitstring();
      }
      if (c == '"') {
        return Binary.of(quoted('"').getBytes(StandardCharsets.UTF_8));
      }
      if (c == '\'') {
        return charlist(quoted('\''));
      }
      if (s.startsWith("~c\"", pos) || s.startsWith("~c'", pos)) {
        pos += 2;
        return charlist(quoted(s.charAt(pos)));
      }
      if (c == ':') {
        pos++;
        if (pos < s.length() && s.charAt(pos) == '"') {
          return Atom.of(quoted('"'));
        }
        String id = identifier(true);
        if (id.isEmpty()) {
          throw error("an atom name was expected after ':'");
        }
        return Atom.of(id);
      }
      if (c == '-' || c == '+' || Character.isDigit(c)) {
        return number();
      }
      if (Character.isUpperCase(c)) {
        int start = pos;
        while (pos < s.length() && (Character.isLetterOrDigit(s.charAt(pos))
            || s.charAt(pos) == '_' || s.charAt(pos) == '.')) {
          pos++;
        }
        String alias = s.substring(start, pos);
        if (!ALIAS.matcher(alias).matches()) {
          throw error("'" + alias + "' is not a module alias");
        }
        return Atom.of("Elixir." + alias);
      }
      String id = identifier(false);
      if (id.equals("true") || id.equals("false") || id.equals("nil")) {
        return Atom.of(id);
      }
      throw error(id.isEmpty() ? "unexpected '" + c + "'" : "'" + id + "' is not a literal"
          + " (write :" + id + " for an atom)");
    }

    /** An identifier (letters, digits, _ and @, then ? or !); quoted forms are handled apart. */
    String identifier(boolean afterColon) {
      int start = pos;
      while (pos < s.length()) {
        char c = s.charAt(pos);
        if (Character.isLetterOrDigit(c) || c == '_' || c == '@') {
          pos++;
        } else {
          break;
        }
      }
      if (pos < s.length() && (s.charAt(pos) == '?' || s.charAt(pos) == '!')
          && pos > start) {
        pos++;
      }
      if (afterColon && pos < s.length() && s.charAt(pos) == '.' && pos > start) {
        // :"Elixir.X" is quoted; a dotted bare atom such as :a.b is not Elixir
        throw error("write a dotted atom quoted, :\"" + s.substring(start, pos) + ".\"...");
      }
      return s.substring(start, pos);
    }

    Term list(int depth) {
      List<Term> els = new ArrayList<>();
      Term tail = null;
      if (eat("]")) {
        return ErlList.NIL;
      }
      do {
        skip();
        Term key = keyword();
        if (key != null) {
          els.add(Tuple.of(key, term(depth + 1)));
          continue;
        }
        els.add(term(depth + 1));
        if (eat("|")) {
          tail = term(depth + 1);
          break;
        }
      } while (eat(","));
      expect("]");
      return tail == null ? ErlList.of(els) : ErlList.improper(els, tail);
    }

    /** {@code key: } or {@code "quoted key": } (a keyword's key), else null (nothing read). */
    Atom keyword() {
      int save = pos;
      String name;
      if (pos < s.length() && s.charAt(pos) == '"') {
        name = quoted('"');
      } else {
        name = identifier(false);
      }
      if (!name.isEmpty() || (save < s.length() && s.charAt(save) == '"')) {
        if (pos + 1 < s.length() && s.charAt(pos) == ':' && Character.isWhitespace(
            s.charAt(pos + 1))) {
          pos++;
          return Atom.of(name);
        }
      }
      pos = save;
      return null;
    }

    Term map(int depth) {
      Map<Term, Term> m = new LinkedHashMap<>();
      if (eat("}")) {
        return ErlMap.of(m);
      }
      do {
        skip();
        Term key = keyword();
        if (key == null) {
          key = term(depth + 1);
          expect("=>");
        }
        m.put(key, term(depth + 1));
      } while (eat(","));
      expect("}");
      return ErlMap.of(m);
    }

    Term bitstring() {
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      int bits = 0;
      int lastValue = 0;
      if (!eat(">>")) {
        do {
          if (bits != 0) {
            throw error("only the last segment of a bitstring may have a size");
          }
          skip();
          Term v = number();
          if (!(v instanceof Int i) || i.value() < 0 || i.value() > 255) {
            throw error("a bitstring segment is an integer 0..255");
          }
          if (eat("::size(")) {
            Term n = number();
            if (!(n instanceof Int ni) || ni.value() < 1 || ni.value() > 7) {
              throw error("size(N): N is 1..7 for the last segment");
            }
            expect(")");
            bits = (int) ni.value();
            lastValue = (int) i.value();
          } else {
            out.write((int) i.value());
          }
        } while (eat(","));
        expect(">>");
      }
      byte[] whole = out.toByteArray();
      if (bits == 0) {
        return Binary.of(whole);
      }
      byte[] all = java.util.Arrays.copyOf(whole, whole.length + 1);
      all[whole.length] = (byte) (lastValue << (8 - bits));
      return BitBinary.wrap(all, bits);
    }

    Term number() {
      skip();
      int start = pos;
      if (pos < s.length() && (s.charAt(pos) == '-' || s.charAt(pos) == '+')) {
        pos++;
      }
      int digits = pos;
      while (pos < s.length() && (Character.isDigit(s.charAt(pos)) || s.charAt(pos) == '_')) {
        pos++;
      }
      if (pos == digits) {
        throw error("a number was expected");
      }
      boolean isFloat = false;
      if (pos + 1 < s.length() && s.charAt(pos) == '.' && Character.isDigit(s.charAt(pos + 1))) {
        isFloat = true;
        pos++;
        while (pos < s.length() && (Character.isDigit(s.charAt(pos)) || s.charAt(pos) == '_')) {
          pos++;
        }
        if (pos < s.length() && (s.charAt(pos) == 'e' || s.charAt(pos) == 'E')) {
          pos++;
          if (pos < s.length() && (s.charAt(pos) == '-' || s.charAt(pos) == '+')) {
            pos++;
          }
          while (pos < s.length() && Character.isDigit(s.charAt(pos))) {
            pos++;
          }
        }
      }
      String text = s.substring(start, pos).replace("_", "");
      if (isFloat) {
        return Term.number(Double.parseDouble(text));
      }
      if (text.length() - (text.startsWith("-") || text.startsWith("+") ? 1 : 0)
          > TermText.MAX_INTEGER_DIGITS) {
        throw error("more than " + TermText.MAX_INTEGER_DIGITS + " digits");
      }
      return Term.integer(new BigInteger(text.startsWith("+") ? text.substring(1) : text));
    }

    Term charlist(String text) {
      List<Term> cs = new ArrayList<>();
      text.codePoints().forEach(c -> cs.add(Int.of(c)));
      return ErlList.of(cs);
    }

    /** A quoted text at pos (opening quote included), with Elixir's escapes. */
    String quoted(char quote) {
      if (pos >= s.length() || s.charAt(pos) != quote) {
        throw error("expected " + quote);
      }
      pos++;
      StringBuilder out = new StringBuilder();
      while (true) {
        if (pos >= s.length()) {
          throw error("unterminated text");
        }
        char c = s.charAt(pos++);
        if (c == quote) {
          return out.toString();
        }
        if (c == '#' && pos < s.length() && s.charAt(pos) == '{') {
          throw error("interpolation #{...} is not data");
        }
        if (c != '\\') {
          out.append(c);
          continue;
        }
        if (pos >= s.length()) {
          throw error("unterminated escape");
        }
        char e = s.charAt(pos++);
        switch (e) {
          case 'n' -> out.append('\n');
          case 't' -> out.append('\t');
          case 'r' -> out.append('\r');
          case 's' -> out.append(' ');
          case 'e' -> out.append('\u001b');
          case 'a' -> out.append('\u0007');
          case 'b' -> out.append('\b');
          case 'f' -> out.append('\f');
          case 'v' -> out.append('\u000b');
          case '0' -> out.append('\0');
          case 'd' -> out.append('\u007f');
          case 'x' -> out.appendCodePoint(hex(2, 2));
          case 'u' -> {
            if (pos < s.length() && s.charAt(pos) == '{') {
              pos++;
              int cp = hex(1, 6);
              if (pos >= s.length() || s.charAt(pos) != '}') {
                throw error("expected } after \\u{...");
              }
              pos++;
              out.appendCodePoint(cp);
            } else {
              out.appendCodePoint(hex(4, 4));
            }
          }
          default -> out.append(e); // \" \' \\ \# and the rest stand for themselves
        }
      }
    }

    int hex(int min, int max) {
      int start = pos;
      while (pos < s.length() && pos - start < max
          && Character.digit(s.charAt(pos), 16) >= 0) {
        pos++;
      }
      if (pos - start < min) {
        throw error("hexadecimal digits expected");
      }
      int v = Integer.parseInt(s.substring(start, pos), 16);
      if (v > Character.MAX_CODE_POINT) {
        throw error("not a code point");
      }
      return v;
    }
  }
}
