package io.feedrank.cli.demo;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A platform closed (by a shutdown hook, while up or the demo is still starting) starts nothing
 * more: what the starting thread would start after the close would run on, closed by nothing.
 */
class PlatformTest {
  @Test
  void aClosedPlatformStartsNoListenerAndNoAdminClient() {
    Platform p = new Platform();
    p.close();
    assertThatThrownBy(p::listen)
        .isInstanceOf(IllegalStateException.class)
        .hasMessage("the platform is closed: a retrain listener is not started");
    assertThatThrownBy(p::featuresLag)
        .isInstanceOf(IllegalStateException.class)
        .hasMessage("the platform is closed: an admin client is not started");
  }

  /**
   * A start cut short by an interrupt (Ctrl-C during up's or the demo's start) closes what started
   * on the interrupted thread: every part's close still waits for its threads (the ranker's
   * join-based close would give up at once under the flag, leaving its producers running), and the
   * interrupt is kept for the caller.
   */
  @Test
  void aPlatformClosedOnAnInterruptedThreadWaitsForEveryPartAndKeepsTheInterrupt() {
    List<String> closed = new ArrayList<>();
    AutoCloseable older = () -> closed.add("older");
    AutoCloseable joins =
        () -> {
          Thread worker = new Thread(() -> {}, "a part's thread");
          worker.start();
          worker.join();
          closed.add("joined its thread");
        };
    Platform p = new Platform(older, joins);
    Thread.currentThread().interrupt();
    boolean kept;
    try {
      p.close();
    } finally {
      kept = Thread.interrupted();
    }
    assertThat(closed).containsExactly("joined its thread", "older");
    assertThat(kept).isTrue();
  }
}
