package io.feedrank.cli;

import io.feedrank.avro.Topics;
import io.feedrank.avro.registry.HttpSchemaRegistryClient;
import io.feedrank.avro.registry.RegistryConfig;
import io.feedrank.avro.registry.SchemaRegistryClient;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import org.apache.kafka.clients.admin.Admin;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code ./feedrank topics init}: the topics and schemas of DESIGN §2 on a cluster of one's own.
 */
@Command(
    name = "topics",
    mixinStandardHelpOptions = true,
    header = "Create the platform's topics and register its schemas (BACKWARD).",
    description = {
      "init: creates every topic of DESIGN §2 that is missing, with its partitions and cleanup",
      "policy; reports the ones that exist, never changes them (a cleanup policy other than the",
      "DESIGN's is an error, exit code 1: compaction is what keeps model-registry, users and items",
      "whole); sets BACKWARD compatibility on every value subject and registers its schema.",
      "Endpoints: options, else FEEDRANK_BOOTSTRAP_SERVERS / FEEDRANK_REGISTRY_URL, else (none",
      "given) those of a running ./feedrank up; kafka.* keys of --config reach the admin client."
    })
final class TopicsCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Mixin EndpointOptions endpointOptions;

  @Parameters(index = "0", description = "init")
  String action;

  @Option(
      names = "--partitions",
      defaultValue = "0",
      description =
          "partitions of the multi-partition topics (default 0: the DESIGN's, 12 for interactions)")
  int partitions;

  @Option(
      names = "--replication-factor",
      defaultValue = "-1",
      description = "replication factor of new topics (default -1: the brokers' default)")
  short replicationFactor;

  @Option(
      names = "--config",
      description = "properties file: bootstrap.servers, schema.registry.url, kafka.* keys")
  Path configFile;

  @Override
  public Integer call() throws Exception {
    if (!"init".equals(action)) {
      throw new ParameterException(spec.commandLine(), "unknown action '" + action + "': init");
    }
    if (partitions < 0) {
      throw new ParameterException(spec.commandLine(), "--partitions must be 0 or more");
    }
    if (replicationFactor == 0 || replicationFactor < -1) {
      throw new ParameterException(
          spec.commandLine(), "--replication-factor must be 1 or more, or -1 for the brokers'");
    }
    ServiceConfig s =
        ServiceConfig.refusing(
            spec, () -> ServiceConfig.resolveKafka(configFile, endpointOptions, System.getenv()));
    Map<String, String> c = s.values();
    // before anything is printed or created: unknown keys, and a URL with credentials in it
    RegistryConfig registryConfig =
        ServiceConfig.refusing(spec, () -> s.registryOnly("feedrank topics"));
    Map<String, Object> admin = s.kafkaClient();
    PrintWriter out = spec.commandLine().getOut();
    List<TopicSetup.Outcome> outcomes;
    out.printf(
        "feedrank topics: Kafka %s, registry %s%n",
        c.get("bootstrap.servers"), c.get("schema.registry.url"));
    out.flush();
    Admin a = Admin.create(admin);
    try {
      outcomes = TopicSetup.topics(a, Topics.ALL, partitions, replicationFactor);
    } finally {
      a.close(Duration.ofSeconds(5)); // not the default, which waits out a pending call
    }
    // the topics' report first: it stands whatever the registry answers
    out.printf("%-20s %10s %-8s %s%n", "TOPIC", "PARTITIONS", "CLEANUP", "STATUS");
    for (TopicSetup.Outcome o : outcomes) {
      out.printf("%-20s %10d %-8s %s%n", o.topic(), o.partitions(), o.cleanupPolicy(), o.status());
    }
    out.flush();
    SchemaRegistryClient registry = new HttpSchemaRegistryClient(registryConfig);
    try {
      TopicSetup.schemas(registry, Topics.ALL);
    } finally {
      registry.close();
    }
    out.printf(
        "schemas: every value subject registered, compatibility %s%n",
        io.feedrank.avro.serde.AvroSerdes.COMPATIBILITY);
    out.flush();
    return outcomes.stream().anyMatch(TopicSetup.Outcome::error) ? 1 : 0;
  }
}
