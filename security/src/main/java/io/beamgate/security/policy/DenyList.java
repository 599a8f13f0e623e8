package io.beamgate.security.policy;

import java.util.List;
import java.util.Set;

/**
 * Functions no wildcard ever allows: code execution, code loading, spawning, node control,
 * atom creation, indirection through rpc/erpc/apply, and match specifications (which run
 * arbitrary code inside ETS and tracing). Such a function is allowed only by naming it exactly
 * ({@code module:function/arity}) in a rule marked {@code unsafe: true}.
 */
public final class DenyList {
  /** Whole modules. */
  static final Set<String> MODULES = Set.of("os", "file", "code", "erl_eval", "erl_ddll", "init",
      "net_kernel", "rpc", "erpc", "c", "application", "erl_prim_loader", "prim_file", "shell",
      "net_adm", "global", "dbg", "erts_internal", "erlang_debugger", "ssh", "httpc", "inet");

  /** Single functions, any arity unless given as name/arity. */
  static final List<String> FUNCTIONS = List.of("erlang:apply", "erlang:spawn",
      "erlang:spawn_link", "erlang:spawn_monitor", "erlang:spawn_opt", "erlang:spawn_request",
      "erlang:open_port", "erlang:halt", "erlang:set_cookie", "erlang:binary_to_term",
      "erlang:list_to_atom", "erlang:binary_to_atom", "erlang:load_module",
      "erlang:purge_module", "erlang:delete_module", "erlang:process_flag", "erlang:exit",
      "erlang:disconnect_node", "erlang:trace", "erlang:trace_pattern", "erlang:system_flag",
      "erlang:port_command", "erlang:send", "erlang:group_leader", "erlang:make_fun",
      "erlang:match_spec_test", "ets:select", "ets:select_count", "ets:select_delete",
      "ets:select_replace", "ets:select_reverse", "ets:match_spec_run",
      "ets:match_spec_compile", "ets:fun2ms", "ets:repair_continuation", "dets:select",
      "dets:select_delete", "mnesia:select", "timer:apply_after", "timer:apply_interval",
      "proc_lib:spawn", "proc_lib:spawn_link", "proc_lib:start", "gen_server:start",
      "supervisor:start_child", "lists:foreach", "lists:map", "lists:foldl", "lists:filter");

  private static final Set<String> FUNCTION_SET = Set.copyOf(FUNCTIONS);

  private DenyList() {}

  /** Why {@code module:function/arity} is on the deny-list, or null when it is not. */
  public static String reason(String module, String function, int arity) {
    if (MODULES.contains(module)) {
      return "module " + module + " is on the built-in deny-list";
    }
    String mf = module + ":" + function;
    if (FUNCTION_SET.contains(mf)) {
      return mf + " is on the built-in deny-list";
    }
    return null;
  }
}
