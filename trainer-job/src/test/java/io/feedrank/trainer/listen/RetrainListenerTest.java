package io.feedrank.trainer.listen;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.feedrank.events.ModelVersion;
import io.feedrank.events.RetrainCommand;
import io.feedrank.events.RetrainReason;
import io.feedrank.trainer.registry.ModelRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.MockConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;

/**
 * The listener's shutdown against a consumer whose polls the test steps through (Kafka's {@link
 * MockConsumer}): a command that a poll returns while {@link RetrainListener#close} is stopping the
 * worker is not an error (Ctrl-C on {@code ./feedrank train --listen} said "the retrain listener
 * stopped on an error"), and it is neither run nor committed, so the next start runs it.
 */
class RetrainListenerTest {
  static final String TOPIC = "retrain-commands";
  static final TopicPartition PARTITION = new TopicPartition(TOPIC, 0);

  /** A consumer that remembers every offset committed (its own record of them ends at close). */
  static final class Consumer extends MockConsumer<String, RetrainCommand> {
    final List<Map<TopicPartition, OffsetAndMetadata>> commits = new CopyOnWriteArrayList<>();

    Consumer() {
      super("earliest");
    }

    @Override
    public synchronized void commitSync(Map<TopicPartition, OffsetAndMetadata> offsets) {
      commits.add(offsets);
      super.commitSync(offsets);
    }
  }

  /** A registry with no versions: nothing this test sends names one. */
  static final ModelRegistry NO_VERSIONS =
      new ModelRegistry() {
        @Override
        public List<ModelVersion> versions(String modelName) {
          return List.of();
        }

        @Override
        public void publish(List<ModelVersion> updates) {
          throw new UnsupportedOperationException("read only");
        }
      };

  @Test
  void aCommandPolledWhileClosingIsNeitherAnErrorNorRunNorCommitted() throws Exception {
    Consumer consumer = new Consumer();
    consumer.updateBeginningOffsets(Map.of(PARTITION, 0L));
    List<String> handled = new CopyOnWriteArrayList<>();
    RetrainListener listener =
        new RetrainListener(
            consumer,
            TOPIC,
            "feedrank-trainer-feed-ranker",
            "feed-ranker",
            NO_VERSIONS,
            Set.of(),
            new SimpleMeterRegistry().counter("trainer.commands.skipped"),
            new SimpleMeterRegistry().counter("trainer.commands.skipped"),
            c -> handled.add(c.getCommandId()));
    Thread closer =
        new Thread(
            () -> {
              try {
                listener.close();
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
              }
            },
            "closer");
    consumer.schedulePollTask(() -> consumer.rebalance(List.of(PARTITION)));
    // inside a poll (which holds the consumer's monitor): close() stops the worker, then waits
    // for this poll to end to wake the consumer up; the poll then returns a command
    consumer.schedulePollTask(
        () -> {
          closer.start();
          await()
              .atMost(Duration.ofMinutes(2))
              .until(() -> blockedIn(closer, "wakeup") || !closer.isAlive());
          consumer.addRecord(new ConsumerRecord<>(TOPIC, 0, 0L, "feed-ranker", command("c1")));
        });

    listener.start();
    closer.join(Duration.ofMinutes(2).toMillis());
    await().atMost(Duration.ofMinutes(2)).until(consumer::closed);

    assertThat(closer.isAlive()).isFalse();
    assertThat(listener.failed()).isNotDone();
    assertThat(handled).isEmpty();
    assertThat(consumer.commits).isEmpty();
  }

  /** Whether {@code t} waits for a monitor in a method called {@code method}. */
  private static boolean blockedIn(Thread t, String method) {
    return t.getState() == Thread.State.BLOCKED
        && Arrays.stream(t.getStackTrace()).anyMatch(f -> f.getMethodName().equals(method));
  }

  private static RetrainCommand command(String id) {
    return RetrainCommand.newBuilder()
        .setCommandId(id)
        .setModelName("feed-ranker")
        .setIssuedAt(Instant.parse("2026-12-07T06:00:00Z"))
        .setReason(RetrainReason.MANUAL)
        .build();
  }
}
