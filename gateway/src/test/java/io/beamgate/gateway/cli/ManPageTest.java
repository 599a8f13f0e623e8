package io.beamgate.gateway.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The man pages and completion written at build time from the picocli model (DistFiles). */
class ManPageTest {
  @Test
  void gatewayRunsPageListsItsOptionsAndGroffReadsItWithoutAWarning(@TempDir Path dir)
      throws Exception {
    int pages = DistFiles.write(dir, "9.9.9");
    assertTrue(pages >= 15, "pages: " + pages);
    Path page = dir.resolve("man").resolve("beamgate-gateway-run.1.gz");
    String roff;
    try (InputStream in = new GZIPInputStream(Files.newInputStream(page))) {
      roff = new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
    assertTrue(roff.contains(".TH \"BEAMGATE-GATEWAY-RUN\" 1"), roff);
    for (String option : new String[] {"config", "tls\\-provider", "grace", "backend\\-wait",
        "log\\-level", "log\\-format"}) {
      assertTrue(roff.contains("\\fB\\-\\-" + option + "\\fR"), option + " in\n" + roff);
    }
    assertTrue(roff.contains("beamgate 9.9.9"), "version in the footer");
    // the defaults are filled in, not left as picocli variables
    assertTrue(roff.contains("Default: 5000."), roff);
    assertTrue(!roff.contains("${"), roff);
    String text = groff(Files.readString(writeRaw(dir, roff)));
    assertTrue(text.contains("--log-format=FORMAT"), text);
    assertTrue(Files.exists(dir.resolve("man").resolve("beamgate-gateway-status.1.gz")));
    assertTrue(Files.readString(dir.resolve("completion").resolve("beamgate"))
        .contains("complete -F"));
  }

  @Test
  void aLineNeverStartsWithARoffControlCharacter() {
    assertEquals("\\&.hidden \\e \\-x\n\\&'quoted", ManPage.escape(".hidden \\ -x\n'quoted"));
    assertEquals("a\nb 100%", ManPage.escape("a%nb 100%%"));
  }

  private static Path writeRaw(Path dir, String roff) throws Exception {
    Path f = dir.resolve("page.1");
    Files.writeString(f, roff, StandardCharsets.UTF_8);
    return f;
  }

  /** The page as man shows it; any groff warning fails the test. */
  private static String groff(String roff) throws Exception {
    Process p = new ProcessBuilder("groff", "-man", "-Tutf8", "-ww", "-rLL=200n").start();
    p.getOutputStream().write(roff.getBytes(StandardCharsets.UTF_8));
    p.getOutputStream().close();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(p.waitFor(30, TimeUnit.SECONDS));
    assertEquals(0, p.exitValue(), err);
    assertEquals("", err.strip(), "groff warnings");
    // groff marks bold by overstriking on a terminal type; drop that for the comparison
    return out.replaceAll(".\b", "");
  }
}
