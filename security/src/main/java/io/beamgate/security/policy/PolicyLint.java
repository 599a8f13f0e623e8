package io.beamgate.security.policy;

import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Findings about a policy that loads but may give away more than its author meant: sends to
 * processes that start code or control the node, and rules that repeat one another. Each is a
 * warning, not an error: an admin may mean it (see SECURITY-NOTES "What a rule can give away").
 */
final class PolicyLint {
  /**
   * OTP processes a message can make run code or change the node: the kernel's and stdlib's
   * servers (code loading, rpc, the application controller, the file and port servers, the
   * node's distribution), logging, and the I/O servers.
   */
  static final Set<String> SYSTEM_PROCESSES = Set.of("init", "rex", "code_server",
      "application_controller", "kernel_sup", "kernel_safe_sup", "logger", "error_logger",
      "user", "user_drv", "standard_error", "global_name_server", "global_group", "net_kernel",
      "auth", "erl_prim_loader", "file_server_2", "inet_db", "timer_server",
      "erts_code_purger", "erl_signal_server");

  private PolicyLint() {}

  /**
   * Why a {@code sends} rule to the process registered as {@code name} can start code or
   * control the node, or null when nothing is known against it.
   */
  static String sendRisk(String name) {
    if (SYSTEM_PROCESSES.contains(name)) {
      return "an OTP system process: a message to it can load or run code or control the"
          + " node; a sends rule to such a process can start arbitrary code";
    }
    // _sup (Erlang's habit), and Elixir's Supervisor, TaskSupervisor, DynamicSupervisor...
    String lower = name.toLowerCase(Locale.ROOT);
    if (lower.endsWith("_sup") || lower.endsWith("supervisor")) {
      return "which looks like a supervisor: a message to it can start any child spec or"
          + " Task.Supervisor MFA, so a sends rule to it can start arbitrary code; allow a"
          + " call to a function that starts exactly what you mean instead";
    }
    return null;
  }

  /**
   * Warnings for {@code idempotent: true}: it says nothing of sends (clients never retry
   * them), and over a wildcard it promises that functions nobody has looked at, including
   * those added later, may run twice.
   */
  static List<String> idempotent(String at, String id, List<CallPattern> calls,
      Set<String> sends) {
    List<String> out = new java.util.ArrayList<>();
    if (calls.isEmpty()) {
      out.add(at + ": idempotent: rule '" + id + "' allows sends only; idempotent applies to"
          + " calls (clients never retry a send): remove it");
    }
    for (CallPattern c : calls) {
      if (!c.isExact()) {
        out.add(at + ": idempotent: rule '" + id + "' marks the wildcard " + c + " idempotent:"
            + " clients may run any function it matches twice, including ones added later;"
            + " name the functions (module:function/arity) in a rule of their own");
      }
    }
    return out;
  }

  /**
   * A warning for every rule that names the same principals and allows the same calls and
   * sends as an earlier one: the first decides every request, so the second only misleads.
   * A permissive rule and a plain one are not the same (the permissive one decides denials).
   */
  static List<String> sameRules(String file, List<Rule> rules, List<Integer> lines) {
    Map<List<Set<?>>, Integer> seen = new HashMap<>();
    List<String> out = new java.util.ArrayList<>();
    for (int i = 0; i < rules.size(); i++) {
      Rule r = rules.get(i);
      List<Set<?>> key = List.of(new HashSet<>(r.principals()), new HashSet<>(r.calls()),
          new HashSet<>(r.sends()), Set.of(r.permissive()));
      Integer first = seen.putIfAbsent(key, i);
      if (first != null) {
        Rule f = rules.get(first);
        out.add(file + ":" + lines.get(i) + ": id: rule '" + r.id() + "' names the same"
            + " principals and allows the same calls and sends as rule '" + f.id()
            + "' (line " + lines.get(first) + "); the first decides every request, so '"
            + r.id() + "' never does: remove one or merge them");
      }
    }
    return out;
  }
}
