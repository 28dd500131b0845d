package io.feedrank.drift.io;

import static org.assertj.core.api.Assertions.assertThat;

import io.feedrank.avro.Topics;
import io.feedrank.avro.registry.RegistryConfig;
import io.feedrank.avro.serde.AvroSerdes;
import io.feedrank.drift.io.UnreadableRecordsTest.CountingGroup;
import io.feedrank.drift.job.ServingReference;
import io.feedrank.events.ModelStage;
import io.feedrank.events.ModelVersion;
import io.feedrank.localstack.LaggingRegistry;
import io.feedrank.localstack.LocalStack;
import io.feedrank.localstack.LocalStackTest;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;

/**
 * The drift job's reader of {@code model-registry} in front of a registry replica that has not read
 * a schema yet ({@link LaggingRegistry}: the first request for each schema id is answered 404), on
 * the real registry of the local stack. Skipping that record lost the promotion: the job went on
 * measuring drift against the version before it.
 */
@LocalStackTest
class RegistryRecordsIT {

  @Test
  void aPromotionWhoseSchemaTheReplicaDoesNotKnowYetIsReadAgainNotSkipped(LocalStack stack)
      throws Exception {
    String model = "registry-records-it-" + UUID.randomUUID();
    byte[] value =
        AvroSerdes.valueSerde(stack.registryClient(), ModelVersion.class)
            .serializer()
            .serialize(Topics.MODEL_REGISTRY, production(model, "v7"));
    int id = ByteBuffer.wrap(value, 1, 4).getInt();

    try (LaggingRegistry lagging = new LaggingRegistry(stack.registryUrl())) {
      CountingGroup metrics = new CountingGroup();
      RegistryRecords source = new RegistryRecords(Map.of(RegistryConfig.URL, lagging.url()));
      source.open(UnreadableRecordsTest.context(metrics));
      List<ServingReference> out = new ArrayList<>();

      source.deserialize(record(value, 41), UnreadableRecordsTest.collector(out));

      assertThat(out).hasSize(1);
      assertThat(out.get(0).modelName).isEqualTo(model);
      assertThat(out.get(0).version).isEqualTo("v7");
      assertThat(out.get(0).stage).isEqualTo("PRODUCTION");
      assertThat(out.get(0).sequence).isEqualTo(42);
      assertThat(metrics.undecodable()).isZero();
      assertThat(lagging.schemaByIdCalls(id)).as("asked for schema id %d", id).isEqualTo(2);
    }
  }

  /**
   * A record whose schema id no registry knows (a producer without one) is read again until the id
   * has been unknown for the patience, then skipped and counted as any undecodable record.
   */
  @Test
  void aRecordOfASchemaIdNoRegistryKnowsIsSkippedAfterThePatience(LocalStack stack)
      throws Exception {
    int foreign = 987_654_321;
    byte[] value = ByteBuffer.allocate(7).put((byte) 0).putInt(foreign).put((byte) 2).array();
    try (LaggingRegistry lagging = new LaggingRegistry(stack.registryUrl())) {
      CountingGroup metrics = new CountingGroup();
      RegistryRecords source =
          new RegistryRecords(Map.of(RegistryConfig.URL, lagging.url()), Duration.ofSeconds(2));
      source.open(UnreadableRecordsTest.context(metrics));
      List<ServingReference> out = new ArrayList<>();

      source.deserialize(record(value, 0), UnreadableRecordsTest.collector(out));

      assertThat(out).isEmpty();
      assertThat(metrics.undecodable()).isEqualTo(1);
      // 404 from the lagging replica, then from the registry itself
      assertThat(lagging.schemaByIdCalls(foreign)).as("asked for the foreign id").isGreaterThan(1);
    }
  }

  private static ModelVersion production(String model, String version) {
    Instant now = Instant.now();
    return ModelVersion.newBuilder()
        .setModelName(model)
        .setVersion(version)
        .setStage(ModelStage.PRODUCTION)
        .setArchitecture("mlp")
        .setCreatedAt(now)
        .setUpdatedAt(now)
        .setArtifactUri("file:/unused")
        .setArtifactSha256("00")
        .setFeatureSchemaVersion(1)
        .build();
  }

  private static ConsumerRecord<byte[], byte[]> record(byte[] value, long offset) {
    return new ConsumerRecord<>(Topics.MODEL_REGISTRY, 0, offset, null, value);
  }
}
