package io.feedrank.cli;

import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.PatternLayoutEncoder;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.rolling.FixedWindowRollingPolicy;
import ch.qos.logback.core.rolling.RollingFileAppender;
import ch.qos.logback.core.rolling.SizeBasedTriggeringPolicy;
import ch.qos.logback.core.util.FileSize;
import java.nio.file.Path;

/** Sends the components' logs to a file, for commands whose terminal shows progress instead. */
final class LogFiles {
  /** The size at which the file is rolled over. */
  static final String MAX_FILE_SIZE = "50MB";

  /** The rolled-over files kept beside it: {@code FILE.1} (the newest) to {@code FILE.3}. */
  static final int ROLLED_FILES = 3;

  private LogFiles() {}

  /**
   * The components' logs go to {@code file}; the terminal shows the phases. Appended to what an
   * earlier run wrote there: up's console asks for a restart when a part stops on an error, and the
   * log says why it stopped. Rolled over at {@value #MAX_FILE_SIZE} to {@code file.1} .. {@code
   * file.3}, so a process that runs for days keeps at most 200 MB. Each line starts with its date
   * and time, ISO 8601 with the offset: a log spans days and runs.
   */
  static void redirect(Path file) {
    if (!(org.slf4j.LoggerFactory.getILoggerFactory() instanceof LoggerContext context)) {
      return;
    }
    PatternLayoutEncoder encoder = new PatternLayoutEncoder();
    encoder.setContext(context);
    encoder.setPattern("%d{yyyy-MM-dd'T'HH:mm:ss.SSSXXX} %-5level [%thread] %logger{0} - %msg%n");
    encoder.start();
    RollingFileAppender<ILoggingEvent> appender = new RollingFileAppender<>();
    appender.setContext(context);
    appender.setName("FILE");
    appender.setFile(file.toString());
    appender.setAppend(true);
    appender.setEncoder(encoder);
    FixedWindowRollingPolicy rolling = new FixedWindowRollingPolicy();
    rolling.setContext(context);
    rolling.setParent(appender);
    rolling.setFileNamePattern(file + ".%i");
    rolling.setMinIndex(1);
    rolling.setMaxIndex(ROLLED_FILES);
    rolling.start();
    SizeBasedTriggeringPolicy<ILoggingEvent> trigger = new SizeBasedTriggeringPolicy<>();
    trigger.setContext(context);
    trigger.setMaxFileSize(FileSize.valueOf(MAX_FILE_SIZE));
    trigger.start();
    appender.setRollingPolicy(rolling);
    appender.setTriggeringPolicy(trigger);
    appender.start();
    ch.qos.logback.classic.Logger root = context.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
    root.detachAndStopAllAppenders();
    root.addAppender(appender);
  }
}
