package io.beamgate.security.guard;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.beamgate.node.term.Atom;
import io.beamgate.node.term.ErlList;
import io.beamgate.node.term.ErlMap;
import io.beamgate.node.term.Int;
import io.beamgate.node.term.Pid;
import io.beamgate.node.term.Ref;
import io.beamgate.node.term.Term;
import io.beamgate.node.term.Tuple;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class CodeShapesTest {
  static final Pid PID = new Pid(Atom.of("b@h"), 1, 0, 1);
  static final Ref REF = new Ref(Atom.of("b@h"), 1, new int[] {1, 2, 3});

  static Atom a(String s) {
    return Atom.of(s);
  }

  static Tuple osCmd() {
    return Tuple.of(a("os"), a("cmd"), ErlList.of(Term.binary("id")));
  }

  static Tuple genCall(Term request) {
    return Tuple.of(a("$gen_call"), Tuple.of(PID, ErlList.improper(List.of(a("alias")), REF)),
        request);
  }

  @Test
  void mfasNamingDeniedFunctionsAreFoundAtAnyDepth() {
    assertNotNull(CodeShapes.inArguments(List.of(osCmd())));
    CodeShapes.Finding f = CodeShapes.inArguments(List.of(a("ok"),
        ErlList.of(Int.of(1), ErlMap.of(Map.of(a("start"), Tuple.of(a("x"), osCmd()))))));
    assertNotNull(f);
    assertEquals("args[1][1]#{start}{1}", f.path());
    assertNotNull(CodeShapes.inArguments(List.of(Tuple.of(a("erlang"), a("apply"),
        ErlList.of(a("os"), a("cmd"), ErlList.NIL)))));
    assertNotNull(CodeShapes.inArguments(List.of(Tuple.of(a("erlang"), a("apply"), Int.of(3)))));
    assertNotNull(CodeShapes.inArguments(List.of(Tuple.of(a("os"), a("cmd")))));
    // in an improper list's tail, and as a map key
    assertNotNull(CodeShapes.inArguments(List.of(ErlList.improper(List.of(Int.of(1)),
        osCmd()))));
    assertNotNull(CodeShapes.inArguments(List.of(ErlMap.of(Map.of(osCmd(), a("v"))))));
  }

  @Test
  void dataThatOnlyLooksLikeAnMfaPasses() {
    assertNull(CodeShapes.inArguments(List.of(Tuple.of(a("lists"), a("reverse"),
        ErlList.of(ErlList.of(Int.of(1))))))); // not denied
    assertNull(CodeShapes.inArguments(List.of(Tuple.of(a("erlang"), a("abs")),
        Tuple.of(a("global"), a("my_server")))));
    assertNotNull(CodeShapes.inArguments(List.of(Tuple.of(a("erlang"), a("apply")))));
    assertNull(CodeShapes.inArguments(List.of(Tuple.of(a("ok"), a("done")),
        Tuple.of(a("person"), a("alice"), ErlList.NIL), Tuple.of(Term.binary("os"), a("cmd"),
            ErlList.NIL))));
    assertNull(CodeShapes.inMessage(genCall(Tuple.of(a("get"), a("k")))));
    assertNull(CodeShapes.inMessage(Tuple.of(a("$gen_cast"), Tuple.of(a("put"), a("k"),
        Int.of(1)))));
  }

  @Test
  void codeStartingRequestsAreRefusedWhateverTheyStart() {
    Tuple childSpec = Tuple.of(a("my_worker"), a("start_link"), ErlList.NIL);
    assertTrue(CodeShapes.inMessage(genCall(Tuple.of(a("start_child"), ErlMap.of(Map.of(
        a("id"), a("x"), a("start"), childSpec))))).reason().contains("start_child"));
    assertNotNull(CodeShapes.inMessage(genCall(Tuple.of(a("start_task"), ErlList.NIL,
        a("temporary"), a("nil")))));
    assertNotNull(CodeShapes.inMessage(genCall(Tuple.of(a("restart_child"), a("x")))));
    assertNotNull(CodeShapes.inMessage(Tuple.of(a("$gen_cast"), Tuple.of(a("cast"),
        Tuple.of(a("my_mod"), a("f"), ErlList.NIL)))));
    assertTrue(CodeShapes.inMessage(genCall(Tuple.of(a("get"), Tuple.of(a("my_mod"), a("f"),
        ErlList.NIL)))).reason().contains("Agent"));
    assertNotNull(CodeShapes.inMessage(Tuple.of(PID, REF, Tuple.of(a("add_handler"),
        a("h"), ErlList.NIL))));
  }

  @Test
  void systemMessagesAndForgedExitsAreRefused() {
    assertTrue(CodeShapes.inMessage(Tuple.of(a("system"), Tuple.of(PID, REF),
        a("suspend"))).reason().contains("system message"));
    assertTrue(CodeShapes.inMessage(Tuple.of(a("EXIT"), PID, a("kill"))).reason()
        .contains("exit signal"));
    assertNull(CodeShapes.inMessage(Tuple.of(a("EXIT"), a("not_a_pid"), a("kill"))));
  }

  @Test
  void deepTermsDoNotOverflowTheStack() {
    Term t = a("leaf");
    for (int i = 0; i < 200_000; i++) {
      t = ErlList.of(t);
    }
    assertNull(CodeShapes.inArguments(List.of(t)));
    t = osCmd();
    for (int i = 0; i < 200_000; i++) {
      t = Tuple.of(a("wrap"), t);
    }
    assertNotNull(CodeShapes.inMessage(t));
  }
}
