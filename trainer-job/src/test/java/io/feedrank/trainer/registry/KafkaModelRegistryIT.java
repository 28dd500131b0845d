package io.feedrank.trainer.registry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.feedrank.avro.Topics;
import io.feedrank.avro.serde.AvroSerde;
import io.feedrank.avro.serde.AvroSerdes;
import io.feedrank.events.ModelStage;
import io.feedrank.events.ModelVersion;
import io.feedrank.localstack.LocalStack;
import io.feedrank.localstack.LocalStackTest;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/**
 * The registry's writes on the real broker: the records of one decision (a promotion and the
 * archive of the version it replaces) land together or not at all, as a {@code read_committed}
 * reader sees them.
 */
@LocalStackTest
class KafkaModelRegistryIT {
  static final Instant T = Instant.parse("2026-12-06T00:00:00Z");

  @Test
  void aDecisionWhoseSecondRecordCannotBeWrittenLeavesNothingBehind(LocalStack stack) {
    String model = "registry-it-" + UUID.randomUUID();
    AvroSerde<ModelVersion> serde =
        AvroSerdes.valueSerde(stack.registryClient(), ModelVersion.class);
    try (KafkaModelRegistry registry =
        new KafkaModelRegistry(
            stack.clientConfig(),
            serde.serializer(),
            serde.deserializer(),
            Topics.MODEL_REGISTRY)) {
      ModelVersion p1 = version(model, "p1", ModelStage.PRODUCTION, null);
      registry.publish(List.of(p1));

      // p2 promoted over p1, but the record archiving p1 is larger than a request may be
      Map<String, Double> huge = new HashMap<>();
      for (int i = 0; i < 100_000; i++) {
        huge.put("metric_" + i, (double) i);
      }
      ModelVersion p2 = version(model, "p2", ModelStage.PRODUCTION, "p1");
      ModelVersion archived =
          ModelVersion.newBuilder(p1).setStage(ModelStage.ARCHIVED).setMetrics(huge).build();
      assertThatThrownBy(() -> registry.publish(List.of(p2, archived)))
          .hasMessageContaining("nothing of the 2 records");
      // neither landed: p1 is still the one production version, p2 unknown
      assertThat(registry.versions(model))
          .singleElement()
          .satisfies(
              v -> {
                assertThat(v.getVersion()).isEqualTo("p1");
                assertThat(v.getStage()).isEqualTo(ModelStage.PRODUCTION);
              });

      // the same decision with a record that fits: both, and the same registry writes on
      ModelVersion fits = ModelVersion.newBuilder(p1).setStage(ModelStage.ARCHIVED).build();
      registry.publish(List.of(p2, fits));
      Map<String, ModelStage> stages = new HashMap<>();
      registry.versions(model).forEach(v -> stages.put(v.getVersion(), v.getStage()));
      assertThat(stages).isEqualTo(Map.of("p1", ModelStage.ARCHIVED, "p2", ModelStage.PRODUCTION));
    }
  }

  static ModelVersion version(String model, String v, ModelStage stage, String parent) {
    return ModelVersion.newBuilder(PromotionTest.version(v, stage, parent, T))
        .setModelName(model)
        .build();
  }
}
