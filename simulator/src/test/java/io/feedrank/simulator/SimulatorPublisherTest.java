package io.feedrank.simulator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import io.feedrank.avro.Topics;
import io.feedrank.localstack.Ports;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The publisher with no Kafka behind its address, and its producer's configuration. */
class SimulatorPublisherTest {

  /**
   * The producer (simulate's and up's, running as long as they do) waits up to 10 s between
   * attempts at a broker that is away: at Kafka's 1 s it wrote a "could not be established" WARN a
   * second. A kafka.* key of simulate's --config, which reaches clientConfig, sets another.
   */
  @Test
  void theProducerRetriesABrokerAwayAtMostEveryTenSecondsUnlessTheClientConfigSaysOtherwise() {
    Map<String, Object> servers = Map.of("bootstrap.servers", "127.0.0.1:1");
    assertThat(SimulatorPublisher.producerConfig(servers))
        .containsEntry("reconnect.backoff.max.ms", 10_000)
        .containsEntry("bootstrap.servers", "127.0.0.1:1");
    assertThat(
            SimulatorPublisher.producerConfig(
                Map.of("bootstrap.servers", "127.0.0.1:1", "reconnect.backoff.max.ms", "2000")))
        .containsEntry("reconnect.backoff.max.ms", "2000");
  }

  /**
   * Each send waits max.block.ms for metadata and fails; the first failure ends the run, naming the
   * address, instead of waiting that long for each of the catalog's records before saying anything
   * (with the default minute and 60,000 users and items, six weeks).
   */
  @Test
  void withKafkaUnreachableTheFirstRefusalEndsTheRunNamingTheAddress() {
    String servers = "127.0.0.1:" + Ports.freePort();
    Map<String, Object> client =
        Map.of(
            "bootstrap.servers",
            servers,
            "schema.registry.url",
            "http://127.0.0.1:" + Ports.freePort(),
            "max.block.ms",
            500);
    SimulatorConfig config =
        SimulatorConfig.defaults(5, Instant.parse("2026-11-02T12:00:00Z"))
            .withPopulation(1_000, 2_000);
    try (SimulatorPublisher publisher =
        new SimulatorPublisher(
            client,
            new SimulatorPublisher.TopicNames(Topics.INTERACTIONS, Topics.USERS, Topics.ITEMS))) {
      assertTimeoutPreemptively(
          Duration.ofSeconds(60), // 3,000 catalog records at 0.5 s each would take 25 minutes
          () ->
              assertThatThrownBy(
                      () ->
                          publisher.publish(
                              new InteractionSimulator(config),
                              new SimulatorPublisher.Run(10, null, 0, true),
                              () -> false))
                  .isInstanceOf(IllegalStateException.class)
                  .hasMessageContaining("Kafka at " + servers + " refused a record"));
      assertThat(publisher.acked()).isZero();
    }
  }
}
