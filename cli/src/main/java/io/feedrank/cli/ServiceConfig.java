package io.feedrank.cli;

import io.feedrank.avro.ConfigMap;
import io.feedrank.avro.registry.RegistryConfig;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Properties;
import java.util.function.Supplier;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParameterException;

/**
 * The configuration map of a service command ({@code streams}, {@code ranker}, ...): the {@code
 * --config} file (with a command's {@code KEY=VALUE} options over it), then Kafka, registry and
 * Redis endpoints from the options, else the file, else the environment, else the running {@code
 * ./feedrank up} (only when none is given: {@link Endpoints#resolve}), then the command's own
 * options. An endpoint given empty, as an option or in the file, is refused rather than skipped: an
 * unset template variable must not send a service to other endpoints than intended.
 */
final class ServiceConfig {
  private final Map<String, String> values;

  private ServiceConfig(Map<String, String> values) {
    this.values = values;
  }

  /**
   * Reads a service's configuration with {@code read}: a value it refuses ({@link
   * IllegalArgumentException}, naming the key) is a usage error, exit 2 with the message, as a bad
   * option is; it was exit 1, as for a failure of the running service.
   */
  static <T> T refusing(CommandSpec spec, Supplier<T> read) {
    try {
      return read.get();
    } catch (IllegalArgumentException e) {
      throw new ParameterException(spec.commandLine(), e.getMessage(), e);
    }
  }

  static ServiceConfig resolve(
      Path configFile, EndpointOptions options, String redisUri, Map<String, String> env) {
    return resolve(configFile, Map.of(), options, redisUri, env);
  }

  /**
   * @param overFile keys over the file's ({@code --ranker-config}), under the named options
   */
  static ServiceConfig resolve(
      Path configFile,
      Map<String, String> overFile,
      EndpointOptions options,
      String redisUri,
      Map<String, String> env) {
    return endpoints(configFile, overFile, options, redisUri, true, env);
  }

  /** As {@link #resolve}, for a command that needs Kafka and the registry but not Redis. */
  static ServiceConfig resolveKafka(
      Path configFile, EndpointOptions options, Map<String, String> env) {
    return endpoints(configFile, Map.of(), options, null, false, env);
  }

  private static ServiceConfig endpoints(
      Path configFile,
      Map<String, String> overFile,
      EndpointOptions options,
      String redisUri,
      boolean withRedis,
      Map<String, String> env) {
    Map<String, String> c = new HashMap<>(load(configFile));
    c.putAll(overFile);
    java.util.function.Function<String, String> where =
        key ->
            overFile.containsKey(key)
                ? "the " + key + "=VALUE option"
                : configFile == null ? "the configuration" : configFile.toString();
    String fileRegistry = c.get("schema.registry.url"); // the file's, or a KEY=VALUE option's
    Endpoints e =
        Endpoints.resolve(
            given("--bootstrap-servers", options.bootstrapServers, "bootstrap.servers", c, where),
            given("--registry-url", options.registryUrl, "schema.registry.url", c, where),
            withRedis ? given("--redis-uri", redisUri, "redis.uri", c, where) : null,
            withRedis,
            env);
    c.put("bootstrap.servers", e.bootstrapServers());
    c.put("schema.registry.url", e.registryUrl());
    // credentials go with the registry they came with: the file's to the file's registry only, the
    // environment's to one the file does not name, never over the file's own
    boolean fileNamesRegistry = fileRegistry != null && !fileRegistry.isBlank();
    if (fileNamesRegistry && options.registryUrl != null) {
      c.remove("basic.auth.user.info");
    }
    if (!c.containsKey("basic.auth.user.info") && e.registryBasicAuth() != null) {
      if (fileNamesRegistry && options.registryUrl == null) {
        System.err.println(
            "feedrank: "
                + Endpoints.ENV_REGISTRY_AUTH
                + " is not sent to "
                + fileRegistry
                + ", the registry of "
                + where.apply("schema.registry.url")
                + ": give its basic.auth.user.info there");
      } else {
        c.put("basic.auth.user.info", e.registryBasicAuth());
      }
    }
    if (withRedis) {
      if (e.redisUri() == null) {
        throw new IllegalArgumentException(
            "no Redis given: pass --redis-uri, set "
                + Endpoints.ENV_REDIS
                + ", or start ./feedrank up (whose endpoints are taken only when none is given)");
      }
      c.put("redis.uri", e.redisUri());
    }
    return new ServiceConfig(c);
  }

  /**
   * The value of {@code option}, else of {@code key} in the configuration, else null; either given
   * blank is refused.
   */
  private static String given(
      String option,
      String optionValue,
      String key,
      Map<String, String> c,
      java.util.function.Function<String, String> where) {
    if (optionValue != null) {
      if (optionValue.isBlank()) {
        throw new IllegalArgumentException(option + " is empty");
      }
      return optionValue.trim();
    }
    String v = c.get(key);
    if (v != null && v.isBlank()) {
      throw new IllegalArgumentException(key + " is empty in " + where.apply(key));
    }
    return v == null ? null : v.trim();
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

  /**
   * The registry's configuration, for a command whose file holds only endpoints, registry keys and
   * {@code kafka.*} keys (simulate, topics): any other key is refused, as the services refuse
   * theirs (a misspelt {@code kafka.security.protocol} would otherwise connect in plaintext), and
   * so is a registry URL with credentials in it, before anything is printed or started.
   *
   * @param command what reads the file, for the message
   */
  RegistryConfig registryOnly(String command) {
    return ConfigMap.read(
        values,
        command,
        m -> {
          m.get("bootstrap.servers");
          return RegistryConfig.fromMap(m);
        });
  }

  /**
   * The keys of the {@code --config} file, none without one.
   *
   * @throws IllegalArgumentException naming {@code --config} and the file when it is missing,
   *     unreadable or not a properties file: a usage error ({@link #refusing}), as a bad key in it
   */
  static Map<String, String> load(Path file) {
    Map<String, String> m = new HashMap<>();
    if (file == null) {
      return m;
    }
    Properties p = new Properties();
    try (InputStream in = Files.newInputStream(file)) {
      p.load(in);
    } catch (NoSuchFileException ex) {
      throw new IllegalArgumentException("--config " + file + ": no such file", ex);
    } catch (IOException ex) {
      throw new IllegalArgumentException("--config " + file + ": cannot read it: " + ex, ex);
    } catch (IllegalArgumentException ex) { // Properties.load: a malformed Unicode escape
      throw new IllegalArgumentException("--config " + file + ": " + ex.getMessage(), ex);
    }
    p.stringPropertyNames().forEach(k -> m.put(k, p.getProperty(k)));
    return m;
  }
}
