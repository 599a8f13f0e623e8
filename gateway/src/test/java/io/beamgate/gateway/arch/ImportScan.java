package io.beamgate.gateway.arch;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * A plain scan of Java sources for the code they reference: every qualified name under
 * {@code io.beamgate} or {@code io.netty} in imports and in code (fully qualified uses too),
 * with comments and string literals left out, plus simple names asked for by word (a class in
 * the same package needs no import). No bytecode, no library: what a reader of the file sees.
 */
final class ImportScan {
  private static final Pattern QUALIFIED =
      Pattern.compile("\\b(?:io\\.beamgate|io\\.netty)(?:\\.[A-Za-z_][A-Za-z0-9_]*)+");

  private ImportScan() {}

  /** One reference of {@code file} to {@code target}, at {@code line}. */
  record Reference(Path file, int line, String target) {
    @Override
    public String toString() {
      return file + ":" + line + ": " + target;
    }
  }

  /** The Java files under {@code root} (none when it does not exist). */
  static List<Path> javaFiles(Path root) {
    if (!Files.isDirectory(root)) {
      return List.of();
    }
    try (Stream<Path> s = Files.walk(root)) {
      return s.filter(p -> p.toString().endsWith(".java")).sorted().toList();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The qualified io.beamgate / io.netty names {@code file} references. */
  static List<Reference> qualified(Path file) {
    List<Reference> out = new ArrayList<>();
    String code = code(read(file));
    String[] lines = code.split("\n", -1);
    for (int i = 0; i < lines.length; i++) {
      if (lines[i].stripLeading().startsWith("package ")) {
        continue;
      }
      Matcher m = QUALIFIED.matcher(lines[i]);
      while (m.find()) {
        out.add(new Reference(file, i + 1, m.group()));
      }
    }
    return out;
  }

  /** The lines of {@code file} whose code names {@code simpleName} as a word. */
  static List<Reference> word(Path file, String simpleName) {
    List<Reference> out = new ArrayList<>();
    Pattern p = Pattern.compile("\\b" + Pattern.quote(simpleName) + "\\b");
    String[] lines = code(read(file)).split("\n", -1);
    for (int i = 0; i < lines.length; i++) {
      if (p.matcher(lines[i]).find()) {
        out.add(new Reference(file, i + 1, simpleName));
      }
    }
    return out;
  }

  /** The references of the files under {@code root} to names {@code forbidden} accepts. */
  static List<Reference> violations(Path root, Predicate<String> forbidden) {
    List<Reference> out = new ArrayList<>();
    for (Path f : javaFiles(root)) {
      for (Reference r : qualified(f)) {
        if (forbidden.test(r.target())) {
          out.add(r);
        }
      }
    }
    return out;
  }

  private static String read(Path file) {
    try {
      return Files.readString(file, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * The source with comments, string and char literals (text blocks included) blanked out;
   * line breaks are kept so that line numbers stay right.
   */
  static String code(String src) {
    StringBuilder b = new StringBuilder(src.length());
    int i = 0;
    int n = src.length();
    while (i < n) {
      char c = src.charAt(i);
      if (c == '/' && i + 1 < n && src.charAt(i + 1) == '/') {
        while (i < n && src.charAt(i) != '\n') {
          i++;
        }
      } else if (c == '/' && i + 1 < n && src.charAt(i + 1) == '*') {
        int end = src.indexOf("*/", i + 2);
        end = end < 0 ? n : end + 2;
        keepNewlines(b, src, i, end);
        i = end;
      } else if (src.startsWith("\"\"\"", i)) {
        int end = src.indexOf("\"\"\"", i + 3);
        end = end < 0 ? n : end + 3;
        keepNewlines(b, src, i, end);
        b.append("\"\"");
        i = end;
      } else if (c == '"' || c == '\'') {
        int j = i + 1;
        while (j < n && src.charAt(j) != c && src.charAt(j) != '\n') {
          j += src.charAt(j) == '\\' ? 2 : 1;
        }
        b.append(c).append(c);
        i = Math.min(n, j + 1);
      } else {
        b.append(c);
        i++;
      }
    }
    return b.toString();
  }

  private static void keepNewlines(StringBuilder b, String src, int from, int to) {
    for (int k = from; k < to; k++) {
      if (src.charAt(k) == '\n') {
        b.append('\n');
      }
    }
  }
}
