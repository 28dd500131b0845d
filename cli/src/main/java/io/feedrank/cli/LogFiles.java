package io.feedrank.cli;

import java.nio.file.Path;

/** Sends the components' logs to a file, for commands whose terminal shows progress instead. */
final class LogFiles {
  private LogFiles() {}

  /** The components' logs go to {@code file}; the terminal shows the phases. */
  static void redirect(Path file) {
    if (!(org.slf4j.LoggerFactory.getILoggerFactory()
        instanceof ch.qos.logback.classic.LoggerContext context)) {
      return;
    }
    ch.qos.logback.classic.encoder.PatternLayoutEncoder encoder =
        new ch.qos.logback.classic.encoder.PatternLayoutEncoder();
    encoder.setContext(context);
    encoder.setPattern("%d{HH:mm:ss.SSS} %-5level [%thread] %logger{0} - %msg%n");
    encoder.start();
    ch.qos.logback.core.FileAppender<ch.qos.logback.classic.spi.ILoggingEvent> appender =
        new ch.qos.logback.core.FileAppender<>();
    appender.setContext(context);
    appender.setName("DEMO");
    appender.setFile(file.toString());
    appender.setAppend(false);
    appender.setEncoder(encoder);
    appender.start();
    ch.qos.logback.classic.Logger root = context.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
    root.detachAndStopAllAppenders();
    root.addAppender(appender);
  }
}
