package io.feedrank.localstack;

import io.feedrank.avro.Topics;
import io.feedrank.avro.Topics.TopicSpec;
import io.feedrank.avro.registry.HttpSchemaRegistryClient;
import io.feedrank.avro.registry.RegistryConfig;
import io.feedrank.avro.registry.SchemaRegistryClient;
import io.feedrank.avro.serde.AvroSerdes;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Duration;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Collectors;
import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.errors.TopicExistsException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The platform's real dependencies on one machine, no Docker: a Kafka 4.3 broker in KRaft mode (in
 * this JVM), a {@code redis-server} and the Apicurio Registry server (child processes). Every
 * listener binds to 127.0.0.1; ports are random unless given; all state lives in one fresh
 * directory that {@link #close()} deletes. On start it creates every topic of DESIGN §2 and
 * registers every value schema with FULL_TRANSITIVE compatibility ({@link
 * io.feedrank.avro.serde.AvroSerdes#COMPATIBILITY}).
 *
 * <pre>{@code
 * try (LocalStack stack = LocalStack.builder().build().start()) {
 *   stack.bootstrapServers(); stack.redisUri(); stack.registryUrl();
 * }
 * }</pre>
 */
public final class LocalStack implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(LocalStack.class);

  private final Builder config;
  private final Path workDir;
  private final KafkaBroker kafka;
  private final RedisInstance redis;
  private final RegistryServer registry;
  private SchemaRegistryClient registryClient;
  private Duration startupTime = Duration.ZERO;
  private volatile boolean closed;
  private Thread shutdownHook;

  private LocalStack(Builder b, Path workDir) {
    this.config = b;
    this.workDir = workDir;
    this.kafka = new KafkaBroker(workDir.resolve("kafka"), b.kafkaPort, b.brokerOverrides);
    this.redis = new RedisInstance(workDir.resolve("redis"), b.redisPort);
    this.registry = new RegistryServer(workDir.resolve("registry"), b.registryPort);
  }

  public static Builder builder() {
    return new Builder();
  }

  /**
   * Starts the three servers (in parallel), creates the topics and registers the schemas. On any
   * failure everything already started, or still starting, is stopped before the exception
   * propagates.
   */
  public LocalStack start() {
    long t0 = System.nanoTime();
    if (config.shutdownHook) {
      shutdownHook = new Thread(this::close, "local-stack-shutdown");
      Runtime.getRuntime().addShutdownHook(shutdownHook);
    }
    CompletableFuture<Void> reg = null;
    CompletableFuture<Void> red = null;
    try {
      Files.createDirectories(workDir.resolve("registry"));
      reg = CompletableFuture.runAsync(() -> unchecked(() -> registry.start(config.startTimeout)));
      red = CompletableFuture.runAsync(() -> unchecked(() -> redis.start(config.startTimeout)));
      kafka.start(config.startTimeout);
      createTopics(topics());
      red.get(config.startTimeout.toSeconds(), TimeUnit.SECONDS);
      reg.get(config.startTimeout.toSeconds(), TimeUnit.SECONDS);
      registryClient = new HttpSchemaRegistryClient(RegistryConfig.of(registryUrl()));
      AvroSerdes.registerAll(registryClient);
    } catch (Exception e) {
      Throwable cause = e instanceof ExecutionException && e.getCause() != null ? e.getCause() : e;
      awaitStarts(cause, reg, red);
      close();
      if (e instanceof InterruptedException) {
        Thread.currentThread().interrupt();
      }
      throw new IllegalStateException("local stack failed to start: " + cause.getMessage(), cause);
    }
    startupTime = Duration.ofNanos(System.nanoTime() - t0);
    log.info(
        "local-stack: up in {} ms: kafka {} redis {} registry {} (dir {})",
        startupTime.toMillis(),
        bootstrapServers(),
        redisUri(),
        registryUrl(),
        workDir);
    return this;
  }

  /**
   * After a failed start, waits for the registry's and Redis's starts still on their way (null: not
   * begun), each at most the start timeout. {@link #close()} stops only what has been launched when
   * it looks: a server launched after it outlived the stack, and wrote into the directory it
   * deletes. The registry is closed first, so that its start launches nothing that stays and ends
   * at its next probe rather than at the registry's readiness.
   */
  private void awaitStarts(Throwable failure, CompletableFuture<?>... starts) {
    log.warn(
        "local-stack: start failed ({}); stopping the registry and Redis once their starts end",
        failure.toString());
    quietly("registry", registry::close);
    for (CompletableFuture<?> start : starts) {
      if (start == null) {
        continue;
      }
      try {
        start.get(config.startTimeout.toMillis(), TimeUnit.MILLISECONDS);
      } catch (ExecutionException | CancellationException e) {
        // its own failure: the stack's is the one reported
      } catch (TimeoutException e) {
        log.warn("local-stack: a server's start did not end within {}", config.startTimeout);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
    }
  }

  /** The topics this stack creates: DESIGN §2, with the partition override applied. */
  public List<TopicSpec> topics() {
    return Topics.ALL.stream()
        .map(t -> config.partitions > 0 ? t.withPartitions(config.partitions) : t)
        .toList();
  }

  /**
   * Creates topics (replication factor 1, compaction as specified); existing ones are kept. Returns
   * once the broker serves every partition with a leader: producing to a topic the broker's
   * metadata does not know yet fails with NOT_LEADER_OR_FOLLOWER, which can leave an idempotent
   * producer retrying out-of-order sequences.
   */
  public void createTopics(Collection<TopicSpec> specs) {
    try (Admin admin = admin()) {
      List<NewTopic> newTopics =
          specs.stream()
              .map(
                  t ->
                      new NewTopic(t.name(), t.partitions(), (short) 1)
                          .configs(
                              Map.of(
                                  TopicConfig.CLEANUP_POLICY_CONFIG,
                                  t.compacted()
                                      ? TopicConfig.CLEANUP_POLICY_COMPACT
                                      : TopicConfig.CLEANUP_POLICY_DELETE)))
              .toList();
      for (var entry : admin.createTopics(newTopics).values().entrySet()) {
        try {
          entry.getValue().get(30, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
          if (!(e.getCause() instanceof TopicExistsException)) {
            throw new IllegalStateException(
                "could not create topic " + entry.getKey() + ": " + e.getCause(), e.getCause());
          }
        }
      }
      awaitPartitionLogs(
          admin, specs.stream().map(TopicSpec::name).toList(), Duration.ofSeconds(30));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while creating topics", e);
    } catch (java.util.concurrent.TimeoutException e) {
      throw new IllegalStateException("topic creation timed out", e);
    }
  }

  /**
   * Until the broker has a log for every partition of the topics: the metadata cache (what
   * describeTopics answers from) knows a new partition's leader a moment before the broker has
   * created its log and accepts produce requests for it.
   */
  private static void awaitPartitionLogs(Admin admin, List<String> names, Duration timeout)
      throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    java.util.Set<String> wanted = new java.util.HashSet<>(names);
    while (true) {
      try {
        Map<String, Integer> expected = new HashMap<>();
        admin
            .describeTopics(names)
            .allTopicNames()
            .get(10, TimeUnit.SECONDS)
            .forEach((n, d) -> expected.put(n, d.partitions().size()));
        Map<String, Integer> logs = new HashMap<>();
        admin
            .describeLogDirs(List.of(KafkaBroker.NODE_ID))
            .allDescriptions()
            .get(10, TimeUnit.SECONDS)
            .values()
            .stream()
            .flatMap(dirs -> dirs.values().stream())
            .flatMap(dir -> dir.replicaInfos().keySet().stream())
            .filter(tp -> wanted.contains(tp.topic()))
            .forEach(tp -> logs.merge(tp.topic(), 1, Integer::sum));
        if (expected.keySet().containsAll(wanted) && expected.equals(logs)) {
          return;
        }
      } catch (ExecutionException | java.util.concurrent.TimeoutException e) {
        // not known to the broker yet
      }
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException(
            "the broker has no log for every partition of " + names + " after " + timeout);
      }
      Thread.sleep(50);
    }
  }

  /** Names of the topics that exist on the broker. */
  public Set<String> existingTopics() {
    try (Admin admin = admin()) {
      return admin.listTopics().names().get(30, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    } catch (ExecutionException | java.util.concurrent.TimeoutException e) {
      throw new IllegalStateException("could not list topics", e);
    }
  }

  public String bootstrapServers() {
    return kafka.bootstrapServers();
  }

  /** {@code redis://127.0.0.1:port}. */
  public String redisUri() {
    return redis.uri();
  }

  /** Base URL of the registry's Confluent-compatible API ({@code .../apis/ccompat/v7}). */
  public String registryUrl() {
    return registry.ccompatUrl();
  }

  /** A client of the stack's registry, shared, closed with the stack. */
  public SchemaRegistryClient registryClient() {
    return registryClient;
  }

  /** The registry server, for tests that hold its start at a seam. */
  RegistryServer registry() {
    return registry;
  }

  /** The Redis server, which tests may stop and start again. */
  public RedisInstance redis() {
    return redis;
  }

  /** Client config every Kafka client of the stack needs (bootstrap servers, registry URL). */
  public Map<String, Object> clientConfig() {
    Map<String, Object> m = new HashMap<>();
    m.put(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers());
    m.put(RegistryConfig.URL, registryUrl());
    return m;
  }

  public Admin admin() {
    Properties p = new Properties();
    p.put(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers());
    return Admin.create(p);
  }

  /** Every TCP port the stack listens on: Kafka broker and controller, Redis, registry. */
  public Map<String, Integer> ports() {
    return Map.of(
        "kafka", kafka.port(),
        "kafka-controller", kafka.controllerPort(),
        "redis", redis.port(),
        "registry", registry.port());
  }

  /**
   * The stack's processes by name: {@code broker} is this JVM (Kafka runs in it), then {@code
   * redis} and {@code registry} while they run.
   */
  public Map<String, Long> processes() {
    Map<String, Long> m = new LinkedHashMap<>();
    m.put("broker", ProcessHandle.current().pid());
    if (redis.pid() > 0) {
      m.put("redis", redis.pid());
    }
    if (registry.pid() > 0) {
      m.put("registry", registry.pid());
    }
    return m;
  }

  /** Pids of the child processes (Redis, registry). */
  public List<Long> childPids() {
    return List.of(redis.pid(), registry.pid()).stream()
        .filter(p -> p > 0)
        .collect(Collectors.toList());
  }

  public Path workDir() {
    return workDir;
  }

  /** Wall time {@link #start()} took. */
  public Duration startupTime() {
    return startupTime;
  }

  /** Stops everything (registry, Redis, Kafka) and deletes the stack's directory. Idempotent. */
  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    if (shutdownHook != null && Thread.currentThread() != shutdownHook) {
      try {
        Runtime.getRuntime().removeShutdownHook(shutdownHook);
      } catch (IllegalStateException e) {
        // JVM already shutting down
      }
    }
    if (registryClient != null) {
      registryClient.close();
    }
    quietly("registry", registry::close);
    quietly("redis", redis::close);
    quietly("kafka", kafka::close);
    if (config.deleteOnClose) {
      quietly("work dir", () -> deleteRecursively(workDir));
    }
    log.info("local-stack: stopped");
  }

  private static void quietly(String what, Runnable r) {
    try {
      r.run();
    } catch (RuntimeException e) {
      log.warn("local-stack: stopping {} failed: {}", what, e.toString());
    }
  }

  private interface IoAction {
    void run() throws Exception;
  }

  private static void unchecked(IoAction a) {
    try {
      a.run();
    } catch (RuntimeException e) {
      throw e;
    } catch (Exception e) {
      throw new IllegalStateException(e.getMessage(), e);
    }
  }

  static void deleteRecursively(Path dir) {
    if (!Files.exists(dir)) {
      return;
    }
    try {
      Files.walkFileTree(
          dir,
          new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs)
                throws IOException {
              Files.deleteIfExists(file);
              return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult postVisitDirectory(Path d, IOException exc) throws IOException {
              Files.deleteIfExists(d);
              return FileVisitResult.CONTINUE;
            }
          });
    } catch (IOException e) {
      throw new UncheckedIOException("could not delete " + dir, e);
    }
  }

  /** Options; every port 0 (random) by default. */
  public static final class Builder {
    private Path workDir;
    private int kafkaPort;
    private int redisPort;
    private int registryPort;
    private int partitions;
    private boolean deleteOnClose = true;
    private boolean shutdownHook = true;
    private Duration startTimeout = Duration.ofSeconds(90);
    private final Map<String, String> brokerOverrides = new HashMap<>();

    /** Directory for all state; default a fresh temporary directory. */
    public Builder workDir(Path dir) {
      this.workDir = dir;
      return this;
    }

    public Builder kafkaPort(int port) {
      this.kafkaPort = port;
      return this;
    }

    public Builder redisPort(int port) {
      this.redisPort = port;
      return this;
    }

    public Builder registryPort(int port) {
      this.registryPort = port;
      return this;
    }

    /**
     * Partitions of every multi-partition topic (0 = DESIGN defaults, e.g. 12 for interactions).
     */
    public Builder partitions(int partitions) {
      if (partitions < 0) {
        throw new IllegalArgumentException("partitions must be >= 0, got " + partitions);
      }
      this.partitions = partitions;
      return this;
    }

    /** A broker config override (e.g. {@code log.segment.bytes}). */
    public Builder brokerConfig(String key, String value) {
      brokerOverrides.put(key, value);
      return this;
    }

    /** Keep the work directory after close (default: delete it). */
    /**
     * Whether the stack stops itself in a JVM shutdown hook (default true). An owner that runs
     * clients of the stack turns it off and closes the stack last in its own hook: JVM shutdown
     * hooks run concurrently, so the stack's own would stop Kafka and Redis under the clients still
     * closing. Child processes die with the JVM either way (their watchers).
     */
    public Builder shutdownHook(boolean register) {
      this.shutdownHook = register;
      return this;
    }

    public Builder deleteOnClose(boolean delete) {
      this.deleteOnClose = delete;
      return this;
    }

    public Builder startTimeout(Duration timeout) {
      this.startTimeout = timeout;
      return this;
    }

    public LocalStack build() {
      try {
        // absolute: the servers are started by paths under it, from directories of their own
        // (a relative one named a redis-server that was not there)
        Path dir =
            (workDir != null
                    ? Files.createDirectories(workDir)
                    : Files.createTempDirectory("feedrank-stack-"))
                .toAbsolutePath();
        return new LocalStack(this, dir);
      } catch (IOException e) {
        throw new UncheckedIOException("could not create the stack's directory", e);
      }
    }
  }
}
