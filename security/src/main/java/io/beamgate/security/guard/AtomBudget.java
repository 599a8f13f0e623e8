package io.beamgate.security.guard;

import io.beamgate.node.term.Atom;
import java.io.IOException;
import java.net.URLDecoder;
import java.net.URLEncoder;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The distinct atoms the gateway may ever forward into the cluster, beyond each rule's
 * allow-list. BEAM never frees atoms and decodes distribution traffic without {@code safe}, so
 * every new atom a client sends would stay in the cluster's atom table for good; this budget
 * bounds that growth. Atoms every node already has ({@code ok}, {@code true}...) are free.
 *
 * <p>The pool is shared fairly: each principal may bring at most {@code perPrincipal} new
 * atoms into it (an atom someone already brought is free for everyone), so one client cannot
 * spend the pool for all. With a state file ({@link #persistTo}), the atoms admitted are kept
 * across restarts: a restart does not refill the pool, since the cluster still holds them.
 * Thread-safe.
 */
public final class AtomBudget {
  static final Set<String> STANDARD = Set.of("ok", "error", "true", "false", "undefined", "nil",
      "infinity", "normal", "badarg", "timeout", "noproc", "nodedown", "EXIT", "DOWN");

  private final int limit;
  private final int perPrincipal;
  private final Set<String> admitted = ConcurrentHashMap.newKeySet();
  private final AtomicInteger count = new AtomicInteger();
  private final java.util.Map<String, Integer> byPrincipal = new java.util.HashMap<>();
  private FileChannel state; // guarded by this

  /** @param limit most distinct non-standard atoms ever admitted (default 10 000) */
  public AtomBudget(int limit) {
    this(limit, limit);
  }

  /**
   * @param limit most distinct non-standard atoms ever admitted (default 10 000)
   * @param perPrincipal most of them one principal may bring (default a quarter of the pool)
   */
  public AtomBudget(int limit, int perPrincipal) {
    if (limit < 0) {
      throw new IllegalArgumentException("atom budget: " + limit + " (expected: >= 0)");
    }
    if (perPrincipal < 0) {
      throw new IllegalArgumentException("atom budget per principal: " + perPrincipal
          + " (expected: >= 0)");
    }
    this.limit = limit;
    this.perPrincipal = perPrincipal;
  }

  /** The default share of one principal: a quarter of the pool (at least 1 when any). */
  public static int defaultShare(int limit) {
    return limit == 0 ? 0 : Math.max(1, limit / 4);
  }

  /**
   * Keeps the admitted atoms in {@code file} (one URL-encoded name per line, appended as they
   * are admitted, forced to disk): loads what an earlier run admitted, so they count against
   * the pool again. A line cut short by a crash is ignored.
   */
  public synchronized void persistTo(Path file) throws IOException {
    byte[] bytes = Files.exists(file) ? Files.readAllBytes(file) : new byte[0];
    int whole = bytes.length;
    while (whole > 0 && bytes[whole - 1] != '\n') {
      whole--; // a last line without its newline was cut short by a crash
    }
    for (String line : new String(bytes, 0, whole, StandardCharsets.UTF_8).split("\n")) {
      if (!line.isEmpty()) {
        String n = URLDecoder.decode(line, StandardCharsets.UTF_8);
        if (!STANDARD.contains(n) && admitted.add(n)) {
          count.incrementAndGet();
        }
      }
    }
    state = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
    state.truncate(whole); // drop a line cut short, so the next one starts clean
    state.position(whole);
  }

  private void save(java.util.Collection<String> names) {
    if (state == null || names.isEmpty()) {
      return;
    }
    StringBuilder sb = new StringBuilder();
    for (String n : names) {
      sb.append(URLEncoder.encode(n, StandardCharsets.UTF_8)).append('\n');
    }
    try {
      ByteBuffer b = ByteBuffer.wrap(sb.toString().getBytes(StandardCharsets.UTF_8));
      while (b.hasRemaining()) {
        state.write(b);
      }
      state.force(false);
    } catch (IOException e) {
      // the atoms are admitted in memory either way; a restart would refill them
      org.slf4j.LoggerFactory.getLogger(AtomBudget.class).error("atom budget state not"
          + " written ({}): a restart would refill the pool by {} atom(s)", e.getMessage(),
          names.size());
    }
  }

  public synchronized void close() throws IOException {
    if (state != null) {
      state.close();
      state = null;
    }
  }

  public static AtomBudget withDefaults() {
    return new AtomBudget(10_000);
  }

  /** True when {@code a} may be forwarded: standard, seen before, or within the budget. */
  public synchronized boolean admit(Atom a) {
    String n = a.name();
    if (STANDARD.contains(n) || admitted.contains(n)) {
      return true;
    }
    if (shared != null) {
      return admitAll(java.util.List.of(a), null) == null;
    }
    while (true) {
      int c = count.get();
      if (c >= limit) {
        return false;
      }
      if (count.compareAndSet(c, c + 1)) {
        if (!admitted.add(n)) {
          count.decrementAndGet(); // someone else admitted it meanwhile
        } else {
          save(java.util.List.of(n));
        }
        return true;
      }
    }
  }

  /**
   * Admits all of {@code atoms} or none: returns null when all fit (standard, seen before, or
   * within the budget together), else one atom that does not fit, and nothing is spent.
   */
  public synchronized Atom admitAll(java.util.Collection<Atom> atoms) {
    Refusal r = admitAll(atoms, null);
    return r == null ? null : r.atom();
  }

  /**
   * Why atoms were not admitted: the atom, and whether the pool or the share was full;
   * {@code cluster}: the cluster-wide pool's reason, when it was that (else null).
   */
  public record Refusal(Atom atom, boolean share, String cluster) {
    public Refusal(Atom atom, boolean share) {
      this(atom, share, null);
    }
  }

  /**
   * A pool shared with other gateways, asked after this budget's own checks pass: it may say
   * no to atoms this gateway alone would admit (io.beamgate.gateway.scale).
   */
  public interface SharedPool {
    /** Null when {@code atoms} new atoms may go into the cluster now (and are counted); else why not. */
    String take(int atoms);
  }

  private volatile SharedPool shared;

  /** Also charges new atoms to {@code pool} (null: this budget alone). */
  public void shareWith(SharedPool pool) {
    this.shared = pool;
  }

  /**
   * As {@link #admitAll(java.util.Collection)}, charging the new atoms to {@code principal}'s
   * share as well as to the pool (null: the pool only).
   */
  public synchronized Refusal admitAll(java.util.Collection<Atom> atoms, String principal) {
    java.util.Set<String> fresh = new java.util.LinkedHashSet<>();
    Atom first = null;
    for (Atom a : atoms) {
      String n = a.name();
      if (!STANDARD.contains(n) && !admitted.contains(n) && fresh.add(n)) {
        if (first == null) {
          first = a;
        }
      }
    }
    if (fresh.isEmpty()) {
      return null;
    }
    if (count.get() + fresh.size() > limit) {
      return new Refusal(first, false);
    }
    int mine = principal == null ? 0 : byPrincipal.getOrDefault(principal, 0);
    if (principal != null && mine + fresh.size() > perPrincipal) {
      return new Refusal(first, true);
    }
    SharedPool pool = shared;
    String no = pool == null ? null : pool.take(fresh.size());
    if (no != null) {
      return new Refusal(first, false, no);
    }
    for (String n : fresh) {
      if (admitted.add(n)) {
        count.incrementAndGet();
      }
    }
    if (principal != null) {
      byPrincipal.put(principal, mine + fresh.size());
    }
    save(fresh);
    return null;
  }

  /** The new atoms {@code principal} has brought into the pool since this run started. */
  public synchronized int usedBy(String principal) {
    return byPrincipal.getOrDefault(principal, 0);
  }

  public int perPrincipal() {
    return perPrincipal;
  }

  public int used() {
    return count.get();
  }

  public int limit() {
    return limit;
  }
}
