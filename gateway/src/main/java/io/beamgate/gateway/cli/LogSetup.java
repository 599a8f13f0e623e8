package io.beamgate.gateway.cli;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.JsonEncoder;
import ch.qos.logback.classic.encoder.PatternLayoutEncoder;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.ConsoleAppender;
import ch.qos.logback.core.encoder.Encoder;
import java.util.List;
import java.util.Locale;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The CLI's logging, on logback (the one backend the fat jar carries; the libraries log
 * through the SLF4J API only): the level, and text or JSON lines on stderr.
 */
final class LogSetup {
  /** Levels the options accept, lowest last. */
  static final List<String> LEVELS = List.of("error", "warn", "info", "debug", "trace");

  /** Log formats: text for people, json (one object a line) for log shippers. */
  enum Format {
    TEXT, JSON
  }

  static final String PATTERN =
      "%d{yyyy-MM-dd'T'HH:mm:ss.SSSXXX} [%thread] %-5level %logger{0} - %msg%n";

  private LogSetup() {}

  /** Checks a level given on the command line; null when it is one of {@link #LEVELS}. */
  static String levelProblem(String level) {
    return LEVELS.contains(level.toLowerCase(Locale.ROOT)) ? null : "--log-level: '" + level
        + "' (expected one of " + String.join(", ", LEVELS) + ")";
  }

  /** Sets the root level only (the format stays as logback.xml made it). */
  static void level(String level) {
    if (LoggerFactory.getILoggerFactory() instanceof LoggerContext ctx) {
      ctx.getLogger(Logger.ROOT_LOGGER_NAME).setLevel(Level.toLevel(level, Level.INFO));
    }
  }

  /** Replaces the root's appenders with one on stderr in {@code format}, at {@code level}. */
  static void configure(String level, Format format) {
    if (!(LoggerFactory.getILoggerFactory() instanceof LoggerContext ctx)) {
      return; // another SLF4J backend chosen by whoever embeds us: theirs to configure
    }
    ch.qos.logback.classic.Logger root = ctx.getLogger(Logger.ROOT_LOGGER_NAME);
    Encoder<ILoggingEvent> encoder;
    if (format == Format.JSON) {
      JsonEncoder j = new JsonEncoder();
      j.setContext(ctx);
      // One flat-enough object per line: no per-line copy of the context's properties.
      j.setWithContext(false);
      j.setWithSequenceNumber(false);
      j.setWithNanoseconds(false);
      // The message as people read it, not its template and arguments apart.
      j.setWithFormattedMessage(true);
      j.setWithMessage(false);
      j.setWithArguments(false);
      j.start();
      encoder = j;
    } else {
      PatternLayoutEncoder p = new PatternLayoutEncoder();
      p.setContext(ctx);
      p.setPattern(PATTERN);
      p.start();
      encoder = p;
    }
    ConsoleAppender<ILoggingEvent> out = new ConsoleAppender<>();
    out.setContext(ctx);
    out.setName("STDERR");
    out.setTarget("System.err");
    out.setEncoder(encoder);
    out.start();
    root.detachAndStopAllAppenders();
    root.addAppender(out);
    root.setLevel(Level.toLevel(level, Level.INFO));
  }
}
