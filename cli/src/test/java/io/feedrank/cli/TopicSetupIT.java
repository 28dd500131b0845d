package io.feedrank.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.feedrank.avro.Topics;
import io.feedrank.avro.Topics.TopicSpec;
import io.feedrank.events.UserProfile;
import io.feedrank.localstack.LocalStack;
import io.feedrank.localstack.LocalStackTest;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.config.TopicConfig;
import org.junit.jupiter.api.Test;

/**
 * {@code ./feedrank topics init} on the real broker and registry, with every topic of DESIGN §2
 * under a fresh name: the missing ones are created as specified, an existing one is reported and
 * left as it is (an error when its cleanup policy is not the DESIGN's), and every value subject is
 * BACKWARD with the compiled schema registered.
 */
@LocalStackTest
class TopicSetupIT {
  @Test
  void missingTopicsAreCreatedAsSpecifiedAndAWrongOneIsReportedNotChanged(LocalStack stack)
      throws Exception {
    String suffix = "-init-" + UUID.randomUUID();
    List<TopicSpec> specs = Topics.ALL.stream().map(t -> t.renamed(t.name() + suffix)).toList();
    // users made by hand with the wrong policy and 3 partitions
    TopicSpec users = Topics.byName(Topics.USERS).orElseThrow().renamed(Topics.USERS + suffix);
    stack.createTopics(
        List.of(new TopicSpec(users.name(), 3, false, UserProfile.class, "user_id")));

    try (Admin admin = stack.admin()) {
      List<TopicSetup.Outcome> first = TopicSetup.topics(admin, specs, 0, (short) -1);
      TopicSetup.schemas(stack.registryClient(), specs);
      Map<String, TopicSetup.Outcome> byTopic =
          first.stream().collect(Collectors.toMap(TopicSetup.Outcome::topic, o -> o));
      assertThat(byTopic).hasSize(specs.size());
      assertThat(byTopic.get(users.name()).error()).isTrue();
      assertThat(byTopic.get(users.name()).status())
          .contains("cleanup.policy delete, not compact")
          .contains("3 partitions, not 12");
      assertThat(first.stream().filter(o -> !o.topic().equals(users.name())))
          .allSatisfy(o -> assertThat(o.status()).isEqualTo("created"));

      // what the broker has, read back on its own: the DESIGN's partitions and policies
      var names = specs.stream().map(TopicSpec::name).toList();
      var described = admin.describeTopics(names).allTopicNames().get(30, TimeUnit.SECONDS);
      var configs =
          admin
              .describeConfigs(
                  names.stream()
                      .map(n -> new ConfigResource(ConfigResource.Type.TOPIC, n))
                      .toList())
              .all()
              .get(30, TimeUnit.SECONDS);
      for (TopicSpec t : specs) {
        boolean handMade = t.name().equals(users.name());
        assertThat(described.get(t.name()).partitions())
            .as(t.name())
            .hasSize(handMade ? 3 : t.partitions());
        assertThat(
                configs
                    .get(new ConfigResource(ConfigResource.Type.TOPIC, t.name()))
                    .get(TopicConfig.CLEANUP_POLICY_CONFIG)
                    .value())
            .as(t.name())
            .isEqualTo(
                t.compacted() && !handMade
                    ? TopicConfig.CLEANUP_POLICY_COMPACT
                    : TopicConfig.CLEANUP_POLICY_DELETE);
        assertThat(stack.registryClient().compatibility(t.valueSubject()))
            .as(t.valueSubject())
            .hasValue("BACKWARD");
        assertThat(stack.registryClient().latest(t.valueSubject()).orElseThrow().schema())
            .isEqualTo(t.valueSchema());
      }
      assertThat(specs.stream().filter(TopicSpec::compacted).map(TopicSpec::name))
          .as("the DESIGN's compacted topics")
          .hasSize(3);

      // again: nothing created, the same report for the hand-made one
      List<TopicSetup.Outcome> second = TopicSetup.topics(admin, specs, 0, (short) -1);
      TopicSetup.schemas(stack.registryClient(), specs);
      assertThat(second.stream().filter(o -> !o.topic().equals(users.name())))
          .allSatisfy(o -> assertThat(o.status()).isEqualTo("exists"));
      assertThat(second.stream().filter(TopicSetup.Outcome::error))
          .extracting(TopicSetup.Outcome::topic)
          .containsExactly(users.name());
    }
  }
}
