package io.feedrank.ranker;

import static org.assertj.core.api.Assertions.assertThat;

import io.feedrank.localstack.LocalStack;
import io.feedrank.localstack.LocalStackTest;
import java.net.URI;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import redis.clients.jedis.Jedis;

/**
 * A ranker closed on an interrupted thread, as a start cut short by Ctrl-C closes it, against the
 * real stack: every wait in the close gave up at once under the flag and skipped the releases after
 * it, and the Redis pool's connections and the log producer stayed open in the JVM that lived on.
 */
@LocalStackTest
class InterruptedCloseIT {
  static final Pattern ID = Pattern.compile("(?m)^id=(\\d+) ");

  @Test
  void aRankerClosedOnAnInterruptedThreadReleasesWhatItOpenedAndKeepsTheInterrupt(LocalStack stack)
      throws Exception {
    RankerHarness h = new RankerHarness(stack);
    long before = clientsAfter(stack, 0).stream().mapToLong(Long::longValue).max().orElse(0);
    Set<Thread> threads = Set.copyOf(Thread.getAllStackTraces().keySet());
    RankerApp app = Main.start(h.config());
    boolean interrupted;
    try {
      HttpResponse<String> r =
          h.rank(
              app.port(),
              RankerHarness.body(1, new long[] {1, 2, 3}, Instant.now(), "mobile", "r-1"));
      assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
      assertThat(clientsAfter(stack, before)).as("the ranker's Redis connections").isNotEmpty();
    } finally {
      Thread.currentThread().interrupt();
      app.close();
      interrupted = Thread.interrupted();
    }
    Awaitility.await()
        .atMost(Duration.ofSeconds(5))
        .untilAsserted(
            () ->
                assertThat(clientsAfter(stack, before))
                    .as("the ranker's Redis connections after its close")
                    .isEmpty());
    Awaitility.await()
        .atMost(Duration.ofSeconds(10))
        .untilAsserted(
            () ->
                assertThat(RankerAppStartTest.rankerThreadsSince(threads))
                    .as("the ranker's threads and its Kafka clients' after its close")
                    .isEmpty());
    assertThat(interrupted).as("the caller's interrupt, kept").isTrue();
  }

  /** The ids of Redis's clients above {@code id}, but for the connection that asks. */
  static List<Long> clientsAfter(LocalStack stack, long id) {
    try (Jedis jedis = new Jedis(URI.create(stack.redisUri()))) {
      long self = jedis.clientId();
      Matcher m = ID.matcher(jedis.clientList());
      return m.results()
          .map(r -> Long.parseLong(r.group(1)))
          .filter(c -> c > id && c != self)
          .toList();
    }
  }
}
