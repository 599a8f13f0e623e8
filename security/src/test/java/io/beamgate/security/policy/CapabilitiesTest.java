package io.beamgate.security.policy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.beamgate.security.policy.Capabilities.Need;
import org.junit.jupiter.api.Test;

class CapabilitiesTest {
  /** What issue 11 found reachable through erlang:*, and its neighbours. */
  static final String[] DENIED = {
      "erlang:'!'/2", "erlang:send/2", "erlang:send/3", "erlang:send_nosuspend/2",
      "erlang:send_nosuspend/3", "erlang:send_after/3", "erlang:send_after/4",
      "erlang:start_timer/3", "erlang:start_timer/4", "erlang:cancel_timer/1",
      "erlang:hibernate/3", "erlang:exit/1", "erlang:exit/2", "erlang:link/1",
      "erlang:unlink/1", "erlang:monitor/2", "erlang:monitor/3", "erlang:demonitor/1",
      "erlang:group_leader/0", "erlang:group_leader/2", "erlang:register/2",
      "erlang:unregister/1", "erlang:whereis/1", "erlang:process_flag/2",
      "erlang:process_flag/3", "erlang:suspend_process/1", "erlang:resume_process/1",
      "erlang:halt/0", "erlang:halt/2", "erlang:garbage_collect/0",
      "erlang:garbage_collect/1", "erlang:alias/0", "erlang:get_cookie/0",
      "erlang:get_cookie/1", "erlang:set_cookie/2", "erlang:apply/2", "erlang:apply/3",
      "erlang:spawn/3", "erlang:spawn_request/5", "erlang:open_port/2",
      "erlang:list_to_atom/1", "erlang:binary_to_atom/2", "erlang:binary_to_term/1",
      "erlang:list_to_pid/1", "erlang:process_info/2", "erlang:system_flag/2",
      "erlang:trace/3", "erlang:load_module/2", "erlang:disconnect_node/1",
      "erlang:nodes/0", "erlang:self/0", "erlang:put/2", "erlang:display/1",
      "timer:send_after/3", "timer:send_interval/2", "timer:exit_after/2",
      "timer:kill_after/1", "timer:apply_after/4", "timer:apply_interval/4", "timer:tc/3",
      "gen_server:call/2", "gen_server:cast/2", "gen_server:reply/2",
      "gen_server:multi_call/2", "gen_server:abcast/2", "gen_statem:call/2",
      "gen_statem:cast/2", "gen_event:notify/2", "gen_event:sync_notify/2",
      "gen_event:call/3", "gen:call/3", "sys:get_state/1", "sys:replace_state/2",
      "sys:suspend/1", "proc_lib:spawn/1", "proc_lib:start/3", "supervisor:start_child/2",
      "global:send/2", "global:register_name/2", "pg:join/2", "io:format/2", "io:put_chars/2",
      "os:cmd/1", "file:read_file/1", "code:load_binary/3", "init:stop/0", "rpc:call/4",
      "erpc:call/4", "ets:lookup/2", "persistent_term:get/1", "application:get_env/2",
      "net_kernel:connect_node/1", "erts_internal:spawn_request/4", "zlib:uncompress/1",
      "'Elixir.Process':send/3", "'Elixir.Kernel':send/2", "'Elixir.Kernel':apply/3",
      "'Elixir.Kernel':spawn/1", "'Elixir.GenServer':call/2", "'Elixir.GenServer':cast/2",
      "'Elixir.Agent':get/2", "'Elixir.Agent':start/3", "'Elixir.Task':async/3",
      "'Elixir.Task.Supervisor':start_child/3", "'Elixir.System':cmd/2",
      "'Elixir.Code':eval_string/1", "'Elixir.File':read/1", "'Elixir.Port':open/2",
      "'Elixir.Node':spawn/2", "'Elixir.String':to_atom/1", "lists:map/2",
      "lists:foreach/2", "io_lib:fread/2"};

  static final String[] SAFE = {
      "erlang:abs/1", "erlang:'+'/2", "erlang:'=:='/2", "erlang:'band'/2",
      "erlang:element/2", "erlang:integer_to_list/1", "erlang:integer_to_list/2",
      "erlang:list_to_tuple/1", "erlang:term_to_binary/1", "erlang:list_to_existing_atom/1",
      "erlang:binary_to_existing_atom/2", "erlang:phash2/1", "erlang:node/0",
      "erlang:monotonic_time/0", "erlang:error/2", "timer:sleep/1", "timer:seconds/1",
      "timer:hms/3", "kv:get/1", "lists:reverse/1", "maps:get/2", "math:sqrt/1",
      "'Elixir.String':upcase/1"};

  static CallPattern mfa(String s) {
    return CallPattern.parse(s);
  }

  @Test
  void whatSendsSignalsOrReadsSecretsIsDenied() {
    for (String s : DENIED) {
      CallPattern c = mfa(s);
      assertTrue(Capabilities.denied(c.module(), c.function(), c.arity()), s);
      String why = Capabilities.reason(c.module(), c.function(), c.arity());
      assertTrue(why != null && why.startsWith(Capabilities.deniedWhole(c.module())
          ? "module " + CallPattern.quote(c.module()) + " is denied whole (" : c + " is denied ("),
          s + ": " + why);
      assertEquals(why, DenyList.reason(c.module(), c.function(), c.arity()), "old API");
    }
  }

  @Test
  void pureFunctionsAndApplicationModulesAreNot() {
    for (String s : SAFE) {
      CallPattern c = mfa(s);
      assertFalse(Capabilities.denied(c.module(), c.function(), c.arity()), s);
      assertNull(Capabilities.reason(c.module(), c.function(), c.arity()), s);
    }
  }

  @Test
  void reasonsNameTheCategory() {
    assertEquals("erlang:send_nosuspend/2 is denied (send: sends a message to any process,"
        + " by pid or registered name, bypassing the sends rules)",
        Capabilities.reason("erlang", "send_nosuspend", 2));
    assertTrue(Capabilities.reason("erlang", "get_cookie", 0).contains("(secret:"));
    assertTrue(Capabilities.reason("erlang", "start_timer", 3).contains("(timer:"));
    assertEquals("module os is denied whole (os: runs shell commands (os:cmd), reads and sets"
        + " the environment)", Capabilities.reason("os", "cmd", 1));
    assertTrue(Capabilities.reason("Elixir.Agent", "get", 2).startsWith(
        "module Elixir.Agent is denied whole (spawn:"));
    assertTrue(Capabilities.reason("erlang", "future_bif", 2).contains(
        "is denied (unclassified: module erlang is classified function by function"),
        "fail closed");
    assertTrue(Capabilities.reason("timer", "new_in_otp_99", 1).contains("not classified"));
  }

  @Test
  void dangerousModulesAreTheOnesTheGatewayMustNotLetAnMfaName() {
    for (String m : new String[] {"erlang", "erts_internal", "os", "file", "code", "init", "sys",
        "proc_lib", "gen", "gen_server", "gen_statem", "gen_event", "supervisor", "timer",
        "global", "pg", "rpc", "erpc", "io", "ets", "dets", "mnesia", "persistent_term",
        "application", "net_kernel", "inet", "gen_tcp", "gen_udp", "socket", "peer", "slave",
        "logger", "disk_log", "erl_eval", "erl_prim_loader", "prim_file", "zlib", "atomics",
        "counters", "erl_tracer", "Elixir.System", "Elixir.Code", "Elixir.File",
        "Elixir.Port", "Elixir.Process", "Elixir.Node", "Elixir.Kernel", "Elixir.Agent",
        "Elixir.Task", "Elixir.Task.Supervisor", "Elixir.GenServer", "Elixir.Supervisor",
        "Elixir.DynamicSupervisor", "Elixir.Application", "Elixir.Module", "Elixir.IEx"}) {
      assertTrue(Capabilities.dangerousModule(m), m);
    }
    for (String m : new String[] {"kv", "lists", "maps", "math", "Elixir.String", "Elixir.KV"}) {
      assertFalse(Capabilities.dangerousModule(m), m);
    }
    assertTrue(Capabilities.deniedWhole("os") && !Capabilities.deniedWhole("erlang"));
  }

  @Test
  void whatEachPatternNeedsToLoad() {
    assertEquals(Need.UNSAFE, Capabilities.admission(mfa("erlang:*")).need());
    assertTrue(Capabilities.admission(mfa("erlang:*")).reason().contains(
        "functions the capability table classifies safe"));
    assertEquals(Need.REFUSED, Capabilities.admission(mfa("os:*")).need());
    assertEquals(Need.REFUSED, Capabilities.admission(mfa("'Elixir.Agent':*")).need());
    assertEquals(Need.REFUSED, Capabilities.admission(mfa("gen_server:call")).need());
    assertEquals(Need.REFUSED, Capabilities.admission(mfa("erlang:send")).need());
    assertEquals(Need.REFUSED, Capabilities.admission(mfa("erlang:no_such_bif")).need());
    assertEquals(Need.REFUSED, Capabilities.admission(mfa("lists:map")).need());
    assertEquals(Need.NOTHING, Capabilities.admission(mfa("erlang:integer_to_list")).need());
    assertEquals(Need.NOTHING, Capabilities.admission(mfa("erlang:abs/1")).need());
    assertEquals(Need.UNSAFE, Capabilities.admission(mfa("erlang:send_after/3")).need());
    assertEquals(Need.UNSAFE, Capabilities.admission(mfa("os:cmd/1")).need());
    assertEquals(Need.NOTHING, Capabilities.admission(mfa("lists:*")).need());
    assertEquals(Need.NOTHING, Capabilities.admission(mfa("kv:*")).need());
    // A function with safe and denied arities (none in today's table): m:f needs unsafe and
    // covers only the safe arity; the same in a module left to the policy.
    CapabilityTable t = CapabilityTable.parse("category send sends\nper-function m why\n"
        + "m:f/1 safe\nm:f/2 send\nkv:del/2 send\n");
    assertEquals("send", t.verdict("m", "f", 2));
    assertNull(t.verdict("m", "f", 3));
    assertFalse(t.denied("m", "f", 1));
    assertTrue(t.denied("m", "f", 2) && t.denied("m", "f", 3));
    Capabilities.Admission a = t.admission(mfa("m:f"));
    assertEquals(Need.UNSAFE, a.need());
    assertEquals("'m:f' matches denied arities [2]; it covers only the safe ones [1]", a.reason());
    assertTrue(t.wildcardNeedsUnsafe(mfa("m:f")) && t.wildcardNeedsUnsafe(mfa("m:*")));
    assertEquals(Need.REFUSED, t.admission(mfa("m:g")).need());
    assertEquals(Need.UNSAFE, t.admission(mfa("kv:del")).need());
    assertTrue(t.wildcardNeedsUnsafe(mfa("kv:del")));
    assertEquals(Need.NOTHING, t.admission(mfa("kv:*")).need());
    assertFalse(t.wildcardNeedsUnsafe(mfa("kv:*")) || t.wildcardNeedsUnsafe(mfa("kv:get")));
    assertTrue(t.denied("kv", "del", 2) && !t.denied("kv", "del", 1));
  }

  @Test
  void aBrokenTableIsRefusedWithItsLine() {
    String head = "category send sends a message\nper-function erlang bifs\n";
    assertTrue(bad(head + "erlang:f/1 sned\n").startsWith(
        "capabilities.txt:3: category 'sned' is not declared"));
    assertTrue(bad(head + "erlang:f/1 safe\nerlang:f/1 send\n").contains(":4: erlang:f/1:"
        + " listed twice"));
    assertTrue(bad(head + "erlang:f safe\n").contains("no arity"));
    assertTrue(bad(head + "erlang:f send\n").contains("no arity"), "per-function: exact");
    assertTrue(bad(head + "kv:f/1 safe\n").contains("left to the policy"));
    assertTrue(bad(head + "deny-module os send why\nos:cmd/1 send\n").contains("denied whole"));
    assertTrue(bad(head + "deny-module os\n").contains("too few fields"));
    assertTrue(bad(head + "per-function erlang again\n").contains("listed twice"));
    assertTrue(bad(head + "category safe x\n").contains("reserved"));
    assertTrue(bad(head + "erlang:* send\n").contains("a wildcard"));
    assertTrue(bad(head + "erlang:'!/2 send\n").contains("unterminated quote"));
  }

  static String bad(String table) {
    return assertThrows(IllegalArgumentException.class, () -> CapabilityTable.parse(table))
        .getMessage();
  }
}
