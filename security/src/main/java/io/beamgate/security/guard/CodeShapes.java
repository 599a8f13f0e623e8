package io.beamgate.security.guard;

import io.beamgate.node.term.Atom;
import io.beamgate.node.term.ErlList;
import io.beamgate.node.term.ErlMap;
import io.beamgate.node.term.Int;
import io.beamgate.node.term.Pid;
import io.beamgate.node.term.Ref;
import io.beamgate.node.term.Term;
import io.beamgate.node.term.Tuple;
import io.beamgate.security.policy.Capabilities;
import java.util.ArrayDeque;
import java.util.Map;
import java.util.Set;

/**
 * Finds data that can start code or take control of a process once it reaches the cluster,
 * where funs are only the obvious case (see docs/threat-model.md, "What a rule can give away"):
 *
 * <ul>
 *   <li>MFA-shaped terms that name a denied function, at any depth inside lists, maps and
 *       tuples: {@code {os, cmd, ["id"]}}, {@code {erlang, apply, 3}}, {@code {os, cmd}}, a child
 *       spec whose start is such a triple. Servers that apply an MFA they are sent, Agents and
 *       supervisors run them; a triple naming a function that is not denied passes.
 *   <li>In messages (sends to a registered name or a pid), the requests of the known protocols
 *       that start code or rewrite a process: supervisor and DynamicSupervisor child starts
 *       and restarts, Task.Supervisor's {@code start_task}, Agent's MFA forms, gen_event handler
 *       changes, OTP system messages ({@code {system, From, Request}}: sys:replace_state,
 *       log_to_file, suspend...), and messages shaped as exit signals
 *       ({@code {'EXIT', Pid, Reason}}, which a process trapping exits takes for its parent's).
 * </ul>
 *
 * <p>Iterative: no nesting overflows the stack. A rule marked {@code unsafe: true} skips this
 * check (its author named the risk); nothing else does.
 */
public final class CodeShapes {
  /** A term that could start code, and where it is ({@code message{2}[0]}, say). */
  public record Finding(String reason, String path) {
    @Override
    public String toString() {
      return reason + (path == null ? "" : " at " + path);
    }
  }

  /** gen_server/gen_statem requests (in {@code $gen_call} and {@code $gen_cast}) that start code. */
  static final Set<String> STARTING_REQUESTS = Set.of(
      "start_child", // supervisor, DynamicSupervisor: a child spec's start MFA runs
      "restart_child", // supervisor: runs the stored start MFA again
      "start_task", // Task.Supervisor (async, async_nolink, start_child): the MFA follows
      "terminate_child", "delete_child"); // supervisors: stop or drop another's children

  /** Agent's requests that apply {M, F, A} inside the Agent (Agent.get(agent, M, F, A)...). */
  static final Set<String> AGENT_REQUESTS = Set.of("get", "update", "get_and_update", "cast");

  /** gen_event's requests that install or swap handler modules (which then run). */
  static final Set<String> EVENT_REQUESTS = Set.of("add_handler", "add_sup_handler",
      "swap_handler", "swap_sup_handler", "delete_handler");

  private CodeShapes() {}

  /** A term to look at, and where it is. */
  private record Item(Term term, TermPath at) {}

  /** The first code-shaped term in the arguments of a call, or null. */
  public static Finding inArguments(java.util.List<Term> args) {
    for (int i = 0; i < args.size(); i++) {
      Finding f = scan(args.get(i), "args[" + i + "]");
      if (f != null) {
        return f;
      }
    }
    return null;
  }

  /** The first reason why {@code message}, sent to a process, could start code, or null. */
  public static Finding inMessage(Term message) {
    Finding f = protocol(message);
    return f != null ? f : scan(message, "message");
  }

  /** Messages of the protocols that start code or take control of their receiver. */
  static Finding protocol(Term message) {
    if (!(message instanceof Tuple t) || t.arity() == 0) {
      return null;
    }
    if (t.isTagged("system", 3)) {
      return new Finding("an OTP system message (sys: replace_state, log_to_file, suspend..."
          + " take control of the process)", "message");
    }
    if (t.isTagged("EXIT", 3) && t.get(1) instanceof Pid) {
      return new Finding("a message shaped as an exit signal ({'EXIT', Pid, Reason}: a process"
          + " trapping exits takes it for its parent's)", "message");
    }
    Term request = null;
    String path = null;
    if (t.isTagged("$gen_call", 3)) {
      request = t.get(2);
      path = "message{2}";
    } else if (t.isTagged("$gen_cast", 2)) {
      request = t.get(1);
      path = "message{1}";
    } else if (t.arity() == 3 && t.get(0) instanceof Pid && t.get(1) instanceof Ref) {
      request = t.get(2); // gen_event's {From, Tag, Request}
      path = "message{2}";
      if (request instanceof Tuple r && r.arity() > 0 && r.get(0) instanceof Atom tag
          && EVENT_REQUESTS.contains(tag.name())) {
        return new Finding("a gen_event " + tag.name() + " request (installs a handler module,"
            + " which then runs)", path);
      }
      return null;
    }
    if (!(request instanceof Tuple r) || r.arity() == 0 || !(r.get(0) instanceof Atom tag)) {
      return null;
    }
    if (STARTING_REQUESTS.contains(tag.name())) {
      return new Finding("a " + tag.name() + " request (supervisors and Task.Supervisor start"
          + " or stop code named in it)", path);
    }
    if (AGENT_REQUESTS.contains(tag.name()) && r.arity() == 2 && isMfa(r.get(1))) {
      return new Finding("an Agent " + tag.name() + " request with {M, F, A} (the Agent applies"
          + " it)", path + "{1}");
    }
    if (EVENT_REQUESTS.contains(tag.name())) {
      return new Finding("a gen_event " + tag.name() + " request (installs a handler module,"
          + " which then runs)", path);
    }
    return null;
  }

  /** {M, F, Args} with atoms and a proper list: what apply/3 and the Agent take. */
  private static boolean isMfa(Term t) {
    return t instanceof Tuple tu && tu.arity() == 3 && tu.get(0) instanceof Atom
        && tu.get(1) instanceof Atom && tu.get(2) instanceof ErlList l && l.isProper();
  }

  /** The first MFA-shaped term naming a denied function, anywhere in {@code root}. */
  static Finding scan(Term root, String rootPath) {
    ArrayDeque<Item> work = new ArrayDeque<>();
    work.push(new Item(root, TermPath.root(rootPath)));
    while (!work.isEmpty()) {
      Item it = work.pop();
      Term t = it.term();
      if (t instanceof Tuple tu) {
        String denied = deniedMfa(tu);
        if (denied != null) {
          return new Finding(denied, it.at().toString());
        }
        for (int i = tu.arity() - 1; i >= 0; i--) {
          work.push(new Item(tu.get(i), it.at().child("{" + i + "}")));
        }
      } else if (t instanceof ErlList l) {
        if (!l.isProper()) {
          work.push(new Item(l.tail(), it.at().child("|tail")));
        }
        for (int i = l.size() - 1; i >= 0; i--) {
          work.push(new Item(l.get(i), it.at().child("[" + i + "]")));
        }
      } else if (t instanceof ErlMap m) {
        for (Map.Entry<Term, Term> e : m.entries().entrySet()) {
          work.push(new Item(e.getKey(), it.at().child("#key")));
          work.push(new Item(e.getValue(), it.at().key("#{%}", e.getKey())));
        }
      }
    }
    return null;
  }

  /**
   * Why a tuple names a denied function as {@code {M, F, Args}}, {@code {M, F, Arity}} or
   * {@code {M, F}}, or null. Only tuples whose first two elements are atoms qualify.
   */
  static String deniedMfa(Tuple t) {
    if ((t.arity() != 2 && t.arity() != 3) || !(t.get(0) instanceof Atom m)
        || !(t.get(1) instanceof Atom f)) {
      return null;
    }
    String reason = null;
    if (t.arity() == 3) {
      int arity = -1;
      if (t.get(2) instanceof ErlList l && l.isProper()) {
        arity = l.size();
      } else if (t.get(2) instanceof Int a && a.value() >= 0 && a.value() <= 255) {
        arity = (int) a.value();
      }
      if (arity >= 0) {
        reason = Capabilities.reason(m.name(), f.name(), arity);
      }
    } else {
      reason = deniedAnyArity(m.name(), f.name());
    }
    return reason == null ? null : "{" + m.name() + ", " + f.name() + (t.arity() == 3
        ? ", ...}" : "}") + " names a function that starts code or is denied (" + reason + ")";
  }

  private static final Set<String> PER_FUNCTION = Capabilities.perFunctionModules();

  /**
   * Denied at some arity: {@code {M, F}} is how some servers take a function to apply. In a
   * module classified function by function ({@code erlang}), only functions the table lists
   * as denied count ({@code {erlang, abs}} is data; {@code {erlang, apply}} is not).
   * {@code {global, Name}} names a process (gen_server's global form) and is data.
   */
  private static String deniedAnyArity(String m, String f) {
    if (m.equals("global")) {
      return null;
    }
    boolean perFunction = PER_FUNCTION.contains(m);
    for (int a = 0; a <= 8; a++) {
      if (perFunction && !Capabilities.classified(m, f, a)) {
        continue;
      }
      String r = Capabilities.reason(m, f, a);
      if (r != null) {
        return r;
      }
    }
    return null;
  }
}
