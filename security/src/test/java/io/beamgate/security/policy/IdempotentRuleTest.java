package io.beamgate.security.policy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** A rule's idempotent key: off by default, and warnings where it promises too much. */
class IdempotentRuleTest {
  static String policy(String calls, String extra) {
    return "version: 1\nrules:\n  - id: app\n    principals: [\"dns:c.example.org\"]\n"
        + "    " + calls + "\n" + extra;
  }

  @Test
  void offByDefaultAndReadWhenSet() throws Exception {
    PolicyFile.Loaded l = PolicyFile.parse("p.yaml", policy("calls: [\"kv:get/1\"]", ""));
    assertFalse(l.policy().rules().get(0).idempotent());
    l = PolicyFile.parse("p.yaml", policy("calls: [\"kv:get/1\"]", "    idempotent: true\n"));
    assertTrue(l.policy().rules().get(0).idempotent());
    assertTrue(l.warnings().isEmpty(), l.warnings().toString());
  }

  @Test
  void overAWildcardOrOnSendsOnlyItIsAWarningAtItsLine() throws Exception {
    PolicyFile.Loaded l = PolicyFile.parse("p.yaml", policy("calls: [\"kv:*\"]",
        "    idempotent: true\n"));
    assertEquals(1, l.warnings().size(), l.warnings().toString());
    assertTrue(l.warnings().get(0).startsWith("p.yaml:6: idempotent: rule 'app' marks the"
        + " wildcard kv:* idempotent"), l.warnings().get(0));
    l = PolicyFile.parse("p.yaml", policy("sends: [kv_server]", "    idempotent: true\n"));
    assertTrue(l.warnings().get(0).contains("allows sends only"), l.warnings().toString());
  }

  @Test
  void aValueThatIsNotABooleanIsAnError() {
    assertThrows(PolicyException.class, () -> PolicyFile.parse("p.yaml",
        policy("calls: [\"kv:get/1\"]", "    idempotent: sometimes\n")));
  }
}
