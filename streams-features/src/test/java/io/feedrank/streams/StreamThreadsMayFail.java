package io.feedrank.streams;

import org.awaitility.Awaitility;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * For a test whose app has stream threads fail on purpose (and replaced): Awaitility by default
 * fails a wait when any thread dies, instead of letting the test see what comes out.
 */
final class StreamThreadsMayFail implements BeforeEachCallback, AfterEachCallback {
  @Override
  public void beforeEach(ExtensionContext context) {
    Awaitility.doNotCatchUncaughtExceptionsByDefault();
  }

  @Override
  public void afterEach(ExtensionContext context) {
    Awaitility.reset();
  }
}
