package io.beamgate.node;

import io.beamgate.node.term.Atom;
import io.beamgate.node.term.ErlList;
import io.beamgate.node.term.Pid;
import io.beamgate.node.term.Ref;
import io.beamgate.node.term.Term;
import io.beamgate.node.term.Tuple;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Iterator;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Predicate;

/**
 * A Java process on a {@link LocalNode}: it has a pid, optionally a registered name, and a
 * bounded queue of received messages. Exit signals from linked or killing processes arrive as
 * {@code {'EXIT', From, Reason}} messages: a mailbox always traps exits. Thread-safe.
 */
public final class Mailbox implements AutoCloseable {
  private final LocalNode node;
  private final Pid self;
  private final String name;
  private final int capacity;
  private final ReentrantLock lock = new ReentrantLock();
  private final Condition arrived = lock.newCondition();
  private final ArrayDeque<Term> queue = new ArrayDeque<>();
  private final ArrayDeque<CompletableFuture<Term>> waiters = new ArrayDeque<>();
  final Set<Pid> links = ConcurrentHashMap.newKeySet();
  final Set<String> monitoredNodes = ConcurrentHashMap.newKeySet();
  /** Remote processes monitoring this one: monitor reference to (watcher, name used or null). */
  final java.util.Map<Ref, Watcher> watchers = new ConcurrentHashMap<>();

  record Watcher(Pid pid, Atom byName) {}

  /** A monitor this mailbox holds on a remote process: its node, and the process as DOWN names it. */
  record Monitored(String node, Term proc) {}

  final java.util.Map<Ref, Monitored> monitoring = new ConcurrentHashMap<>();
  private final MessageHandler handler;
  private volatile boolean closed;

  Mailbox(LocalNode node, Pid self, String name, int capacity, MessageHandler handler) {
    this.node = node;
    this.self = self;
    this.name = name;
    this.capacity = capacity;
    this.handler = handler;
  }

  public Pid self() {
    return self;
  }

  public Optional<String> name() {
    return Optional.ofNullable(name);
  }

  public LocalNode node() {
    return node;
  }

  /** Sends {@code msg} to a pid, local or remote. Like {@code !}, it never fails for a dead pid. */
  public void send(Pid to, Term msg) {
    node.send(self, to, msg);
  }

  /** Sends {@code msg} to the process registered as {@code name} on {@code nodeName}. */
  public void send(String name, String nodeName, Term msg) {
    node.sendRegistered(self, Atom.of(name), nodeName, msg);
  }

  /** Sends {@code msg} to a process alias (OTP 24+), as {@code Alias ! Msg}. */
  public void sendAlias(Ref alias, Term msg) {
    node.sendAlias(self, alias, msg);
  }

  /**
   * Answers a {@code gen_server:call}, as OTP's {@code gen:reply/2}: {@code from} is the call's
   * {@code {Pid, Tag}}; the reply {@code {Tag, Reply}} goes to the alias when the tag carries one
   * ({@code [alias | Ref]}, OTP 24+), so a caller whose call timed out (and dropped the alias)
   * never finds a late reply in its mailbox; else to the pid. Returns false (and sends nothing)
   * when {@code from} is not a {@code {Pid, Tag}}.
   */
  public boolean reply(Term from, Term reply) {
    if (!(from instanceof Tuple t) || t.arity() != 2 || !(t.get(0) instanceof Pid pid)) {
      return false;
    }
    Term tag = t.get(1);
    Tuple msg = Tuple.of(tag, reply);
    Optional<Ref> alias = replyAlias(tag);
    if (alias.isPresent()) {
      sendAlias(alias.get(), msg);
    } else {
      send(pid, msg);
    }
    return true;
  }

  /** The alias in a call tag {@code [alias | Ref]} or {@code [[alias | Ref] | _]}, if any. */
  public static Optional<Ref> replyAlias(Term tag) {
    if (tag instanceof ErlList l && !l.isProper() && l.size() == 1) {
      if (l.get(0) instanceof Atom a && a.name().equals("alias") && l.tail() instanceof Ref r) {
        return Optional.of(r);
      }
    }
    if (tag instanceof ErlList l && !l.isEmpty() && l.get(0) instanceof ErlList inner
        && !inner.isProper() && inner.size() == 1 && inner.get(0) instanceof Atom a
        && a.name().equals("alias") && inner.tail() instanceof Ref r) {
      return Optional.of(r);
    }
    return Optional.empty();
  }

  /** Makes an alias: messages sent to it arrive here until {@link #unalias}. */
  public Ref alias() {
    return node.createAlias(this);
  }

  public void unalias(Ref alias) {
    node.removeAlias(alias, this);
  }

  /** Delivers {@code {nodedown, Node}} here when the connection to {@code nodeName} goes down. */
  public void monitorNode(String nodeName) {
    monitoredNodes.add(nodeName);
    node.ensureConnectedForMonitor(this, nodeName);
  }

  public void demonitorNode(String nodeName) {
    monitoredNodes.remove(nodeName);
  }

  /**
   * Monitors a process ({@code erlang:monitor(process, Pid)}): when it exits, or the
   * connection to its node goes down, {@code {'DOWN', Ref, process, Pid, Reason}} arrives here.
   */
  public Ref monitor(Pid target) {
    return node.monitor(this, target, target.node().name());
  }

  /** Monitors the process registered as {@code name} on {@code nodeName}. */
  public Ref monitor(String name, String nodeName) {
    return node.monitor(this, Atom.of(name), nodeName);
  }

  /** Removes a monitor; a DOWN already queued stays queued. */
  public void demonitor(Ref ref) {
    node.demonitor(this, ref);
  }

  /** Links to a remote process: an exit of either side reaches the other. */
  public void link(Pid to) {
    node.link(this, to);
  }

  public void unlink(Pid to) {
    node.unlink(this, to);
  }

  /** The next message; waits for one. */
  public Term receive() throws InterruptedException {
    return receive(t -> true, null);
  }

  /** The next message, or null if none arrives within {@code timeout}. */
  public Term receive(Duration timeout) throws InterruptedException {
    return receive(t -> true, timeout);
  }

  /**
   * The first queued message matching {@code match} (a selective receive), waiting up to
   * {@code timeout} (null: forever); null on timeout. Other messages stay queued in order.
   */
  public Term receive(Predicate<Term> match, Duration timeout) throws InterruptedException {
    long deadline = timeout == null ? Long.MAX_VALUE : System.nanoTime() + timeout.toNanos();
    lock.lockInterruptibly();
    try {
      while (true) {
        for (Iterator<Term> it = queue.iterator(); it.hasNext(); ) {
          Term t = it.next();
          if (match.test(t)) {
            it.remove();
            return t;
          }
        }
        if (closed) {
          throw new IllegalStateException("mailbox " + self + " is closed");
        }
        if (timeout == null) {
          arrived.await();
        } else {
          long left = deadline - System.nanoTime();
          if (left <= 0) {
            return null;
          }
          arrived.awaitNanos(left);
        }
      }
    } finally {
      lock.unlock();
    }
  }

  /** The next message, asynchronously. */
  public CompletableFuture<Term> receiveAsync() {
    lock.lock();
    try {
      Term t = queue.poll();
      if (t != null) {
        return CompletableFuture.completedFuture(t);
      }
      CompletableFuture<Term> f = new CompletableFuture<>();
      if (closed) {
        f.completeExceptionally(new IllegalStateException("mailbox " + self + " is closed"));
      } else {
        waiters.add(f);
      }
      return f;
    } finally {
      lock.unlock();
    }
  }

  /** The number of queued messages. */
  public int size() {
    lock.lock();
    try {
      return queue.size();
    } finally {
      lock.unlock();
    }
  }

  /** Queues a message; false when the mailbox is full or closed (the message is dropped). */
  boolean deliver(Term msg) {
    if (handler != null) {
      if (closed) {
        return false;
      }
      node.runHandler(handler, this, msg);
      return true;
    }
    CompletableFuture<Term> waiter;
    lock.lock();
    try {
      if (closed) {
        return false;
      }
      waiter = waiters.poll();
      while (waiter != null && waiter.isDone()) {
        waiter = waiters.poll();
      }
      if (waiter == null) {
        if (queue.size() >= capacity) {
          return false;
        }
        queue.add(msg);
        arrived.signalAll();
        return true;
      }
    } finally {
      lock.unlock();
    }
    waiter.complete(msg);
    return true;
  }

  public boolean isClosed() {
    return closed;
  }

  /** Closes the mailbox: unregisters it and sends exit {@code normal} to linked processes. */
  @Override
  public void close() {
    exit(Atom.of("normal"));
  }

  /** Closes the mailbox, sending {@code reason} to linked processes. */
  public void exit(Term reason) {
    lock.lock();
    try {
      if (closed) {
        return;
      }
      closed = true;
      arrived.signalAll();
      for (CompletableFuture<Term> w : waiters) {
        w.completeExceptionally(new IllegalStateException("mailbox " + self + " is closed"));
      }
      waiters.clear();
    } finally {
      lock.unlock();
    }
    node.closed(this, reason);
  }

  @Override
  public String toString() {
    return "Mailbox" + (name != null ? "[" + name + "]" : "") + self;
  }
}
