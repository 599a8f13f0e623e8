package io.beamgate.node.term;

import java.io.ByteArrayOutputStream;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.math.MathContext;
import java.math.RoundingMode;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Erlang term text: a printer whose output {@code erl} reads back to the same term, and a parser
 * for the same syntax.
 *
 * <p>Printing: compact, with {@code ", "} between elements ({@code {ok, [1, <<"a">>, #{k =>
 * v}]}}); atoms quoted only when erl needs it; integers of any size in decimal; floats in the
 * shortest form that reads back to the same double; lists of printable characters as strings;
 * binaries as {@code <<"text">>}, {@code <<"héllo"/utf8>>} or {@code <<1,2,3>>}. Pids, refs,
 * ports and local funs, which erl cannot read back, are printed as erl prints them but with the
 * node name where erl shows its local index: {@code <node@host.85.0>},
 * {@code #Ref<node@host.1.2.3>}, {@code #Port<node@host.5>}, {@code #Fun<erl_eval.6.123>};
 * external funs as {@code fun lists:map/2}.
 *
 * Floats print as OTP 25's {@code ~w} does ({@link #formatFloat}). Pids, refs and ports carry
 * the node name because text has no node table that would give erl's local index a meaning;
 * that text is for people and logs only.
 *
 * <p>Parsing: one term, optionally followed by a final {@code .}; nesting is bounded
 * ({@link #DEFAULT_MAX_DEPTH}), and so are integer literals ({@link #MAX_INTEGER_DIGITS}),
 * binary literals ({@link #MAX_BINARY_BYTES}) and atoms (255 characters), so hostile input
 * fails with a {@link TermSyntaxException} (unchecked) naming the 1-based column, never with a
 * StackOverflowError. Pids, refs, ports and local funs cannot be parsed.
 */
public final class TermText {
  public static final int DEFAULT_MAX_DEPTH = 1000;
  /** Longest integer literal accepted, in digits. */
  public static final int MAX_INTEGER_DIGITS = 10_000;

  private static final Set<String> RESERVED = Set.of("after", "and", "andalso", "band", "begin",
      "bnot", "bor", "bsl", "bsr", "bxor", "case", "catch", "cond", "div", "end", "fun", "if",
      "let", "maybe", "not", "of", "or", "orelse", "receive", "rem", "try", "when", "xor", "else");

  /**
   * Keywords of OTP 25's experimental {@code maybe_expr} feature: off by default there, so erl
   * prints them bare and the parser accepts them bare; the printer quotes them, which erl reads
   * either way.
   */
  private static final Set<String> FEATURE_KEYWORDS = Set.of("maybe", "else");
  /** Most bytes one binary literal may produce ({@code <<0:1048576>>} is 13 characters). */
  public static final int MAX_BINARY_BYTES = 1 << 20;

  private TermText() {}

  // ---------------------------------------------------------------- printing

  public static String format(Term t) {
    StringBuilder sb = new StringBuilder();
    print(t, sb);
    return sb.toString();
  }

  private static final Object CLOSE_TUPLE = new Object();
  private static final Object CLOSE_LIST = new Object();
  private static final Object CLOSE_MAP = new Object();
  private static final Object SEP = new Object();
  private static final Object BAR = new Object();
  private static final Object ARROW = new Object();

  /** Iterative, so deep terms do not overflow the stack. */
  private static void print(Term root, StringBuilder sb) {
    ArrayDeque<Object> work = new ArrayDeque<>();
    work.push(root);
    while (!work.isEmpty()) {
      Object o = work.pop();
      if (o == CLOSE_TUPLE) {
        sb.append('}');
      } else if (o == CLOSE_LIST) {
        sb.append(']');
      } else if (o == CLOSE_MAP) {
        sb.append('}');
      } else if (o == SEP) {
        sb.append(", ");
      } else if (o == BAR) {
        sb.append(" | ");
      } else if (o == ARROW) {
        sb.append(" => ");
      } else {
        Term t = (Term) o;
        if (t instanceof Tuple tu) {
          sb.append('{');
          work.push(CLOSE_TUPLE);
          for (int i = tu.arity() - 1; i >= 0; i--) {
            work.push(tu.get(i));
            if (i > 0) {
              work.push(SEP);
            }
          }
        } else if (t instanceof ErlList l) {
          if (l.isEmpty()) {
            sb.append("[]");
          } else if (isPrintableString(l)) {
            appendString(l, sb);
          } else {
            sb.append('[');
            work.push(CLOSE_LIST);
            if (!l.isProper()) {
              work.push(l.tail());
              work.push(BAR);
            }
            for (int i = l.size() - 1; i >= 0; i--) {
              work.push(l.get(i));
              if (i > 0) {
                work.push(SEP);
              }
            }
          }
        } else if (t instanceof ErlMap m) {
          sb.append("#{");
          work.push(CLOSE_MAP);
          List<Map.Entry<Term, Term>> es = new ArrayList<>(m.entries().entrySet());
          for (int i = es.size() - 1; i >= 0; i--) {
            work.push(es.get(i).getValue());
            work.push(ARROW);
            work.push(es.get(i).getKey());
            if (i > 0) {
              work.push(SEP);
            }
          }
        } else {
          printLeaf(t, sb);
        }
      }
    }
  }

  private static void printLeaf(Term t, StringBuilder sb) {
    if (t instanceof Atom a) {
      appendAtom(a.name(), sb);
    } else if (t instanceof Int i) {
      sb.append(i.value());
    } else if (t instanceof BigInt b) {
      sb.append(b.value());
    } else if (t instanceof ErlFloat f) {
      sb.append(formatFloat(f.value()));
    } else if (t instanceof Binary b) {
      appendBinary(b.unsafeArray(), b.size(), 0, sb);
    } else if (t instanceof BitBinary b) {
      byte[] a = b.unsafeArray();
      appendBinary(a, a.length - 1, b.lastBits(), sb);
    } else if (t instanceof Pid p) {
      sb.append('<').append(p.node().name()).append('.').append(Integer.toUnsignedString(p.id()))
          .append('.').append(Integer.toUnsignedString(p.serial())).append('>');
    } else if (t instanceof Ref r) {
      sb.append("#Ref<").append(r.node().name());
      for (int i = r.idCount() - 1; i >= 0; i--) {
        sb.append('.').append(Integer.toUnsignedString(r.id(i)));
      }
      sb.append('>');
    } else if (t instanceof Port p) {
      sb.append("#Port<").append(p.node().name()).append('.').append(Long.toUnsignedString(p.id()))
          .append('>');
    } else if (t instanceof Fun f) {
      sb.append("#Fun<").append(f.module().name()).append('.').append(f.oldIndex()).append('.')
          .append(f.oldUniq()).append('>');
    } else if (t instanceof ExternalFun f) {
      sb.append("fun ");
      appendAtom(f.module().name(), sb);
      sb.append(':');
      appendAtom(f.function().name(), sb);
      sb.append('/').append(f.arity());
    } else {
      throw new IllegalArgumentException("cannot print " + t.getClass());
    }
  }

  /**
   * As OTP 25's {@code float_to_list(F, [short])} (what {@code ~w} prints): the shortest digits
   * that read back to {@code d} (closest to it when several), laid out in plain notation when
   * {@code |d| < 2^53} and that is no longer than scientific notation, else in scientific
   * notation ({@code 1.0e300}, {@code 1.23e-4}). JDK 17's {@code Double.toString} is not always
   * shortest (JDK-4511638), so the digits are searched with BigDecimal.
   */
  static String formatFloat(double d) {
    if (d == 0) {
      return (1 / d < 0) ? "-0.0" : "0.0";
    }
    BigDecimal exact = new BigDecimal(d);
    BigDecimal best = null;
    for (int p = 1; p <= 17 && best == null; p++) {
      BigDecimal[] cands = {exact.round(new MathContext(p, RoundingMode.HALF_EVEN)),
          exact.round(new MathContext(p, RoundingMode.FLOOR)),
          exact.round(new MathContext(p, RoundingMode.CEILING))};
      for (BigDecimal c : cands) {
        if (Double.parseDouble(c.toString()) == d && (best == null
            || c.subtract(exact).abs().compareTo(best.subtract(exact).abs()) < 0)) {
          best = c;
        }
      }
    }
    BigDecimal v = best.stripTrailingZeros();
    String digits = v.unscaledValue().abs().toString();
    int n = digits.length();
    int e = n - 1 - v.scale(); // value = d.ddd x 10^e
    String sign = d < 0 ? "-" : "";
    String sci = sign + digits.charAt(0) + "." + (n > 1 ? digits.substring(1) : "0") + "e" + e;
    if (Math.abs(d) >= 9007199254740992.0) {
      return sci;
    }
    String plain;
    if (e >= n - 1) {
      plain = digits + "0".repeat(e - (n - 1)) + ".0";
    } else if (e >= 0) {
      plain = digits.substring(0, e + 1) + "." + digits.substring(e + 1);
    } else {
      plain = "0." + "0".repeat(-e - 1) + digits;
    }
    plain = sign + plain;
    return plain.length() <= sci.length() ? plain : sci;
  }

  static boolean needsQuotes(String name) {
    if (name.isEmpty() || RESERVED.contains(name)) {
      return true;
    }
    int c0 = name.charAt(0);
    if (!isLower(c0)) {
      return true;
    }
    for (int i = 1; i < name.length(); i++) {
      int c = name.charAt(i);
      if (!(isLower(c) || isUpper(c) || (c >= '0' && c <= '9') || c == '_' || c == '@')) {
        return true;
      }
    }
    return false;
  }

  private static boolean isLower(int c) {
    return (c >= 'a' && c <= 'z') || (c >= 0xDF && c <= 0xFF && c != 0xF7);
  }

  private static boolean isUpper(int c) {
    return (c >= 'A' && c <= 'Z') || (c >= 0xC0 && c <= 0xDE && c != 0xD7);
  }

  private static void appendAtom(String name, StringBuilder sb) {
    if (!needsQuotes(name)) {
      sb.append(name);
      return;
    }
    sb.append('\'');
    name.codePoints().forEach(cp -> appendChar(cp, '\'', sb));
    sb.append('\'');
  }

  private static void appendChar(int cp, char quote, StringBuilder sb) {
    switch (cp) {
      case '\\' -> sb.append("\\\\");
      case '\n' -> sb.append("\\n");
      case '\r' -> sb.append("\\r");
      case '\t' -> sb.append("\\t");
      case '\f' -> sb.append("\\f");
      case '\b' -> sb.append("\\b");
      case 0x0B -> sb.append("\\v");
      case 0x1B -> sb.append("\\e");
      case 0x7F -> sb.append("\\d");
      default -> {
        if (cp == quote) {
          sb.append('\\').append(quote);
        } else if (cp < 0x20 || (cp >= 0x80 && cp < 0xA0) || !printable(cp)) {
          sb.append("\\x{").append(Integer.toHexString(cp).toUpperCase()).append('}');
        } else {
          sb.appendCodePoint(cp);
        }
      }
    }
  }

  private static boolean printable(int cp) {
    if (cp < 0x20) {
      return cp == '\n' || cp == '\r' || cp == '\t' || cp == '\f' || cp == '\b' || cp == 0x0B
          || cp == 0x1B;
    }
    if (cp == 0x7F || (cp >= 0x80 && cp < 0xA0)) {
      return false;
    }
    if (cp > Character.MAX_CODE_POINT || (cp >= 0xD800 && cp <= 0xDFFF)) {
      return false;
    }
    int type = Character.getType(cp);
    return Character.isDefined(cp) && type != Character.CONTROL && type != Character.FORMAT
        && type != Character.PRIVATE_USE && type != Character.UNASSIGNED;
  }

  private static boolean isPrintableString(ErlList l) {
    if (!l.isProper()) {
      return false;
    }
    for (Term t : l.elements()) {
      if (!(t instanceof Int i) || i.value() < 0 || i.value() > Character.MAX_CODE_POINT
          || !printable((int) i.value())) {
        return false;
      }
    }
    return true;
  }

  private static void appendString(ErlList l, StringBuilder sb) {
    sb.append('"');
    for (Term t : l.elements()) {
      appendChar((int) ((Int) t).value(), '"', sb);
    }
    sb.append('"');
  }

  private static void appendBinary(byte[] a, int whole, int lastBits, StringBuilder sb) {
    sb.append("<<");
    if (lastBits == 0 && whole > 0) {
      boolean ascii = true;
      for (int i = 0; i < whole && ascii; i++) {
        int c = a[i] & 0xFF;
        ascii = c < 0x80 && printable(c);
      }
      if (ascii) {
        sb.append('"');
        for (int i = 0; i < whole; i++) {
          appendChar(a[i] & 0xFF, '"', sb);
        }
        sb.append("\">>");
        return;
      }
      String utf8 = strictUtf8(a, whole);
      if (utf8 != null && utf8.codePoints().allMatch(TermText::printable)) {
        sb.append('"');
        utf8.codePoints().forEach(cp -> appendChar(cp, '"', sb));
        sb.append("\"/utf8>>");
        return;
      }
    }
    for (int i = 0; i < whole; i++) {
      if (i > 0) {
        sb.append(',');
      }
      sb.append(a[i] & 0xFF);
    }
    if (lastBits > 0) {
      if (whole > 0) {
        sb.append(',');
      }
      sb.append((a[whole] & 0xFF) >>> (8 - lastBits)).append(':').append(lastBits);
    }
    sb.append(">>");
  }

  private static String strictUtf8(byte[] a, int len) {
    try {
      return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(a, 0, len))
          .toString();
    } catch (CharacterCodingException e) {
      return null;
    }
  }

  // ---------------------------------------------------------------- parsing

  /** Parses one term; a final {@code .} is allowed. */
  public static Term parse(String text) {
    return parse(text, DEFAULT_MAX_DEPTH);
  }

  public static Term parse(String text, int maxDepth) {
    Parser p = new Parser(text, maxDepth);
    try {
      return p.whole();
    } catch (TermSyntaxException e) {
      throw e;
    } catch (StackOverflowError e) {
      // The parser recurses once per nesting level; on a small thread stack that can run out
      // before maxDepth. The parser holds no shared state, so failing the parse is safe.
      throw new TermSyntaxException("nesting too deep for this thread's stack (depth limit "
          + maxDepth + ")", p.pos + 1);
    } catch (RuntimeException e) {
      // Values the term model refuses (a code point out of range, say): still a syntax error.
      throw new TermSyntaxException("invalid term: " + e.getMessage(), p.pos + 1);
    }
  }

  private static Term whole(Parser p) {
    Term t = p.term(0);
    p.skipSpace();
    if (p.peek() == '.') {
      p.pos++;
      p.skipSpace();
    }
    if (!p.atEnd()) {
      throw p.error("unexpected '" + p.describe() + "' after the term");
    }
    return t;
  }

  private static final class Parser {
    /** Largest size of one binary segment, in bits. */
    static final int MAX_SEGMENT_BITS = 1 << 20;
    private final String s;
    private final int maxDepth;
    int pos;

    Parser(String s, int maxDepth) {
      this.s = s;
      this.maxDepth = maxDepth;
    }

    Term whole() {
      return TermText.whole(this);
    }

    TermSyntaxException error(String msg) {
      return new TermSyntaxException(msg, pos + 1);
    }

    boolean atEnd() {
      return pos >= s.length();
    }

    int peek() {
      return pos < s.length() ? s.codePointAt(pos) : -1;
    }

    String describe() {
      return atEnd() ? "end of input" : new String(Character.toChars(peek()));
    }

    void skipSpace() {
      while (!atEnd()) {
        char c = s.charAt(pos);
        if (Character.isWhitespace(c)) {
          pos++;
        } else if (c == '%') {
          while (!atEnd() && s.charAt(pos) != '\n') {
            pos++;
          }
        } else {
          return;
        }
      }
    }

    void expect(char c) {
      skipSpace();
      if (peek() != c) {
        throw error("expected '" + c + "', got '" + describe() + "'");
      }
      pos++;
    }

    boolean tryConsume(String tok) {
      skipSpace();
      if (s.startsWith(tok, pos)) {
        pos += tok.length();
        return true;
      }
      return false;
    }

    Term term(int depth) {
      if (depth >= maxDepth) {
        throw error("nesting depth: " + (depth + 1) + " (expected: <= " + maxDepth + ")");
      }
      skipSpace();
      int c = peek();
      if (c < 0) {
        throw error("expected a term, got end of input");
      }
      switch (c) {
        case '{': {
          pos++;
          List<Term> el = elements('}', depth);
          return new Tuple(el);
        }
        case '[':
          pos++;
          return list(depth);
        case '#':
          pos++;
          if (peek() != '{') {
            throw error("expected '{' after '#'");
          }
          pos++;
          return map(depth);
        case '<':
          if (s.startsWith("<<", pos)) {
            pos += 2;
            return binary();
          }
          throw error("pids, references and ports cannot be parsed");
        case '"':
          return Term.string(strings());
        case '\'':
          return Atom.of(quoted('\''));
        case '$':
          pos++;
          return Int.of(charLiteral());
        default:
          break;
      }
      if (c == '-' || c == '+' || (c >= '0' && c <= '9')) {
        return number();
      }
      if (isLower(c)) {
        String name = bareWord();
        if (name.equals("fun")) {
          return externalFun();
        }
        if (RESERVED.contains(name) && !FEATURE_KEYWORDS.contains(name)) {
          throw new TermSyntaxException("reserved word '" + name + "' needs quotes as an atom",
              pos - name.length() + 1);
        }
        return Atom.of(name);
      }
      if (isUpper(c) || c == '_') {
        throw error("variables are not terms (an atom starting with an upper-case letter needs"
            + " quotes)");
      }
      throw error("unexpected '" + describe() + "'");
    }

    List<Term> elements(char close, int depth) {
      List<Term> el = new ArrayList<>();
      skipSpace();
      if (peek() == close) {
        pos++;
        return el;
      }
      while (true) {
        el.add(term(depth + 1));
        skipSpace();
        int c = peek();
        if (c == ',') {
          pos++;
        } else if (c == close) {
          pos++;
          return el;
        } else {
          throw error("expected ',' or '" + close + "', got '" + describe() + "'");
        }
      }
    }

    Term list(int depth) {
      List<Term> el = new ArrayList<>();
      skipSpace();
      if (peek() == ']') {
        pos++;
        return ErlList.NIL;
      }
      while (true) {
        el.add(term(depth + 1));
        skipSpace();
        int c = peek();
        if (c == ',') {
          pos++;
        } else if (c == ']') {
          pos++;
          return ErlList.of(el);
        } else if (c == '|' && !s.startsWith("||", pos)) {
          pos++;
          Term tail = term(depth + 1);
          expect(']');
          if (tail instanceof ErlList l && l.isEmpty()) {
            return ErlList.of(el);
          }
          return ErlList.improper(el, tail);
        } else {
          throw error("expected ',', '|' or ']', got '" + describe() + "'");
        }
      }
    }

    Term map(int depth) {
      LinkedHashMap<Term, Term> m = new LinkedHashMap<>();
      skipSpace();
      if (peek() == '}') {
        pos++;
        return ErlMap.EMPTY;
      }
      while (true) {
        Term k = term(depth + 1);
        if (!tryConsume("=>")) {
          throw error("expected '=>' in a map, got '" + describe() + "'");
        }
        Term v = term(depth + 1);
        m.put(k, v);
        skipSpace();
        int c = peek();
        if (c == ',') {
          pos++;
        } else if (c == '}') {
          pos++;
          return new ErlMap(m);
        } else {
          throw error("expected ',' or '}', got '" + describe() + "'");
        }
      }
    }

    String bareWord() {
      int start = pos;
      while (!atEnd()) {
        int c = s.charAt(pos);
        if (isLower(c) || isUpper(c) || (c >= '0' && c <= '9') || c == '_' || c == '@') {
          pos++;
        } else {
          break;
        }
      }
      String w = s.substring(start, pos);
      if (w.codePointCount(0, w.length()) > Atom.MAX_LENGTH) {
        throw new TermSyntaxException("atom length: " + w.length() + " (expected: <= "
            + Atom.MAX_LENGTH + ")", start + 1);
      }
      return w;
    }

    Atom atomToken() {
      skipSpace();
      if (peek() == '\'') {
        return Atom.of(checkedAtom(quoted('\'')));
      }
      if (isLower(peek())) {
        return Atom.of(bareWord());
      }
      throw error("expected an atom, got '" + describe() + "'");
    }

    String checkedAtom(String a) {
      int n = a.codePointCount(0, a.length());
      if (n > Atom.MAX_LENGTH) {
        throw error("atom length: " + n + " (expected: <= " + Atom.MAX_LENGTH + ")");
      }
      return a;
    }

    Term externalFun() {
      Atom m = atomToken();
      expect(':');
      Atom f = atomToken();
      expect('/');
      skipSpace();
      int start = pos;
      while (!atEnd() && isAsciiDigit(s.charAt(pos))) {
        pos++;
      }
      if (start == pos || pos - start > 3) {
        throw error("expected an arity after '/'");
      }
      int arity = Integer.parseInt(s.substring(start, pos));
      if (arity > 255) {
        throw error("arity: " + arity + " (expected: <= 255)");
      }
      return new ExternalFun(m, f, arity);
    }

    /** One or more adjacent string literals, concatenated as erl does. */
    String strings() {
      StringBuilder sb = new StringBuilder();
      do {
        sb.append(quoted('"'));
        skipSpace();
      } while (peek() == '"');
      return sb.toString();
    }

    String quoted(char q) {
      int start = pos;
      pos++;
      StringBuilder sb = new StringBuilder();
      while (true) {
        if (atEnd()) {
          throw new TermSyntaxException("unterminated " + (q == '"' ? "string" : "quoted atom"),
              start + 1);
        }
        int c = s.codePointAt(pos);
        pos += Character.charCount(c);
        if (c == q) {
          break;
        }
        if (c == '\\') {
          sb.appendCodePoint(escape());
        } else {
          sb.appendCodePoint(c);
        }
      }
      String r = sb.toString();
      if (q == '\'') {
        int n = r.codePointCount(0, r.length());
        if (n > Atom.MAX_LENGTH) {
          throw new TermSyntaxException("atom length: " + n + " (expected: <= "
              + Atom.MAX_LENGTH + ")", start + 1);
        }
      }
      return r;
    }

    /** After a backslash. */
    int escape() {
      if (atEnd()) {
        throw error("unterminated escape");
      }
      int c = s.codePointAt(pos);
      pos += Character.charCount(c);
      switch (c) {
        case 'b': return '\b';
        case 'd': return 0x7F;
        case 'e': return 0x1B;
        case 'f': return '\f';
        case 'n': return '\n';
        case 'r': return '\r';
        case 's': return ' ';
        case 't': return '\t';
        case 'v': return 0x0B;
        case '^': {
          if (atEnd()) {
            throw error("unterminated escape");
          }
          return s.charAt(pos++) & 0x1F;
        }
        case 'x': {
          if (peek() == '{') {
            int end = s.indexOf('}', pos);
            if (end < 0 || end - pos > 9) {
              throw error("bad \\x{...} escape");
            }
            int v = hex(s.substring(pos + 1, end));
            pos = end + 1;
            return v;
          }
          if (pos + 2 > s.length()) {
            throw error("bad \\x escape");
          }
          int v = hex(s.substring(pos, pos + 2));
          pos += 2;
          return v;
        }
        default:
          if (c >= '0' && c <= '7') {
            int v = c - '0';
            for (int i = 0; i < 2 && !atEnd() && s.charAt(pos) >= '0' && s.charAt(pos) <= '7';
                i++) {
              v = v * 8 + (s.charAt(pos++) - '0');
            }
            return v;
          }
          return c;
      }
    }

    int hex(String h) {
      try {
        int v = Integer.parseInt(h, 16);
        if (v < 0 || v > Character.MAX_CODE_POINT || (v >= 0xD800 && v <= 0xDFFF)) {
          throw error("escape: not a Unicode code point");
        }
        return v;
      } catch (NumberFormatException e) {
        throw error("bad hexadecimal escape '" + h + "'");
      }
    }

    int charLiteral() {
      if (atEnd()) {
        throw error("expected a character after '$'");
      }
      int c = s.codePointAt(pos);
      pos += Character.charCount(c);
      return c == '\\' ? escape() : c;
    }

    Term number() {
      int start = pos;
      boolean neg = false;
      if (peek() == '-' || peek() == '+') {
        neg = peek() == '-';
        pos++;
        skipSpace();
        if (peek() == '$') {
          pos++;
          int v = charLiteral();
          return Int.of(neg ? -v : v);
        }
      }
      int digitsStart = pos;
      digitRun();
      String digits = s.substring(digitsStart, pos).replace("_", "");
      if (digits.length() > MAX_INTEGER_DIGITS) {
        throw new TermSyntaxException("integer literal: " + digits.length()
            + " digits (expected: <= " + MAX_INTEGER_DIGITS + ")", start + 1);
      }
      if (peek() == '#') {
        int radix = digits.length() > 2 ? -1 : Integer.parseInt(digits);
        if (radix < 2 || radix > 36) {
          throw error("radix: " + digits + " (expected: 2..36)");
        }
        pos++;
        int ds = pos;
        while (!atEnd() && radixDigit(s.charAt(pos), radix)) {
          pos++;
        }
        if (ds == pos) {
          throw error("expected digits of base " + radix);
        }
        if (pos - ds > MAX_INTEGER_DIGITS) {
          throw error("integer literal too long");
        }
        BigInteger v = new BigInteger(s.substring(ds, pos), radix);
        return Term.integer(neg ? v.negate() : v);
      }
      if (peek() == '.' && pos + 1 < s.length() && isAsciiDigit(s.charAt(pos + 1))) {
        pos++;
        digitRun();
        if (!atEnd() && (s.charAt(pos) == 'e' || s.charAt(pos) == 'E')) {
          pos++;
          if (!atEnd() && (s.charAt(pos) == '-' || s.charAt(pos) == '+')) {
            pos++;
          }
          int es = pos;
          while (!atEnd() && isAsciiDigit(s.charAt(pos))) {
            pos++;
          }
          if (es == pos) {
            throw error("expected an exponent");
          }
        }
        String f = s.substring(digitsStart, pos).replace("_", "");
        double d = Double.parseDouble(f);
        if (Double.isInfinite(d)) {
          throw new TermSyntaxException("float out of range", start + 1);
        }
        return new ErlFloat(neg ? -d : d);
      }
      BigInteger v = new BigInteger(digits);
      return Term.integer(neg ? v.negate() : v);
    }

    /** Digits, with single underscores between them as erl allows ({@code 1_000}). */
    void digitRun() {
      if (atEnd() || !isAsciiDigit(s.charAt(pos))) {
        throw error("expected a digit, got '" + describe() + "'");
      }
      while (!atEnd()) {
        char c = s.charAt(pos);
        if (isAsciiDigit(c)) {
          pos++;
        } else if (c == '_' && pos + 1 < s.length() && isAsciiDigit(s.charAt(pos + 1))) {
          pos++;
        } else {
          break;
        }
      }
    }

    /** After {@code <<}: segments of strings and integers, with sizes and types. */
    Term binary() {
      BitWriter w = new BitWriter();
      skipSpace();
      if (tryConsume(">>")) {
        return Binary.EMPTY;
      }
      while (true) {
        skipSpace();
        int c = peek();
        String str = null;
        BigInteger value = null;
        if (c == '"') {
          str = strings();
        } else if (c == '$') {
          pos++;
          value = BigInteger.valueOf(charLiteral());
        } else if (c == '-' || c == '+' || isAsciiDigit(c)) {
          Term n = number();
          if (!(n instanceof Int) && !(n instanceof BigInt)) {
            throw error("only integer and string segments are supported");
          }
          value = Term.bigIntegerValue(n);
        } else {
          throw error("expected a string or an integer in a binary, got '" + describe() + "'");
        }
        Integer size = null;
        skipSpace();
        if (peek() == ':') {
          pos++;
          skipSpace();
          int ss = pos;
          while (!atEnd() && isAsciiDigit(s.charAt(pos))) {
            pos++;
          }
          if (ss == pos || pos - ss > 7) {
            throw error("expected a segment size");
          }
          size = Integer.parseInt(s.substring(ss, pos));
          if (size > MAX_SEGMENT_BITS) {
            throw error("segment size: " + size + " (expected: <= " + MAX_SEGMENT_BITS + ")");
          }
        }
        String type = "integer";
        if (peek() == '/') {
          pos++;
          int typeStart = pos;
          type = bareWord();
          if (!type.equals("utf8") && !type.equals("integer") && !type.equals("latin1")
              && !type.equals("binary")) {
            throw new TermSyntaxException("segment type '" + type + "' is not supported",
                typeStart + 1);
          }
        }
        if (str != null) {
          if (size != null) {
            throw error("a string segment takes no size");
          }
          if (type.equals("utf8")) {
            byte[] b = str.getBytes(StandardCharsets.UTF_8);
            w.bytes(b);
          } else {
            for (int i = 0; i < str.length(); ) {
              int cp = str.codePointAt(i);
              i += Character.charCount(cp);
              w.bits(BigInteger.valueOf(cp), 8);
            }
          }
        } else if (type.equals("utf8")) {
          int cp = value.intValueExact();
          w.bytes(new String(Character.toChars(cp)).getBytes(StandardCharsets.UTF_8));
        } else {
          w.bits(value, size == null ? 8 : size);
        }
        skipSpace();
        if (tryConsume(">>")) {
          return w.term();
        }
        expect(',');
      }
    }
  }

  private static boolean isAsciiDigit(int c) {
    return c >= '0' && c <= '9';
  }

  /** ASCII only: {@code Character.digit} would also take other scripts' digits. */
  private static boolean radixDigit(int c, int radix) {
    return c < 128 && Character.digit(c, radix) >= 0;
  }

  /** Packs segments big-endian, bit by bit. */
  private static final class BitWriter {
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private int cur;
    private int nbits;

    void bytes(byte[] b) {
      for (byte x : b) {
        bits(BigInteger.valueOf(x & 0xFF), 8);
      }
    }

    private long total;

    void bits(BigInteger v, int size) {
      total += size;
      if (total > MAX_BINARY_BYTES * 8L) {
        throw new IllegalArgumentException("binary size: more than " + MAX_BINARY_BYTES
            + " bytes (expected: <= " + MAX_BINARY_BYTES + ")");
      }
      for (int i = size - 1; i >= 0; i--) {
        cur = (cur << 1) | (v.testBit(i) ? 1 : 0);
        if (++nbits == 8) {
          out.write(cur);
          cur = 0;
          nbits = 0;
        }
      }
    }

    Term term() {
      byte[] whole = out.toByteArray();
      if (nbits == 0) {
        return Binary.wrap(whole);
      }
      byte[] all = java.util.Arrays.copyOf(whole, whole.length + 1);
      all[whole.length] = (byte) (cur << (8 - nbits));
      return BitBinary.wrap(all, nbits);
    }
  }
}
