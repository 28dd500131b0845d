package io.feedrank.models;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/**
 * This module's tests log through Logback, as every other module's do. With no SLF4J provider on
 * the test classpath, SLF4J drops every line (a library's warning during a test included) and
 * prints three lines of warning about it at every test run.
 */
class TestLoggingTest {
  @Test
  void logLinesOfTestsGoToLogback() {
    assertThat(LoggerFactory.getILoggerFactory().getClass().getName())
        .isEqualTo("ch.qos.logback.classic.LoggerContext");
  }
}
