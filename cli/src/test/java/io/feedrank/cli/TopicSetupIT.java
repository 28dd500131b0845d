package io.feedrank.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.feedrank.avro.Topics;
import io.feedrank.avro.Topics.TopicSpec;
import io.feedrank.avro.registry.SchemaRegistryClient;
import io.feedrank.events.UserProfile;
import io.feedrank.localstack.LocalStack;
import io.feedrank.localstack.LocalStackTest;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.config.TopicConfig;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/**
 * {@code ./feedrank topics init} on the real broker and registry, with every topic of DESIGN §2
 * under a fresh name: the missing ones are created as specified, an existing one is reported and
 * left as it is (an error when its cleanup policy is not the DESIGN's), and every value subject is
 * FULL_TRANSITIVE with the compiled schema registered, unless it had another level than BACKWARD.
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
      assertThat(TopicSetup.schemas(stack.registryClient(), specs))
          .allSatisfy(o -> assertThat(o.status()).isEqualTo("set"));
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
            .hasValue("FULL_TRANSITIVE");
        assertThat(stack.registryClient().latest(t.valueSubject()).orElseThrow().schema())
            .isEqualTo(t.valueSchema());
      }
      assertThat(specs.stream().filter(TopicSpec::compacted).map(TopicSpec::name))
          .as("the DESIGN's compacted topics")
          .hasSize(3);

      // again: nothing created, the same report for the hand-made one
      List<TopicSetup.Outcome> second = TopicSetup.topics(admin, specs, 0, (short) -1);
      assertThat(TopicSetup.schemas(stack.registryClient(), specs))
          .allSatisfy(o -> assertThat(o.status()).isEqualTo("as specified"));
      assertThat(second.stream().filter(o -> !o.topic().equals(users.name())))
          .allSatisfy(o -> assertThat(o.status()).isEqualTo("exists"));
      assertThat(second.stream().filter(TopicSetup.Outcome::error))
          .extracting(TopicSetup.Outcome::topic)
          .containsExactly(users.name());
    }
  }

  /**
   * A level set before init is never weakened: FULL_TRANSITIVE and FORWARD stay (the latter
   * reported), BACKWARD, which earlier versions of init set, is raised. Those versions set BACKWARD
   * on every subject, whatever it had. So is a subject a serializer registered before init without
   * a level, which Apicurio reports as NONE (it was left so, unchecked).
   */
  @Test
  void aLevelSetBeforeIsNeverWeakenedAndBackwardIsRaised(LocalStack stack) {
    String suffix = "-levels-" + UUID.randomUUID();
    List<TopicSpec> specs = Topics.ALL.stream().map(t -> t.renamed(t.name() + suffix)).toList();
    SchemaRegistryClient registry = stack.registryClient();
    String strict = Topics.MODEL_REGISTRY + suffix + "-value";
    String earlier = Topics.USERS + suffix + "-value";
    String other = Topics.ALERTS + suffix + "-value";
    registry.setCompatibility(strict, "FULL_TRANSITIVE");
    registry.setCompatibility(earlier, "BACKWARD");
    registry.setCompatibility(other, "FORWARD");
    String unset = Topics.TRAINING_EXAMPLES + suffix + "-value";
    registry.register(
        unset,
        specs.stream()
            .filter(t -> t.valueSubject().equals(unset))
            .findFirst()
            .orElseThrow()
            .valueSchema());
    assertThat(registry.compatibility(unset)).as("Apicurio's answer for no level").hasValue("NONE");

    Map<String, TopicSetup.SchemaOutcome> bySubject =
        TopicSetup.schemas(registry, specs).stream()
            .collect(Collectors.toMap(TopicSetup.SchemaOutcome::subject, o -> o));

    assertThat(registry.compatibility(strict)).as(strict).hasValue("FULL_TRANSITIVE");
    assertThat(registry.compatibility(other)).as(other).hasValue("FORWARD");
    for (TopicSpec t : specs) {
      // read back on their own
      assertThat(registry.compatibility(t.valueSubject()))
          .as(t.valueSubject())
          .hasValue(t.valueSubject().equals(other) ? "FORWARD" : "FULL_TRANSITIVE");
      assertThat(registry.latest(t.valueSubject()).orElseThrow().schema())
          .isEqualTo(t.valueSchema());
    }
    assertThat(bySubject).hasSize(specs.size());
    assertThat(bySubject.get(strict).status()).isEqualTo("as specified");
    assertThat(bySubject.get(earlier).status()).isEqualTo("raised from BACKWARD");
    assertThat(bySubject.get(unset).status()).isEqualTo("raised from NONE");
    assertThat(bySubject.get(other))
        .isEqualTo(
            new TopicSetup.SchemaOutcome(other, "FORWARD", "left as it is, not FULL_TRANSITIVE"));
  }

  /**
   * {@code topics init --topic-suffix}: the topics of an isolated run (streams-features' {@code
   * topic.suffix}) are created and their subjects given the platform's level, which they lacked.
   */
  @Test
  void initWithATopicSuffixCoversTheSuffixedTopicsAndTheirSubjects(LocalStack stack)
      throws Exception {
    String suffix = "-suffixed-" + UUID.randomUUID();
    StringWriter out = new StringWriter();
    CommandLine cli = new CommandLine(new TopicsCommand());
    cli.setOut(new PrintWriter(out));
    int exit =
        cli.execute(
            "init",
            "--bootstrap-servers",
            stack.bootstrapServers(),
            "--registry-url",
            stack.registryUrl(),
            "--topic-suffix",
            suffix);

    assertThat(exit).as(out.toString()).isZero();
    try (Admin admin = stack.admin()) {
      assertThat(admin.listTopics().names().get(30, TimeUnit.SECONDS))
          .containsAll(Topics.ALL.stream().map(t -> t.name() + suffix).toList());
    }
    for (TopicSpec t : Topics.ALL) {
      String subject = t.name() + suffix + "-value";
      assertThat(stack.registryClient().compatibility(subject))
          .as(subject)
          .hasValue("FULL_TRANSITIVE");
      assertThat(out.toString()).containsPattern(subject + " +FULL_TRANSITIVE +set");
    }
  }
}
