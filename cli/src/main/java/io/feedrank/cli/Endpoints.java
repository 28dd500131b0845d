package io.feedrank.cli;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.function.UnaryOperator;

/**
 * Where the platform's dependencies are: Kafka, the schema registry, Redis. Resolved in order from
 * command-line options, the environment ({@code FEEDRANK_BOOTSTRAP_SERVERS}, {@code
 * FEEDRANK_REGISTRY_URL}, {@code FEEDRANK_REGISTRY_BASIC_AUTH}, {@code FEEDRANK_REDIS_URI}), and
 * the stack a running {@code ./feedrank up} announced in {@code .feedrank/stack.properties}.
 */
public record Endpoints(
    String bootstrapServers, String registryUrl, String registryBasicAuth, String redisUri) {

  public static final String ENV_BOOTSTRAP = "FEEDRANK_BOOTSTRAP_SERVERS";
  public static final String ENV_REGISTRY = "FEEDRANK_REGISTRY_URL";
  public static final String ENV_REGISTRY_AUTH = "FEEDRANK_REGISTRY_BASIC_AUTH";
  public static final String ENV_REDIS = "FEEDRANK_REDIS_URI";

  /** Where {@code ./feedrank up} writes its endpoints: {@code $FEEDRANK_HOME/.feedrank}. */
  public static Path stateDir(Map<String, String> env) {
    return Paths.get(env.getOrDefault("FEEDRANK_HOME", "."), ".feedrank");
  }

  static Path stateFile(Map<String, String> env) {
    return stateDir(env).resolve("stack.properties");
  }

  /**
   * Resolves the endpoints. Each is taken from what the command was given (an option or its config
   * file), else from the environment; a running {@code ./feedrank up}'s are taken only when none is
   * given either way, and then all of them: endpoints given in part, with the rest filled in from
   * the local stack, would write a real cluster's records with a local registry's schema ids.
   *
   * @param redis the Redis URI given, for a command with {@code withRedis}; ignored otherwise, as
   *     is {@code FEEDRANK_REDIS_URI}
   * @throws IllegalArgumentException naming what is missing and how to give it
   */
  public static Endpoints resolve(
      String bootstrap, String registry, String redis, boolean withRedis, Map<String, String> env) {
    String b = first(bootstrap, env.get(ENV_BOOTSTRAP));
    String r = first(registry, env.get(ENV_REGISTRY));
    String rd = withRedis ? first(redis, env.get(ENV_REDIS)) : null;
    if (b == null && r == null && rd == null) {
      Optional<Properties> up = readUpState(env);
      if (up.isPresent()) {
        b = up.get().getProperty("bootstrap.servers");
        r = up.get().getProperty("schema.registry.url");
        rd = withRedis ? up.get().getProperty("redis.uri") : null;
      }
    } else if (b == null || r == null) {
      List<String> missing = new ArrayList<>();
      if (b == null) {
        missing.add("Kafka (--bootstrap-servers or " + ENV_BOOTSTRAP + ")");
      }
      if (r == null) {
        missing.add("schema registry (--registry-url or " + ENV_REGISTRY + ")");
      }
      String given = b != null ? "Kafka" : r != null ? "the schema registry" : "Redis";
      throw new IllegalArgumentException(
          "no "
              + String.join(" and no ", missing)
              + " given, while "
              + given
              + " is: a running ./feedrank up's endpoints are taken only when none is given,"
              + " and then all of them");
    }
    if (b == null || r == null) {
      throw new IllegalArgumentException(
          "no Kafka / schema registry given: pass --bootstrap-servers and --registry-url, set "
              + ENV_BOOTSTRAP
              + " and "
              + ENV_REGISTRY
              + ", or start the local stack with ./feedrank up");
    }
    return new Endpoints(b, r, first(env.get(ENV_REGISTRY_AUTH)), rd);
  }

  /** Kafka client config: bootstrap servers, registry URL and auth. */
  public Map<String, Object> clientConfig() {
    Map<String, Object> m = new HashMap<>();
    m.put("bootstrap.servers", bootstrapServers);
    m.put("schema.registry.url", registryUrl);
    if (registryBasicAuth != null && !registryBasicAuth.isBlank()) {
      m.put("basic.auth.user.info", registryBasicAuth);
    }
    return m;
  }

  /** Announces a running stack for other commands (written by {@code up}). */
  static void writeUpState(Map<String, String> env, Endpoints e, long pid) {
    writeUpState(env, e, pid, null, null);
  }

  /**
   * The key of the ranker's URL in the announcement of a whole platform, read by loadtest's {@code
   * LoadConfig} (which does not depend on this module).
   */
  static final String RANKER_URL = "ranker.url";

  /**
   * Announces a running stack and, for a whole platform, the artifact store its trainer writes runs
   * and models to, which {@code runs} and {@code train} then use by default, and its ranker's URL,
   * which {@code ./feedrank loadtest} loads by default: the ranker takes a random port when 8080 is
   * taken.
   */
  static void writeUpState(
      Map<String, String> env, Endpoints e, long pid, Path artifacts, String rankerUrl) {
    writeUpState(env, e, pid, artifacts, rankerUrl, out -> out);
  }

  /**
   * Writes the announcement whole to a file of its own beside it, then moves that into place in one
   * step: a command reading meanwhile finds the previous announcement or this one. Written in
   * place, the file was empty from its truncation until the write, and a command reading it then
   * went on as if no up ran (taking no endpoints, or its own default artifact store).
   *
   * @param through wraps the stream the announcement is written to (for tests: a write held midway)
   */
  static void writeUpState(
      Map<String, String> env,
      Endpoints e,
      long pid,
      Path artifacts,
      String rankerUrl,
      UnaryOperator<OutputStream> through) {
    Properties p = new Properties();
    if (artifacts != null) {
      p.setProperty("artifact.store", artifacts.toAbsolutePath().toString());
    }
    if (rankerUrl != null) {
      p.setProperty(RANKER_URL, rankerUrl);
    }
    p.setProperty("bootstrap.servers", e.bootstrapServers());
    p.setProperty("schema.registry.url", e.registryUrl());
    p.setProperty("redis.uri", e.redisUri());
    p.setProperty("pid", Long.toString(pid));
    try {
      Files.createDirectories(stateDir(env));
      Path written = Files.createTempFile(stateDir(env), "stack.properties.", ".tmp");
      try {
        try (OutputStream out = through.apply(Files.newOutputStream(written))) {
          p.store(out, "written by ./feedrank up; removed when it stops");
        }
        Files.move(written, stateFile(env), StandardCopyOption.ATOMIC_MOVE);
      } finally {
        Files.deleteIfExists(written); // gone once moved; left only by a failure
      }
    } catch (IOException ex) {
      throw new UncheckedIOException("could not write " + stateFile(env), ex);
    }
  }

  /**
   * Withdraws the announcement of the {@code up} of process {@code pid}: only its own, since a
   * second {@code up} (on other ports) replaced the file with its announcement, which must outlive
   * the first one's stop.
   */
  static void clearUpState(Map<String, String> env, long pid) {
    Path f = stateFile(env);
    Properties p = new Properties();
    try {
      try (InputStream in = Files.newInputStream(f)) {
        p.load(in);
      }
      if (Long.toString(pid).equals(p.getProperty("pid"))) {
        Files.deleteIfExists(f);
      }
    } catch (IOException ignored) {
      // none, or best effort at shutdown
    }
  }

  /**
   * A running {@code up} of the whole platform (not {@code --stack-only}): its process and Kafka.
   */
  record RunningPlatform(long pid, String bootstrapServers) {}

  /** The whole platform a running {@code up} announced (it names an artifact store), if any. */
  static Optional<RunningPlatform> runningPlatform(Map<String, String> env) {
    return readUpState(env)
        .filter(p -> p.getProperty("artifact.store") != null)
        .map(
            p ->
                new RunningPlatform(
                    Long.parseLong(p.getProperty("pid")), p.getProperty("bootstrap.servers")));
  }

  /** The artifact store of the platform a running {@code up} announced, if any. */
  static Optional<String> upArtifactStore(Map<String, String> env) {
    return readUpState(env).map(p -> p.getProperty("artifact.store"));
  }

  private static Optional<Properties> readUpState(Map<String, String> env) {
    Path f = stateFile(env);
    if (!Files.exists(f)) {
      return Optional.empty();
    }
    Properties p = new Properties();
    try (InputStream in = Files.newInputStream(f)) {
      p.load(in);
    } catch (IOException e) {
      return Optional.empty();
    }
    // a stale file from an up that was killed (kill -9, or an exit on OutOfMemoryError, which run
    // no hook): the lock every up holds for as long as it runs is free. Its pid alone was taken
    // for one: after a container's restart pids start again from 1, and any process given the
    // dead up's, this command's own JVM included, made its stack found, and the command waited out
    // Kafka's timeouts
    long pid = Long.parseLong(p.getProperty("pid", "-1"));
    if (UpLock.isHeld(stateDir(env).resolve(UpLock.FILE))
        && ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)) {
      return Optional.of(p);
    }
    return Optional.empty();
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
