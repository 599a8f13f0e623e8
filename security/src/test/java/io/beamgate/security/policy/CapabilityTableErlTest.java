package io.beamgate.security.policy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.beamgate.node.testing.Erl;
import io.beamgate.node.testing.Escript;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The capability table against the OTP installed here: every export of every module the table
 * classifies function by function, and every preloaded module, must have a verdict. A new OTP
 * release that adds a function or a preloaded module fails this test, listing what to
 * classify, instead of adding it silently (as denied, but unreviewed).
 */
class CapabilityTableErlTest {
  @TempDir Path dir;

  /** Runs erl; returns its output's lines after the marker line (erl may print banners). */
  private List<String> erl(String expr) throws Exception {
    String erl = Erl.require();
    String out = Escript.runProcess(List.of(erl, "-noshell", "-noinput", "-eval",
        "io:format(\"=BEGIN=~n\"), " + expr + ", halt(0)."), dir.resolve("erl.log"), 120,
        "erl " + expr);
    assertEquals("0", out.substring(0, out.indexOf('\n')), out);
    String body = out.substring(out.indexOf("=BEGIN=\n") + "=BEGIN=\n".length());
    return body.lines().map(String::strip).filter(l -> !l.isEmpty()).toList();
  }

  @Test
  void everyExportOfAClassifiedModuleHasAVerdict() throws Exception {
    List<String> modules = new ArrayList<>(Capabilities.perFunctionModules());
    assertTrue(modules.contains("erlang") && modules.contains("timer"), modules.toString());
    String list = modules.stream().map(CallPattern::quote).collect(Collectors.joining(","));
    // ~w writes atoms as a policy does: quoted when they must be ('!', 'Elixir.X').
    List<String> exports = erl("[io:format(\"~w:~w/~w~n\", [M, F, A]) || M <- [" + list
        + "], {F, A} <- lists:usort(M:module_info(exports))]");
    assertTrue(exports.size() > 300, "too few exports read: " + exports);
    List<String> unclassified = new ArrayList<>();
    for (String line : exports) {
      CallPattern c = CallPattern.parse(line, true);
      if (!Capabilities.classified(c.module(), c.function(), c.arity())) {
        unclassified.add(line);
      }
    }
    if (!unclassified.isEmpty()) {
      fail(unclassified.size() + " exports of the installed OTP are not in capabilities.txt"
          + " (classify each as safe or with a category): " + unclassified);
    }
  }

  @Test
  void everyPreloadedModuleIsDeniedWholeOrClassified() throws Exception {
    List<String> preloaded = erl("[io:format(\"~w~n\", [M]) || M <- erlang:pre_loaded()]");
    assertTrue(preloaded.contains("erlang") && preloaded.contains("init"), preloaded.toString());
    List<String> missing = new ArrayList<>();
    for (String m : preloaded) {
      String module = CallPattern.parse(m + ":*").module();
      if (!Capabilities.dangerousModule(module)) {
        missing.add(m);
      }
    }
    if (!missing.isEmpty()) {
      fail("preloaded modules of the installed OTP missing from capabilities.txt (add each as"
          + " deny-module or per-function): " + missing);
    }
  }

  @Test
  void theTestSeesAnExportTheTableDoesNotKnow() throws Exception {
    // The check above can fail: an export the table lacks is reported, not passed.
    List<String> exports = erl("[io:format(\"~w:~w/~w~n\", [M, F, A]) || {M, F, A} <-"
        + " [{erlang, abs, 1}, {erlang, no_such_bif, 3}]]");
    assertEquals(List.of("erlang:abs/1", "erlang:no_such_bif/3"), exports);
    assertTrue(Capabilities.classified("erlang", "abs", 1));
    assertTrue(!Capabilities.classified("erlang", "no_such_bif", 3)
        && Capabilities.denied("erlang", "no_such_bif", 3));
  }
}
