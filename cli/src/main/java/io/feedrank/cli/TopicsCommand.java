package io.feedrank.cli;

import io.feedrank.avro.Topics;
import io.feedrank.avro.Topics.TopicSpec;
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
    header = "Create the platform's topics and register its schemas (FULL_TRANSITIVE).",
    description = {
      "init: creates every topic of DESIGN §2 that is missing, with its partitions and cleanup",
      "policy; reports the ones that exist, never changes them (a cleanup policy other than the",
      "DESIGN's is an error, exit code 1: compaction is what keeps model-registry, users and items",
      "whole); sets FULL_TRANSITIVE compatibility on every value subject without a level, with",
      "NONE or with BACKWARD (what earlier versions set), leaves and reports any other level, and",
      "registers every value schema.",
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
      names = "--topic-suffix",
      defaultValue = "",
      description =
          "appended to every topic name, as streams-features' topic.suffix (default: none)")
  String topicSuffix;

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
    List<TopicSpec> specs =
        Topics.ALL.stream().map(t -> t.renamed(t.name() + topicSuffix)).toList();
    out.printf(
        "feedrank topics: Kafka %s, registry %s%n",
        c.get("bootstrap.servers"), c.get("schema.registry.url"));
    out.flush();
    Admin a = Admin.create(admin);
    try {
      outcomes = TopicSetup.topics(a, specs, partitions, replicationFactor);
    } finally {
      a.close(Duration.ofSeconds(5)); // not the default, which waits out a pending call
    }
    // the topics' report first: it stands whatever the registry answers
    out.printf("%-20s %10s %-8s %s%n", "TOPIC", "PARTITIONS", "CLEANUP", "STATUS");
    for (TopicSetup.Outcome o : outcomes) {
      out.printf("%-20s %10d %-8s %s%n", o.topic(), o.partitions(), o.cleanupPolicy(), o.status());
    }
    out.flush();
    List<TopicSetup.SchemaOutcome> schemas;
    SchemaRegistryClient registry = new HttpSchemaRegistryClient(registryConfig);
    try {
      schemas = TopicSetup.schemas(registry, specs);
    } finally {
      registry.close();
    }
    out.printf("%-28s %-20s %s%n", "SUBJECT", "COMPATIBILITY", "STATUS");
    for (TopicSetup.SchemaOutcome o : schemas) {
      out.printf("%-28s %-20s %s%n", o.subject(), o.compatibility(), o.status());
    }
    out.println("schemas: every value subject registered");
    out.flush();
    return outcomes.stream().anyMatch(TopicSetup.Outcome::error) ? 1 : 0;
  }
}
