package io.beamgate.gateway.cli;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Model.PositionalParamSpec;

/**
 * One command's manual page in roff (man(7) macros), written from the picocli model so it
 * says exactly what {@code --help} says. picocli-codegen's ManPageGenerator writes AsciiDoc,
 * which needs Asciidoctor (a JRuby runtime in the build) to become a page {@code man} reads;
 * the few macros below need nothing.
 */
final class ManPage {
  private ManPage() {}

  /** The page's file name: {@code beamgate gateway run} is {@code beamgate-gateway-run.1}. */
  static String fileName(CommandSpec spec) {
    return spec.qualifiedName("-") + ".1";
  }

  /** Every command of the tree under {@code root}, root first. */
  static List<CommandSpec> all(CommandLine root) {
    List<CommandSpec> out = new ArrayList<>();
    collect(root, out);
    return out;
  }

  private static void collect(CommandLine cl, List<CommandSpec> out) {
    out.add(cl.getCommandSpec());
    for (Map.Entry<String, CommandLine> e : cl.getSubcommands().entrySet()) {
      // aliases map to the same command: one page each
      if (e.getKey().equals(e.getValue().getCommandName())) {
        collect(e.getValue(), out);
      }
    }
  }

  /** The page of {@code spec}; {@code version} goes in the footer ("beamgate 0.1.0"). */
  static String render(CommandSpec spec, String version) {
    StringBuilder sb = new StringBuilder(4096);
    String name = spec.qualifiedName("-");
    String[] desc = spec.usageMessage().description();
    sb.append(".\\\" Generated from the beamgate CLI's picocli model; do not edit.\n");
    sb.append(".TH \"").append(name.toUpperCase(Locale.ROOT)).append("\" 1 \"\" \"")
        .append(escape(version)).append("\" \"beamgate manual\"\n");
    sb.append(".SH NAME\n").append(escape(name)).append(" \\- ")
        .append(escape(firstSentence(desc.length == 0 ? "" : desc[0]))).append('\n');
    sb.append(".SH SYNOPSIS\n");
    sb.append(".B ").append(escape(spec.qualifiedName())).append('\n');
    List<String> words = new ArrayList<>();
    for (OptionSpec o : spec.options()) {
      if (o.hidden()) {
        continue;
      }
      String w = o.longestName() + (o.arity().max() > 0 ? "=" + o.paramLabel() : "");
      words.add(o.required() ? w : "[" + w + "]");
    }
    for (PositionalParamSpec p : spec.positionalParameters()) {
      if (!p.hidden()) {
        words.add(p.required() ? p.paramLabel() : "[" + p.paramLabel() + "]");
      }
    }
    if (!spec.subcommands().isEmpty()) {
      words.add("COMMAND");
    }
    sb.append(escape(String.join(" ", words))).append('\n');
    sb.append(".SH DESCRIPTION\n");
    for (int i = 0; i < desc.length; i++) {
      if (i > 0) {
        sb.append(".PP\n");
      }
      sb.append(escape(desc[i])).append('\n');
    }
    if (!spec.options().isEmpty()) {
      sb.append(".SH OPTIONS\n");
      for (OptionSpec o : spec.options()) {
        if (o.hidden()) {
          continue;
        }
        sb.append(".TP\n");
        List<String> names = new ArrayList<>();
        for (String n : o.names()) {
          names.add("\\fB" + escape(n) + "\\fR");
        }
        sb.append(String.join(", ", names));
        if (o.arity().max() > 0) {
          sb.append("=\\fI").append(escape(o.paramLabel())).append("\\fR");
        }
        sb.append('\n').append(escape(String.join(" ", o.renderedDescription()))).append('\n');
      }
    }
    if (!spec.positionalParameters().isEmpty()) {
      sb.append(".SH ARGUMENTS\n");
      for (PositionalParamSpec p : spec.positionalParameters()) {
        if (!p.hidden()) {
          sb.append(".TP\n\\fI").append(escape(p.paramLabel())).append("\\fR\n")
              .append(escape(String.join(" ", p.renderedDescription()))).append('\n');
        }
      }
    }
    List<String> seeAlso = new ArrayList<>();
    if (!spec.subcommands().isEmpty()) {
      sb.append(".SH COMMANDS\n");
      for (Map.Entry<String, CommandLine> e : spec.subcommands().entrySet()) {
        CommandSpec sub = e.getValue().getCommandSpec();
        if (!e.getKey().equals(sub.name()) || sub.usageMessage().hidden()) {
          continue;
        }
        String[] d = sub.usageMessage().description();
        sb.append(".TP\n\\fB").append(escape(sub.name())).append("\\fR\n")
            .append(escape(firstSentence(d.length == 0 ? "" : d[0]))).append('\n');
        seeAlso.add(sub.qualifiedName("-"));
      }
    }
    if (spec.parent() != null) {
      seeAlso.add(0, spec.parent().qualifiedName("-"));
    }
    if (!seeAlso.isEmpty()) {
      sb.append(".SH SEE ALSO\n");
      List<String> refs = new ArrayList<>();
      for (String s : seeAlso) {
        refs.add("\\fB" + escape(s) + "\\fR(1)");
      }
      sb.append(String.join(",\n", refs)).append('\n');
    }
    return sb.toString();
  }

  /** Up to the first ". " (a page's NAME line is one short phrase). */
  static String firstSentence(String s) {
    int dot = s.indexOf(". ");
    String t = dot < 0 ? s : s.substring(0, dot + 1);
    return t.endsWith(".") ? t.substring(0, t.length() - 1) : t;
  }

  /**
   * Text as roff reads it literally: backslashes as {@code \e}, hyphens as {@code \-} (so
   * option names copy and paste as ASCII), and a line never starts with a control character.
   */
  static String escape(String text) {
    // picocli descriptions are format strings: %n a line break, %% a percent sign
    String s = text.replace("%n", "\n").replace("%%", "%");
    StringBuilder sb = new StringBuilder(s.length() + 8);
    boolean lineStart = true;
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (lineStart && (c == '.' || c == '\'')) {
        sb.append("\\&");
      }
      switch (c) {
        case '\\' -> sb.append("\\e");
        case '-' -> sb.append("\\-");
        case '\r' -> { }
        default -> sb.append(c);
      }
      lineStart = c == '\n';
    }
    return sb.toString();
  }
}
