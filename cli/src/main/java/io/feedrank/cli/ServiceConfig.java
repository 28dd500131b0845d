package io.feedrank.cli;

import io.feedrank.avro.ConfigMap;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Properties;

/**
 * The configuration map of a service command ({@code streams}, {@code ranker}): the {@code
 * --config} file, then Kafka, registry and Redis endpoints from the options, else the environment,
 * else the running {@code ./feedrank up}, then the command's own options.
 */
final class ServiceConfig {
  private final Map<String, String> values;

  /** The Redis of the resolved endpoints (environment or running stack), if any. */
  private final String endpointRedis;

  private ServiceConfig(Map<String, String> values, String endpointRedis) {
    this.values = values;
    this.endpointRedis = endpointRedis;
  }

  static ServiceConfig resolve(
      Path configFile, EndpointOptions options, String redisUri, Map<String, String> env) {
    ServiceConfig s = resolveKafka(configFile, options, env);
    Map<String, String> c = s.values;
    String redis = first(redisUri, c.get("redis.uri"), s.endpointRedis);
    if (redis == null) {
      throw new IllegalArgumentException(
          "no Redis given: pass --redis-uri, set "
              + Endpoints.ENV_REDIS
              + ", or start ./feedrank up");
    }
    c.put("redis.uri", redis);
    return s;
  }

  /** As {@link #resolve}, for a command that needs Kafka and the registry but not Redis. */
  static ServiceConfig resolveKafka(
      Path configFile, EndpointOptions options, Map<String, String> env) {
    Map<String, String> c = new HashMap<>(load(configFile));
    Endpoints e =
        Endpoints.resolve(
            first(options.bootstrapServers, c.get("bootstrap.servers")),
            first(options.registryUrl, c.get("schema.registry.url")),
            env);
    c.put("bootstrap.servers", e.bootstrapServers());
    c.put("schema.registry.url", e.registryUrl());
    if (e.registryBasicAuth() != null) {
      c.put("basic.auth.user.info", e.registryBasicAuth());
    }
    return new ServiceConfig(c, e.redisUri());
  }

  /** Sets {@code key} when the option was given. */
  ServiceConfig option(String key, Object value) {
    if (value != null) {
      values.put(key, value.toString());
    }
    return this;
  }

  /** Sets {@code key} when neither the file nor an option did. */
  ServiceConfig orDefault(String key, String value) {
    values.putIfAbsent(key, value);
    return this;
  }

  Map<String, String> values() {
    return values;
  }

  /**
   * A Kafka client's configuration (producer, admin): {@code bootstrap.servers} and every {@code
   * kafka.*} key without its prefix (SASL, TLS, ...), as the services read them.
   */
  Map<String, Object> kafkaClient() {
    Map<String, Object> m = new HashMap<>(ConfigMap.kafkaKeys(values));
    m.put("bootstrap.servers", values.get("bootstrap.servers"));
    return m;
  }

  static Map<String, String> load(Path file) {
    Map<String, String> m = new HashMap<>();
    if (file == null) {
      return m;
    }
    Properties p = new Properties();
    try (InputStream in = Files.newInputStream(file)) {
      p.load(in);
    } catch (IOException ex) {
      throw new UncheckedIOException("could not read " + file, ex);
    }
    p.stringPropertyNames().forEach(k -> m.put(k, p.getProperty(k)));
    return m;
  }

  private static String first(String... values) {
    for (String v : values) {
      if (v != null && !v.isBlank()) {
        return v;
      }
    }
    return null;
  }
}
