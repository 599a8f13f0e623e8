package io.beamgate.gateway.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** `beamgate generate-completion`: a bash/zsh script from the CLI's own model. */
class CompletionTest {
  @Test
  void theCompletionScriptKnowsTheCommandsAndIsValidBash(@TempDir Path dir) throws Exception {
    CommandLine cl = Main.commandLine();
    StringWriter out = new StringWriter();
    cl.setOut(new PrintWriter(out, true));
    assertEquals(0, cl.execute("generate-completion"));
    String script = out.toString();
    for (String w : new String[] {"complete -F", "gateway", "status", "--log-format",
        "--json", "certs"}) {
      assertTrue(script.contains(w), w);
    }
    Path f = dir.resolve("beamgate_completion");
    Files.writeString(f, script, StandardCharsets.UTF_8);
    Process p = new ProcessBuilder("bash", "-n", f.toString()).redirectErrorStream(true)
        .start();
    String err = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(p.waitFor(30, TimeUnit.SECONDS));
    assertEquals(0, p.exitValue(), err);
  }
}
