package io.beamgate.security.policy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class CallPatternTest {
  static String error(String s) {
    return assertThrows(IllegalArgumentException.class, () -> CallPattern.parse(s))
        .getMessage();
  }

  @Test
  void plainPatternsParseAsBefore() {
    assertEquals(new CallPattern("kv", "get", 1), CallPattern.parse("kv:get/1"));
    assertEquals(new CallPattern("kv", "get", CallPattern.ANY_ARITY), CallPattern.parse("kv:get"));
    assertEquals(new CallPattern("kv", "*", CallPattern.ANY_ARITY), CallPattern.parse("kv:*"));
    assertEquals(new CallPattern("Elixir.KV.Bucket", "get", 2),
        CallPattern.parse("Elixir.KV.Bucket:get/2"));
    assertTrue(CallPattern.parse("kv:*").isModuleWildcard());
    assertEquals(255, CallPattern.parse("kv:f/255").arity());
  }

  @Test
  void quotedNamesReachOperatorsAndRoundTrip() {
    CallPattern bang = CallPattern.parse("erlang:'!'/2");
    assertEquals(new CallPattern("erlang", "!", 2), bang);
    assertTrue(bang.isExact());
    assertTrue(bang.matches("erlang", "!", 2));
    assertFalse(bang.matches("erlang", "send", 2));
    assertEquals("erlang:'!'/2", bang.toString());
    assertEquals(new CallPattern("erlang", "=/=", 2), CallPattern.parse("erlang:'=/='/2"));
    assertEquals(new CallPattern("Elixir.Task.Supervisor", "*", CallPattern.ANY_ARITY),
        CallPattern.parse("'Elixir.Task.Supervisor':*"));
    assertEquals(CallPattern.parse("kv:get/1"), CallPattern.parse("'kv':'get'/1"),
        "quoting a plain name changes nothing");
    for (String s : new String[] {"erlang:'!'/2", "erlang:'=:='/2", "kv:get/1", "kv:*",
        "'a:b':'c/d'/3"}) {
      assertEquals(s, CallPattern.parse(s).toString());
      assertEquals(CallPattern.parse(s), CallPattern.parse(CallPattern.parse(s).toString()));
    }
  }

  @Test
  void badPatternsSayWhatIsExpected() {
    assertTrue(error("erlang:!/2").contains("quote the name"), error("erlang:!/2"));
    assertTrue(error("erlang:'!/2").contains("unterminated quote"));
    assertTrue(error("erlang:'a b'/1").contains("U+0020"));
    assertTrue(error("erlang:'a\\b'/1").contains("U+005C"));
    assertTrue(error("erlang:'*'/2").contains("cannot be named"), "would read as the wildcard");
    assertTrue(error("kv:*/1").contains("takes no arity"));
    assertTrue(error("kv:get/x").contains("not a number"));
    assertTrue(error("kv:get/").contains("not a number"));
    assertTrue(error("kv:get/256").contains("(expected: 0..255)"));
    assertTrue(error("kv:get/1x").contains("not a number"));
    assertTrue(error("kv").contains("expected: module:function/arity"));
    assertTrue(error(":get").contains("empty"));
    assertTrue(error("kv:").contains("empty"));
    assertTrue(error("kv:''/1").contains("empty"));
    assertTrue(error("kv:get/1 ").contains("not a number"));
    assertTrue(error("kv:ge t").contains("character ' ' is not allowed"));
    assertTrue(error("kv:get/1:x").contains("not a number"));
    assertTrue(error("'kv'x:get").contains("expected: module:function"));
    assertTrue(error("k" + "v".repeat(255) + ":get").contains("over-long"));
    assertTrue(error("kv:gét/1").contains("quote the name"));
  }

  @Test
  void theTableMayNameTheMultiplicationOperator() {
    assertEquals(new CallPattern("erlang", "*", 2), CallPattern.parse("erlang:'*'/2", true));
    assertEquals("erlang:'*'/2", CallPattern.parse("erlang:'*'/2", true).toString());
  }
}
