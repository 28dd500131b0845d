package io.feedrank.ranker;

import io.feedrank.avro.Topics;
import io.feedrank.avro.serde.AvroSerializer;
import io.feedrank.events.ModelVersion;
import io.feedrank.localstack.LocalStack;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;

/** Publishes {@code ModelVersion} records as the trainer does, for tests in any package. */
public final class RegistryRecords {
  /**
   * Each record to {@code topic} under the registry's key ({@code name@version}), Avro through the
   * stack's schema registry, each acknowledged before the next is sent.
   */
  public static void publish(LocalStack stack, String topic, List<ModelVersion> records)
      throws Exception {
    Map<String, Object> p = new HashMap<>(stack.clientConfig());
    p.put("schema.registry.url", stack.registryUrl());
    AvroSerializer<ModelVersion> values = new AvroSerializer<>();
    values.configure(p, false);
    try (KafkaProducer<String, ModelVersion> producer =
        new KafkaProducer<>(p, new StringSerializer(), values)) {
      for (ModelVersion mv : records) {
        String key =
            Topics.modelRegistryKey(mv.getModelName().toString(), mv.getVersion().toString());
        producer.send(new ProducerRecord<>(topic, key, mv)).get();
      }
    }
  }

  private RegistryRecords() {}
}
