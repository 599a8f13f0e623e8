package io.beamgate.node.etf;

import static io.beamgate.node.etf.EtfTags.*;

import io.beamgate.node.term.Atom;
import io.beamgate.node.term.Binary;
import io.beamgate.node.term.BitBinary;
import io.beamgate.node.term.ErlFloat;
import io.beamgate.node.term.ErlList;
import io.beamgate.node.term.ErlMap;
import io.beamgate.node.term.ExternalFun;
import io.beamgate.node.term.Fun;
import io.beamgate.node.term.Int;
import io.beamgate.node.term.Pid;
import io.beamgate.node.term.Port;
import io.beamgate.node.term.Ref;
import io.beamgate.node.term.Term;
import io.beamgate.node.term.Tuple;
import java.math.BigInteger;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.zip.DataFormatException;
import java.util.zip.Inflater;

/**
 * Decodes the external term format under {@link DecodeLimits}. Iterative (an explicit stack, so
 * no depth of nesting can overflow the Java stack); every length read from the input is checked
 * against the bytes present and the limits before anything is allocated; every failure is an
 * {@link EtfException} naming the fault. Thread-safe.
 */
public final class EtfDecoder {
  public static final int VERSION = 131;
  private static final Int[] SMALL_INTS = new Int[256];

  static {
    for (int i = 0; i < 256; i++) {
      SMALL_INTS[i] = new Int(i);
    }
  }

  private final DecodeLimits limits;

  public EtfDecoder(DecodeLimits limits) {
    this.limits = limits;
  }

  public static EtfDecoder withDefaults() {
    return new EtfDecoder(DecodeLimits.DEFAULTS);
  }

  public DecodeLimits limits() {
    return limits;
  }

  /**
   * Decodes one term that starts with the version byte (131) at {@code buf.position()}, and
   * advances the position past it. On failure the position is unspecified.
   */
  public Term decode(ByteBuffer buf) throws EtfException {
    int start = buf.position();
    try {
      int version = u8(buf);
      if (version != VERSION) {
        throw new EtfException("version byte: " + version + " (expected: 131)");
      }
      if (buf.remaining() > 0 && (buf.get(buf.position()) & 0xFF) == COMPRESSED) {
        buf.get();
        return decodeCompressed(buf, start);
      }
      return decodeBody(buf, start, null, 0, false);
    } catch (RuntimeException | StackOverflowError e) {
      throw mapFailure(buf, start, e);
    }
  }

  /**
   * Decodes one term without a version byte, as terms follow a distribution header; atom cache
   * references (ATOM_CACHE_REF) index {@code atomRefs}, the atoms that header named.
   */
  public Term decodeAfterHeader(ByteBuffer buf, Atom[] atomRefs) throws EtfException {
    return decodeAfterHeader(buf, atomRefs, false);
  }

  /**
   * As {@link #decodeAfterHeader(ByteBuffer, Atom[])}; with {@code owned}, the caller gives
   * up {@code buf}'s array (nothing writes to it afterwards, and it is no pooled buffer's), and
   * a large binary that fills at least half of it is a range of it instead of a copy (see
   * {@link #SHARED_BINARY_MIN}).
   */
  public Term decodeAfterHeader(ByteBuffer buf, Atom[] atomRefs, boolean owned)
      throws EtfException {
    int start = buf.position();
    try {
      return decodeBody(buf, start, atomRefs, 0, owned && buf.hasArray());
    } catch (RuntimeException | StackOverflowError e) {
      throw mapFailure(buf, start, e);
    }
  }

  /** Whatever the input, only EtfException leaves the decoder. */
  private static EtfException mapFailure(ByteBuffer buf, int start, Throwable e) {
    if (e instanceof BufferUnderflowException) {
      return new EtfException("truncated: the term needs more than the " + (buf.limit() - start)
          + " bytes present");
    }
    if (e instanceof StackOverflowError) {
      // The decoder itself never recurses; hashing or comparing a very deep map key (records
      // hash recursively) can, when maxDepth is set far above the default.
      return new EtfException("depth: too deep to compare map keys (expected: a smaller"
          + " maxDepth)", e);
    }
    if (e instanceof IllegalArgumentException) {
      return new EtfException("invalid term: " + e.getMessage(), e);
    }
    // Defensive: no runtime exception may escape on hostile input.
    return new EtfException("malformed term: " + e, e);
  }

  /** Decodes a whole array holding exactly one term with its version byte. */
  public Term decode(byte[] bytes) throws EtfException {
    ByteBuffer buf = ByteBuffer.wrap(bytes);
    Term t = decode(buf);
    if (buf.hasRemaining()) {
      throw new EtfException("trailing bytes: " + buf.remaining() + " (expected: 0)");
    }
    return t;
  }

  /**
   * COMPRESSED (80): a 4-byte uncompressed size, then a zlib stream of the term without its
   * version byte. The claim is checked before inflating, output grows only as data actually
   * inflates (never past the claim + 1 byte, to notice a stream that inflates larger than it
   * claims), and the result is decoded under the same limits.
   */
  private Term decodeCompressed(ByteBuffer buf, int start) throws EtfException {
    long size = u32(buf);
    if (size > limits.maxDecompressedBytes()) {
      throw new EtfException("decompressed size: " + size + " (expected: <= "
          + limits.maxDecompressedBytes() + ")");
    }
    if (size > Integer.MAX_VALUE - 16) {
      throw new EtfException("decompressed size: " + size + " (expected: < 2 GiB)");
    }
    Inflater inf = new Inflater();
    try {
      // Never feed the inflater more input than maxTermBytes allows.
      int inLen = (int) Math.min(buf.remaining(),
          Math.max(0, limits.maxTermBytes() - (buf.position() - start)));
      if (buf.hasArray()) {
        inf.setInput(buf.array(), buf.arrayOffset() + buf.position(), inLen);
      } else {
        byte[] in = new byte[inLen];
        buf.duplicate().get(in);
        inf.setInput(in);
      }
      byte[] out = new byte[(int) Math.min(size + 1, 64 * 1024)];
      int n = 0;
      while (!inf.finished()) {
        if (n == out.length) {
          if (n > size) {
            break;
          }
          out = Arrays.copyOf(out, (int) Math.min(size + 1, (long) out.length * 2));
        }
        int got = inf.inflate(out, n, out.length - n);
        if (got == 0 && (inf.needsInput() || inf.needsDictionary())) {
          if (inLen < buf.remaining()) {
            throw new EtfException("term size: more than " + limits.maxTermBytes()
                + " bytes (expected: <= " + limits.maxTermBytes() + ")");
          }
          throw new EtfException("truncated: compressed data ends after " + n + " of " + size
              + " bytes");
        }
        n += got;
      }
      if (n != size) {
        throw new EtfException("decompressed size: " + (n > size ? "more than " + size : n)
            + " (expected: " + size + ", as claimed)");
      }
      buf.position(buf.position() + (inLen - inf.getRemaining()));
      ByteBuffer inner = ByteBuffer.wrap(out, 0, n);
      Term t = decodeBody(inner, 0, null, 0, false);
      if (inner.hasRemaining()) {
        throw new EtfException("trailing bytes in compressed term: " + inner.remaining()
            + " (expected: 0)");
      }
      return t;
    } catch (DataFormatException e) {
      throw new EtfException("bad compressed data: " + e.getMessage());
    } finally {
      inf.end();
    }
  }

  private static final int K_TUPLE = 0;
  private static final int K_LIST = 1;
  private static final int K_MAP = 2;
  private static final int K_FUN = 3;

  /** A container being filled: its elements so far, and how many it needs. */
  private static final class Frame {
    final int kind;
    Term[] items;
    int filled;
    int needed; // LIST: elements + 1 for the tail

    Frame(int kind, int needed) {
      this.kind = kind;
      this.items = new Term[needed];
      this.needed = needed;
    }

    // NEW_FUN only: where it starts and ends, and the header fields read so far. Its pid and
    // free variables fill items, decoded by the main loop like a container's elements, so
    // funs nested in funs cost no Java stack either.
    int funAt;
    int funEnd;
    int funArity;
    int funUniqAt;
    Atom funModule;
    long funOldIndex;
    long funOldUniq;
    Atom[] atomRefs;

    /** A list whose tail is another list: the tail's elements join this one (no new depth). */
    void extendList(int more, long room) {
      needed += more;
      if (needed > items.length) {
        // Amortised growth, so a chain of one-element tails stays linear.
        long cap = Math.min(Math.max(needed, items.length * 2L), needed + room);
        items = Arrays.copyOf(items, (int) Math.min(cap, Integer.MAX_VALUE - 16));
      }
    }

    Term build() {
      switch (kind) {
        case K_TUPLE:
          return new Tuple(Arrays.asList(items));
        case K_LIST: {
          int n = needed - 1;
          Term tail = items[n];
          List<Term> el = Arrays.asList(items).subList(0, n);
          if (tail == ErlList.NIL) {
            return ErlList.of(el);
          }
          return ErlList.improper(el, tail);
        }
        default: {
          LinkedHashMap<Term, Term> m = new LinkedHashMap<>(items.length);
          for (int i = 0; i < items.length; i += 2) {
            m.put(items[i], items[i + 1]);
          }
          if (m.size() * 2 != items.length) {
            throw new IllegalArgumentException("map has a duplicate key");
          }
          return new ErlMap(m);
        }
      }
    }
  }

  /**
   * The smallest binary decoded as a range of an owned input instead of a copy: below it a
   * copy costs little, and a range keeps the whole input alive.
   */
  public static final int SHARED_BINARY_MIN = 64 * 1024;

  /**
   * The decoding loop. {@code owed} counts the element slots of open containers not yet
   * started; each needs at least one more byte, so a container's claim is checked against the
   * bytes present minus what is already owed. Nested containers therefore cannot each claim the
   * whole remaining input (which would allocate depth x input).
   */
  private Term decodeBody(ByteBuffer buf, int start, Atom[] refs, int baseDepth,
      boolean owned)
      throws EtfException {
    ArrayDeque<Frame> stack = new ArrayDeque<>();
    long owed = 0;
    while (true) {
      checkTotal(buf, start, 0);
      Frame top = stack.peek();
      if (top != null) {
        owed--; // this term fills (or begins to fill) the next slot of the top container
      }
      int tag = u8(buf);
      Term leaf;
      switch (tag) {
        case SMALL_INTEGER:
          leaf = SMALL_INTS[u8(buf)];
          break;
        case INTEGER:
          leaf = new Int(buf.getInt());
          break;
        case SMALL_BIG:
          leaf = big(buf, u8(buf));
          break;
        case LARGE_BIG:
          leaf = big(buf, u32(buf));
          break;
        case NEW_FLOAT:
          leaf = new ErlFloat(Double.longBitsToDouble(buf.getLong()));
          break;
        case FLOAT:
          leaf = oldFloat(buf);
          break;
        case ATOM_UTF8:
        case ATOM:
        case SMALL_ATOM_UTF8:
        case SMALL_ATOM:
          leaf = atomAfterTag(buf, tag);
          break;
        case ATOM_CACHE_REF:
          leaf = cachedAtom(buf, refs);
          break;
        case NIL:
          leaf = ErlList.NIL;
          break;
        case STRING: {
          int n = u16(buf);
          claim(buf, owed, n);
          Term[] chars = new Term[n];
          for (int i = 0; i < n; i++) {
            chars[i] = SMALL_INTS[buf.get() & 0xFF];
          }
          leaf = ErlList.of(chars);
          break;
        }
        case BINARY: {
          long n = u32(buf);
          claim(buf, owed, n);
          checkTotal(buf, start, n);
          if (owned && n >= SHARED_BINARY_MIN && n * 2 >= buf.capacity()) {
            int at = buf.position();
            buf.position(at + (int) n); // within the input: claimed above
            leaf = Binary.wrapRange(buf.array(), buf.arrayOffset() + at, (int) n);
            break;
          }
          byte[] b = new byte[(int) n];
          buf.get(b);
          leaf = Binary.wrap(b);
          break;
        }
        case BIT_BINARY: {
          long n = u32(buf);
          int bits = u8(buf);
          claim(buf, owed, n);
          checkTotal(buf, start, n);
          // As OTP: no bytes only with 0 bits (an empty binary), else 1..8 bits in the last.
          if ((n == 0) != (bits == 0) || bits > 8) {
            throw new EtfException("bit binary: " + n + " bytes, " + bits
                + " bits in the last (expected: 1..8 bits, or 0 bytes and 0 bits)");
          }
          byte[] b = new byte[(int) n];
          buf.get(b);
          leaf = n == 0 ? Binary.EMPTY : bits == 8 ? Binary.wrap(b) : BitBinary.wrap(b, bits);
          break;
        }
        case NEW_PID:
        case PID: {
          Atom node = atom(buf, refs);
          int id = buf.getInt();
          int serial = buf.getInt();
          int creation = tag == NEW_PID ? buf.getInt() : u8(buf);
          leaf = new Pid(node, id, serial, creation);
          break;
        }
        case NEW_PORT:
        case V4_PORT:
        case PORT: {
          Atom node = atom(buf, refs);
          long id = tag == V4_PORT ? buf.getLong() : u32(buf);
          int creation = tag == PORT ? u8(buf) : buf.getInt();
          leaf = new Port(node, id, creation);
          break;
        }
        case NEWER_REFERENCE:
        case NEW_REFERENCE: {
          int len = u16(buf);
          if (len < 1 || len > Ref.MAX_IDS) {
            throw new EtfException("reference ids: " + len + " (expected: 1.." + Ref.MAX_IDS
                + ")");
          }
          Atom node = atom(buf, refs);
          int creation = tag == NEWER_REFERENCE ? buf.getInt() : u8(buf);
          int[] ids = new int[len];
          for (int i = 0; i < len; i++) {
            ids[i] = buf.getInt();
          }
          leaf = new Ref(node, creation, ids);
          break;
        }
        case REFERENCE: {
          Atom node = atom(buf, refs);
          int id = buf.getInt();
          leaf = new Ref(node, u8(buf), new int[] {id});
          break;
        }
        case EXPORT: {
          Atom m = atom(buf, refs);
          Atom f = atom(buf, refs);
          int atag = u8(buf);
          if (atag != SMALL_INTEGER) {
            throw new EtfException("export arity tag: " + atag + " (expected: 97)");
          }
          leaf = new ExternalFun(m, f, u8(buf));
          break;
        }
        case NEW_FUN: {
          Frame f = funHeader(buf, start, refs);
          claim(buf, owed, f.needed);
          push(stack, baseDepth, f);
          owed += f.needed;
          continue;
        }
        case SMALL_TUPLE:
        case LARGE_TUPLE: {
          long n = tag == SMALL_TUPLE ? u8(buf) : u32(buf);
          if (n == 0) {
            leaf = Tuple.EMPTY;
            break;
          }
          claim(buf, owed, n);
          push(stack, baseDepth, new Frame(K_TUPLE, (int) n));
          owed += n;
          continue;
        }
        case LIST: {
          long n = u32(buf);
          if (n == 0) {
            throw new EtfException("list length: 0 (expected: >= 1; [] is NIL)");
          }
          claim(buf, owed, n + 1);
          if (top != null && top.kind == K_LIST && top.filled == top.needed - 1) {
            // [a | [b | T]] is [a, b | T]: extend the list instead of nesting, so long chains
            // of list tails cost neither depth nor quadratic copying.
            top.extendList((int) n, buf.remaining() - owed);
          } else {
            push(stack, baseDepth, new Frame(K_LIST, (int) n + 1));
          }
          owed += n + 1;
          continue;
        }
        case MAP: {
          long n = u32(buf);
          if (n == 0) {
            leaf = ErlMap.EMPTY;
            break;
          }
          claim(buf, owed, 2 * n);
          push(stack, baseDepth, new Frame(K_MAP, (int) (2 * n)));
          owed += 2 * n;
          continue;
        }
        case COMPRESSED:
          throw new EtfException("compressed term nested inside a term (expected: only at the"
              + " top)");
        case LOCAL:
          throw new EtfException("LOCAL_EXT term from another node (not accepted)");
        case FUN:
          throw new EtfException("old FUN_EXT (not supported since OTP 23)");
        default:
          throw new EtfException("unknown tag: " + tag);
      }
      // Attach the finished term to its parent, closing every container it completes.
      Term done = leaf;
      while (true) {
        Frame f = stack.peek();
        if (f == null) {
          return done;
        }
        f.items[f.filled++] = done;
        if (f.filled < f.needed) {
          break;
        }
        stack.pop();
        done = f.kind == K_FUN ? buildFun(f, buf) : f.build();
      }
    }
  }

  private void push(ArrayDeque<Frame> stack, int baseDepth, Frame f) throws EtfException {
    checkDepth(baseDepth + stack.size() + 1);
    stack.push(f);
  }

  private void checkDepth(int depth) throws EtfException {
    if (depth > limits.maxDepth()) {
      throw new EtfException("depth: " + depth + " (expected: <= " + limits.maxDepth() + ")");
    }
  }

  private void checkTotal(ByteBuffer buf, int start, long more) throws EtfException {
    long used = buf.position() - start + more;
    if (used > limits.maxTermBytes()) {
      throw new EtfException("term size: more than " + (used - 1) + " bytes (expected: <= "
          + limits.maxTermBytes() + ")");
    }
  }

  private static void need(ByteBuffer buf, long n) throws EtfException {
    if (n > buf.remaining()) {
      throw new EtfException("length: " + n + " (expected: <= " + buf.remaining()
          + ", the bytes present)");
    }
  }

  /**
   * A length read from the wire: {@code n} bytes (or elements, each at least a byte) must fit
   * in what is present after the {@code owed} bytes that open containers still need.
   */
  private static void claim(ByteBuffer buf, long owed, long n) throws EtfException {
    long room = buf.remaining() - owed;
    if (n > room) {
      throw new EtfException("length: " + n + " (expected: <= " + Math.max(0, room)
          + ", the bytes present)");
    }
  }

  private Term big(ByteBuffer buf, long n) throws EtfException {
    if (n > limits.maxBignumBytes()) {
      throw new EtfException("bignum bytes: " + n + " (expected: <= " + limits.maxBignumBytes()
          + ")");
    }
    int sign = u8(buf);
    need(buf, n);
    byte[] be = new byte[(int) n + 1];
    for (int i = 0; i < n; i++) {
      be[(int) n - i] = buf.get();
    }
    BigInteger v = new BigInteger(be);
    return Term.integer(sign == 0 ? v : v.negate());
  }

  /**
   * FLOAT_EXT: 31 bytes of "%.20e" text, NUL-padded. Only the syntax OTP's
   * sys_chars_to_double accepts: [+-]digits[.,]digits[(e|E)[+-]digits].
   */
  private static Term oldFloat(ByteBuffer buf) throws EtfException {
    byte[] b = new byte[31];
    buf.get(b);
    int end = 0;
    while (end < 31 && b[end] != 0) {
      end++;
    }
    int i = 0;
    if (i < end && (b[i] == '+' || b[i] == '-')) {
      i++;
    }
    int d = i;
    while (i < end && isDigit(b[i])) {
      i++;
    }
    boolean ok = i > d && i < end && (b[i] == '.' || b[i] == ',');
    if (ok) {
      b[i++] = '.';
      d = i;
      while (i < end && isDigit(b[i])) {
        i++;
      }
      ok = i > d;
      if (ok && i < end && (b[i] == 'e' || b[i] == 'E')) {
        i++;
        if (i < end && (b[i] == '+' || b[i] == '-')) {
          i++;
        }
        d = i;
        while (i < end && isDigit(b[i])) {
          i++;
        }
        ok = i > d;
      }
      ok &= i == end;
    }
    if (!ok) {
      throw new EtfException("FLOAT_EXT: not a float");
    }
    double v = Double.parseDouble(new String(b, 0, end, StandardCharsets.US_ASCII));
    if (Double.isInfinite(v)) {
      throw new EtfException("FLOAT_EXT: " + new String(b, 0, end, StandardCharsets.US_ASCII)
          + " (expected: finite)");
    }
    return new ErlFloat(v);
  }

  private static boolean isDigit(byte c) {
    return c >= '0' && c <= '9';
  }

  /** An atom from its UTF-8 text (as a distribution header carries it), validated. */
  public static Atom atomFromUtf8(byte[] text) throws EtfException {
    ByteBuffer b = ByteBuffer.allocate(3 + text.length);
    b.put((byte) ATOM_UTF8).putShort((short) text.length).put(text).flip();
    b.get();
    return atomAfterTag(b, ATOM_UTF8);
  }

  private static Atom cachedAtom(ByteBuffer buf, Atom[] refs) throws EtfException {
    int idx = u8(buf);
    if (refs == null) {
      throw new EtfException("atom cache reference outside a distribution header");
    }
    if (idx >= refs.length || refs[idx] == null) {
      throw new EtfException("atom cache reference: " + idx + " (expected: < " + refs.length
          + ", as the header named)");
    }
    return refs[idx];
  }

  private static Atom atom(ByteBuffer buf, Atom[] refs) throws EtfException {
    int tag = u8(buf);
    switch (tag) {
      case ATOM_CACHE_REF:
        return cachedAtom(buf, refs);
      case ATOM_UTF8:
      case ATOM:
      case SMALL_ATOM_UTF8:
      case SMALL_ATOM:
        return atomAfterTag(buf, tag);
      default:
        throw new EtfException("tag: " + tag + " (expected: an atom)");
    }
  }

  private static Atom atomAfterTag(ByteBuffer buf, int tag) throws EtfException {
    int n = (tag == ATOM_UTF8 || tag == ATOM) ? u16(buf) : u8(buf);
    need(buf, n);
    boolean latin1 = tag == ATOM || tag == SMALL_ATOM;
    int maxBytes = latin1 ? Atom.MAX_LENGTH : Atom.MAX_LENGTH * 4;
    if (n > maxBytes) {
      throw new EtfException("atom length: " + n + " bytes (expected: <= " + maxBytes + ")");
    }
    byte[] a;
    int off;
    if (buf.hasArray()) {
      a = buf.array();
      off = buf.arrayOffset() + buf.position();
      buf.position(buf.position() + n);
    } else {
      a = new byte[n];
      off = 0;
      buf.get(a);
    }
    int h = AtomInterner.hash(a, off, n);
    Atom cached = AtomInterner.SHARED.get(h, a, off, n, latin1);
    if (cached != null) {
      return cached;
    }
    String s;
    if (latin1 || isAscii(a, off, n)) {
      s = new String(a, off, n, StandardCharsets.ISO_8859_1);
    } else {
      CharsetDecoder d = StandardCharsets.UTF_8.newDecoder()
          .onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT);
      try {
        s = d.decode(ByteBuffer.wrap(a, off, n)).toString();
      } catch (CharacterCodingException e) {
        throw new EtfException("atom: invalid UTF-8");
      }
    }
    int len = s.codePointCount(0, s.length());
    if (len > Atom.MAX_LENGTH) {
      throw new EtfException("atom length: " + len + " characters (expected: <= "
          + Atom.MAX_LENGTH + ")");
    }
    Atom atom = new Atom(s);
    AtomInterner.SHARED.put(h, a, off, n, latin1, atom);
    return atom;
  }

  private static boolean isAscii(byte[] b, int off, int n) {
    for (int i = off, end = off + n; i < end; i++) {
      if (b[i] < 0) {
        return false;
      }
    }
    return true;
  }

  /**
   * NEW_FUN_EXT: kept opaque (its exact bytes, so it re-encodes byte-exactly), with module,
   * arity, old index and old uniq read for printing. Its pid and free variables are decoded
   * too, under the same limits (the fun counts as one level of depth), so garbage inside is
   * refused: this reads the fields before them and returns the frame they fill; {@link
   * #buildFun} finishes. Size counts itself and everything after the tag.
   */
  private Frame funHeader(ByteBuffer buf, int start, Atom[] refs) throws EtfException {
    int at = buf.position() - 1;
    long size = u32(buf);
    if (size < 4 + 1 + 16 + 4 + 4) {
      throw new EtfException("fun size: " + size + " (expected: >= 29)");
    }
    need(buf, size - 4);
    checkTotal(buf, start, size - 4);
    int end = at + 1 + (int) size;
    int arity = u8(buf);
    int uniqAt = buf.position();
    buf.position(uniqAt + 16 + 4); // uniq, index
    long numFree = u32(buf);
    ByteBuffer inner = buf.duplicate();
    inner.limit(end);
    Atom module = atom(inner, refs);
    long oldIndex = smallInt(inner);
    long oldUniq = smallInt(inner);
    if (numFree >= inner.remaining()) {
      throw new EtfException("fun free variables: " + numFree + " (expected: < "
          + inner.remaining() + ", the bytes present after its pid)");
    }
    buf.position(inner.position());
    Frame f = new Frame(K_FUN, (int) numFree + 1);
    f.funAt = at;
    f.funEnd = end;
    f.funArity = arity;
    f.funUniqAt = uniqAt;
    f.funModule = module;
    f.funOldIndex = oldIndex;
    f.funOldUniq = oldUniq;
    f.atomRefs = refs;
    return f;
  }

  /**
   * The fun whose pid and free variables are now decoded: they must end exactly where its size
   * said. After a distribution header, atom cache references inside would be meaningless
   * elsewhere, so there the bytes are rebuilt with plain atoms.
   */
  private static Term buildFun(Frame f, ByteBuffer buf) throws EtfException {
    if (buf.position() != f.funEnd) {
      throw new EtfException("fun size: " + (f.funEnd - f.funAt - 1) + " (expected: "
          + (buf.position() - f.funAt - 1) + ", what its fields take)");
    }
    if (!(f.items[0] instanceof Pid)) {
      throw new EtfException("fun pid: not a pid");
    }
    byte[] raw;
    if (f.atomRefs == null) {
      raw = new byte[f.funEnd - f.funAt];
      buf.get(f.funAt, raw);
    } else {
      ByteArraySink out = new ByteArraySink(f.funEnd - f.funAt + 64);
      out.writeByte(NEW_FUN);
      out.writeInt(0); // size, patched below
      out.writeByte(f.funArity);
      byte[] fixed = new byte[16 + 4 + 4]; // uniq, index, num free
      buf.get(f.funUniqAt, fixed);
      out.writeBytes(fixed);
      EtfEncoder.encodeBody(f.funModule, out);
      EtfEncoder.encodeBody(Term.integer(f.funOldIndex), out);
      EtfEncoder.encodeBody(Term.integer(f.funOldUniq), out);
      for (Term t : f.items) {
        EtfEncoder.encodeBody(t, out);
      }
      raw = out.toByteArray();
      ByteBuffer.wrap(raw, 1, 4).putInt(raw.length - 1);
    }
    return new Fun(raw, f.funModule, f.funArity, f.funOldIndex, f.funOldUniq);
  }

  private static long smallInt(ByteBuffer buf) throws EtfException {
    int tag = u8(buf);
    if (tag == SMALL_INTEGER) {
      return u8(buf);
    }
    if (tag == INTEGER) {
      return buf.getInt();
    }
    throw new EtfException("fun index tag: " + tag + " (expected: an integer)");
  }

  private static int u8(ByteBuffer b) {
    return b.get() & 0xFF;
  }

  private static int u16(ByteBuffer b) {
    return b.getShort() & 0xFFFF;
  }

  private static long u32(ByteBuffer b) {
    return b.getInt() & 0xFFFFFFFFL;
  }
}
