package io.beamgate.gateway.bridge;

import io.beamgate.node.term.Atom;
import io.beamgate.node.term.ErlList;
import io.beamgate.node.term.ErlMap;
import io.beamgate.node.term.Pid;
import io.beamgate.node.term.Ref;
import io.beamgate.node.term.Term;
import io.beamgate.node.term.Tuple;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Pid and reference translation for one bridge link. Every pid or reference that comes from
 * the other cluster is replaced, on its way into this one, by a stand-in ("proxy") of this
 * gateway's node, so the cluster never sees the other cluster's node names and everything it
 * sends to a stand-in reaches this gateway. On the way out, a stand-in becomes the original
 * again, and a pid or reference of this cluster is remembered as given out ("exported"): only
 * those may be addressed from the other side.
 *
 * <p>Stand-ins carry the link's number (a pid's serial, a reference's third word), so one node
 * can serve several links. Both tables are bounded ({@code maxEntries}); the least recently used
 * entries are forgotten, after which a message to a forgotten stand-in is dropped.
 */
final class Translator {
  /** Marks the third word of a stand-in reference; the low 16 bits are the link's number. */
  static final int REF_MARK = 0x40000000;

  private final Atom node;
  private final int creation;
  private final int link;
  private final AtomicInteger pidIds = new AtomicInteger(1);
  private final AtomicInteger refIds = new AtomicInteger(1);
  private final BiLru<Pid> pids;
  private final BiLru<Ref> refs;
  private final Lru<Pid> exportedPids;
  private final Lru<Ref> exportedRefs;

  Translator(Atom node, int creation, int link, int maxEntries) {
    if (link < 1 || link > 8191) {
      throw new IllegalArgumentException("link number: " + link + " (expected: 1..8191)");
    }
    this.node = node;
    this.creation = creation;
    this.link = link;
    this.pids = new BiLru<>(maxEntries);
    this.refs = new BiLru<>(maxEntries);
    this.exportedPids = new Lru<>(maxEntries);
    this.exportedRefs = new Lru<>(maxEntries);
  }

  int link() {
    return link;
  }

  /** True when {@code p} is a stand-in of this link (whether or not it still stands for one). */
  boolean isProxy(Pid p) {
    return p.node().equals(node) && p.serial() == link && p.creation() == creation;
  }

  boolean isProxy(Ref r) {
    return isProxyRef(r, node, link);
  }

  static boolean isProxyRef(Ref r, Atom node, int link) {
    return r.node().equals(node) && r.idCount() == 3 && r.id(2) == (REF_MARK | link);
  }

  /** A fresh pid of this link that stands for nothing on the other side (a call in progress). */
  Pid newLocalPid() {
    return new Pid(node, pidIds.getAndIncrement() & 0x0FFFFFFF, link, creation);
  }

  /** The other side's pid a stand-in stands for, or null. */
  Pid foreign(Pid proxy) {
    return pids.reverse(proxy);
  }

  /** The stand-in for the other side's pid {@code p}, if one exists already. */
  Pid proxyIfKnown(Pid foreign) {
    return pids.get(foreign);
  }

  int size() {
    return pids.size() + refs.size();
  }

  // ---- into this cluster -------------------------------------------------------------------

  /** A term from the other side, with its pids and references made local. */
  Term in(Term t) {
    return map(t, true);
  }

  Pid inPid(Pid p) {
    if (exportedPids.contains(p)) {
      return p;
    }
    return pids.getOrCreate(p,
        () -> new Pid(node, pidIds.getAndIncrement() & 0x0FFFFFFF, link, creation));
  }

  Ref inRef(Ref r) {
    if (exportedRefs.contains(r)) {
      return r;
    }
    return refs.getOrCreate(r, () -> {
      int n = refIds.getAndIncrement();
      return new Ref(node, creation, new int[] {n & 0x3FFFF, n >>> 18, REF_MARK | link});
    });
  }

  // ---- out of this cluster -----------------------------------------------------------------

  /** A term for the other side: stand-ins become originals, local ones are given out. */
  Term out(Term t) {
    return map(t, false);
  }

  Pid outPid(Pid p) {
    if (isProxy(p)) {
      Pid f = pids.reverse(p);
      if (f != null) {
        return f;
      }
    }
    exportedPids.add(p);
    return p;
  }

  Ref outRef(Ref r) {
    if (isProxy(r)) {
      Ref f = refs.reverse(r);
      if (f != null) {
        return f;
      }
    }
    exportedRefs.add(r);
    return r;
  }

  /**
   * {@code t} with every pid and reference translated (in or out); the same object when none
   * changes, so terms without pids or references cost a walk and no copy. Iterative (a
   * container is rebuilt after its children, from an explicit stack): terms of any depth that
   * a distribution connection carries cross without overflowing the stack.
   */
  private Term map(Term root, boolean in) {
    java.util.ArrayDeque<Frame> stack = new java.util.ArrayDeque<>();
    Term result = leafOrPush(root, in, stack);
    while (!stack.isEmpty()) {
      Frame f = stack.peek();
      if (f.next < f.children.size()) {
        Term child = f.children.get(f.next);
        Term mapped = leafOrPush(child, in, stack);
        if (mapped != null) {
          f.done(mapped);
        }
        continue;
      }
      stack.pop();
      Term built = f.build();
      if (stack.isEmpty()) {
        result = built;
      } else {
        stack.peek().done(built);
      }
    }
    return result;
  }

  /** A leaf's translation, or null after pushing a container to be done child by child. */
  private Term leafOrPush(Term t, boolean in, java.util.ArrayDeque<Frame> stack) {
    if (t instanceof Pid p) {
      return in ? inPid(p) : outPid(p);
    } else if (t instanceof Ref r) {
      return in ? inRef(r) : outRef(r);
    } else if (t instanceof Tuple || t instanceof ErlList || t instanceof ErlMap) {
      stack.push(new Frame(t));
      return null;
    }
    return t;
  }

  /** A container being translated: its children in order, and their translations so far. */
  private static final class Frame {
    final Term original;
    final List<Term> children;
    final Term[] mapped;
    int next;
    boolean changed;

    Frame(Term t) {
      original = t;
      if (t instanceof Tuple tu) {
        children = tu.elements();
      } else if (t instanceof ErlList l) {
        if (l.isProper()) {
          children = l.elements();
        } else {
          List<Term> c = new ArrayList<>(l.elements());
          c.add(l.tail()); // the tail last
          children = c;
        }
      } else {
        List<Term> c = new ArrayList<>();
        for (Map.Entry<Term, Term> e : ((ErlMap) t).entries().entrySet()) {
          c.add(e.getKey());
          c.add(e.getValue());
        }
        children = c;
      }
      mapped = new Term[children.size()];
    }

    void done(Term m) {
      changed |= m != children.get(next);
      mapped[next++] = m;
    }

    Term build() {
      if (!changed) {
        return original;
      }
      if (original instanceof Tuple) {
        return new Tuple(List.of(mapped));
      } else if (original instanceof ErlList l) {
        if (l.isProper()) {
          return ErlList.of(List.of(mapped));
        }
        List<Term> els = new ArrayList<>(List.of(mapped).subList(0, mapped.length - 1));
        return ErlList.improper(els, mapped[mapped.length - 1]);
      }
      Map<Term, Term> out = new LinkedHashMap<>();
      for (int i = 0; i < mapped.length; i += 2) {
        out.put(mapped[i], mapped[i + 1]);
      }
      return ErlMap.of(out);
    }
  }

  /** A bounded set; the least recently used member goes first. */
  static final class Lru<K> {
    private final LinkedHashMap<K, Boolean> map;

    Lru(int max) {
      this.map = new LinkedHashMap<>(64, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<K, Boolean> e) {
          return size() > max;
        }
      };
    }

    synchronized void add(K k) {
      map.put(k, Boolean.TRUE);
    }

    synchronized boolean contains(K k) {
      return map.get(k) != null;
    }
  }

  /** A bounded two-way map, foreign to stand-in; the least recently used pair goes first. */
  static final class BiLru<K> {
    private final Map<K, K> reverse = new HashMap<>();
    private final LinkedHashMap<K, K> forward;

    BiLru(int max) {
      this.forward = new LinkedHashMap<>(64, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<K, K> e) {
          if (size() > max) {
            reverse.remove(e.getValue());
            return true;
          }
          return false;
        }
      };
    }

    synchronized K get(K foreign) {
      return forward.get(foreign);
    }

    synchronized K reverse(K proxy) {
      K f = reverse.get(proxy);
      if (f != null) {
        forward.get(f); // touch
      }
      return f;
    }

    synchronized K getOrCreate(K foreign, java.util.function.Supplier<K> make) {
      K p = forward.get(foreign);
      if (p == null) {
        p = make.get();
        forward.put(foreign, p);
        reverse.put(p, foreign);
      }
      return p;
    }

    synchronized int size() {
      return forward.size();
    }
  }
}
