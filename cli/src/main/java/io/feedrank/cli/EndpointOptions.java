package io.feedrank.cli;

import picocli.CommandLine.Option;

/**
 * {@code --bootstrap-servers} and {@code --registry-url}, for every command that talks to Kafka.
 */
final class EndpointOptions {
  @Option(names = "--bootstrap-servers", description = "Kafka bootstrap servers")
  String bootstrapServers;

  @Option(names = "--registry-url", description = "schema registry base URL (Confluent API)")
  String registryUrl;
}
