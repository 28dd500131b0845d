package io.feedrank.trainer.listen;

import io.feedrank.avro.serde.AvroDeserializer;
import io.feedrank.avro.serde.RegistryUnavailableException;
import io.feedrank.events.ModelStage;
import io.feedrank.events.ModelVersion;
import io.feedrank.events.RetrainCommand;
import io.feedrank.trainer.registry.ModelRegistry;
import io.micrometer.core.instrument.Counter;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.RecordDeserializationException;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code train --listen}: consumes {@code retrain-commands} and runs one training per command, one
 * at a time. A poller thread keeps the consumer alive (trainings take minutes) and queues commands
 * for a single worker thread, so a command that arrives during a run waits for it. Commands are
 * deduplicated by {@code command_id} — against the ones queued or run since start and the ones
 * recorded in earlier runs — and an offset is committed only once its command (and every command
 * before it) has run, so a crash mid-run replays the command and nothing is lost. Closing
 * interrupts the run in progress (a training stops at its next batch) and leaves its command
 * uncommitted, so the next start runs it again. A command whose schema the registry cannot give
 * (unreachable, hung) waits for it, read again after a wait that doubles from 1 s to 30 s; one that
 * cannot be decoded at all is logged with the reason and committed past. When the group moves a
 * partition to another listener, the commands of it not yet committed are handed back: the run in
 * progress stops (CANCELLED) and the new owner runs them. A command for another model is logged,
 * counted and committed past: that model's trainer reads it in a group of its own.
 *
 * <p>A command whose reference version another version has replaced in production since it was
 * issued is logged, counted and committed past when its turn comes, not run: the drift job's
 * commands of different kinds share no cooldown, so one episode (a shift that moves the scores and
 * lowers the CTR in the same windows) gives a {@code PREDICTION_DRIFT} and a {@code
 * PERFORMANCE_DROP} command with different ids for the one production version, and the first one's
 * run has already answered the second by promoting a new version. A command whose reference is
 * still in production runs, whatever ran before it (a retrain that did not beat production leaves
 * the drift to be answered), as does one without a reference.
 */
public final class RetrainListener implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(RetrainListener.class);

  /** What runs a command; exceptions are logged and the command counts as handled. */
  @FunctionalInterface
  public interface Handler {
    void handle(RetrainCommand command) throws Exception;
  }

  private final Consumer<String, RetrainCommand> consumer;
  private final String topic;
  private final String groupId;
  private final String modelName;
  private final ModelRegistry registry;
  private final Counter otherModel;
  private final Counter superseded;
  private final Handler handler;
  private final Set<String> seen = new HashSet<>();
  private final ArrayDeque<Pending> pending = new ArrayDeque<>();
  private final ExecutorService worker =
      Executors.newSingleThreadExecutor(r -> new Thread(r, "trainer-worker"));
  private final Thread poller;
  private final CompletableFuture<Void> failed = new CompletableFuture<>();
  private final CountDownLatch closing = new CountDownLatch(1);
  private volatile boolean running = true;

  /** The first wait, and the longest, before reading a command the registry could not help with. */
  static final long FIRST_REGISTRY_WAIT_MS = 1_000;

  static final long MAX_REGISTRY_WAIT_MS = 30_000;

  private static final class Pending {
    final TopicPartition partition;
    final long offset;
    volatile boolean done;

    /** Its partition went to another member of the group, which reads the command again. */
    volatile boolean revoked;

    String commandId; // the poller's: set when queued for the worker
    Future<?> run; // the poller's

    Pending(TopicPartition partition, long offset, boolean done) {
      this.partition = partition;
      this.offset = offset;
      this.done = done;
    }
  }

  public RetrainListener(
      Map<String, Object> kafka,
      Deserializer<RetrainCommand> values,
      String topic,
      String groupId,
      String modelName,
      ModelRegistry registry,
      Collection<String> alreadyRun,
      Counter otherModel,
      Counter superseded,
      Handler handler) {
    this(
        kafkaConsumer(kafka, values, groupId),
        topic,
        groupId,
        modelName,
        registry,
        alreadyRun,
        otherModel,
        superseded,
        handler);
  }

  /**
   * On {@code consumer} of group {@code groupId}, which it subscribes to {@code topic}, commits to
   * and closes; {@code registry} says which version is in production when a command's turn comes;
   * {@code otherModel} and {@code superseded} count the commands skipped as another model's and as
   * answered by a promotion since.
   */
  RetrainListener(
      Consumer<String, RetrainCommand> consumer,
      String topic,
      String groupId,
      String modelName,
      ModelRegistry registry,
      Collection<String> alreadyRun,
      Counter otherModel,
      Counter superseded,
      Handler handler) {
    this.consumer = consumer;
    this.topic = topic;
    this.groupId = groupId;
    this.modelName = modelName;
    this.registry = registry;
    this.otherModel = otherModel;
    this.superseded = superseded;
    this.handler = handler;
    this.seen.addAll(alreadyRun);
    this.poller = new Thread(this::poll, "trainer-retrain-listener");
  }

  private static KafkaConsumer<String, RetrainCommand> kafkaConsumer(
      Map<String, Object> kafka, Deserializer<RetrainCommand> values, String groupId) {
    Properties p = new Properties();
    p.putAll(kafka);
    p.put(ConsumerConfig.GROUP_ID_CONFIG, groupId);
    p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
    p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    return new KafkaConsumer<>(p, new StringDeserializer(), values);
  }

  /**
   * Completes when the listener has stopped consuming on an error, not by {@link #close}: it takes
   * no more commands, and the process should end so that whatever runs it restarts it.
   */
  public CompletableFuture<Void> failed() {
    return failed;
  }

  public void start() {
    poller.start();
  }

  private void poll() {
    consumer.subscribe(
        List.of(topic),
        new ConsumerRebalanceListener() {
          @Override
          public void onPartitionsRevoked(Collection<TopicPartition> parts) {
            commitDone();
            handBack(parts);
          }

          @Override
          public void onPartitionsAssigned(Collection<TopicPartition> parts) {}
        });
    long registryWait = FIRST_REGISTRY_WAIT_MS;
    try {
      while (running) {
        try {
          for (ConsumerRecord<String, RetrainCommand> r : consumer.poll(Duration.ofMillis(200))) {
            accept(r);
          }
          registryWait = FIRST_REGISTRY_WAIT_MS;
        } catch (RecordDeserializationException e) {
          if (RegistryUnavailableException.isCauseOf(e)) {
            // the command is fine, the schema registry did not answer: neither skipped nor
            // committed; the consumer stays at it, and the next poll decodes it again
            log.warn(
                "trainer: cannot read the retrain command at {}@{}: {}; trying again in {} ms",
                e.topicPartition(),
                e.offset(),
                AvroDeserializer.reason(e),
                registryWait);
            if (closing.await(registryWait, TimeUnit.MILLISECONDS)) {
              break;
            }
            registryWait = Math.min(2 * registryWait, MAX_REGISTRY_WAIT_MS);
            continue;
          }
          log.warn(
              "trainer: skipping undecodable retrain command at {}@{}: {}",
              e.topicPartition(),
              e.offset(),
              AvroDeserializer.reason(e));
          // handled: committed past with the commands before it, not read again after a restart
          synchronized (pending) {
            pending.add(new Pending(e.topicPartition(), e.offset(), true));
          }
          consumer.seek(e.topicPartition(), e.offset() + 1);
        }
        commitDone();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (WakeupException e) {
      if (running) {
        log.error("trainer: retrain listener woken up while running; it stopped", e);
        failed.complete(null);
      }
    } catch (RuntimeException e) {
      // e.g. fenced by another member with the same group.instance.id, or not authorized
      log.error("trainer: retrain listener stopped: {}", e.toString(), e);
      failed.complete(null);
    } finally {
      commitDone();
      consumer.close(Duration.ofSeconds(5));
    }
  }

  private void accept(ConsumerRecord<String, RetrainCommand> r) {
    TopicPartition tp = new TopicPartition(r.topic(), r.partition());
    RetrainCommand c = r.value();
    boolean skip;
    if (c == null) {
      skip = true;
    } else if (!modelName.equals(c.getModelName())) {
      // not an error: every model's commands share the topic, and each model's trainer reads them
      // all in its own group. A line each, not rate-limited: commands are few (the drift job's
      // come with a cooldown)
      log.info(
          "trainer: command {} is for model {}, not this trainer's {} (group {}): skipped",
          c.getCommandId(),
          c.getModelName(),
          modelName,
          groupId);
      otherModel.increment();
      skip = true;
    } else if (!seen.add(c.getCommandId())) {
      log.info("trainer: command {} already queued or run: ignored", c.getCommandId());
      skip = true;
    } else {
      skip = false;
    }
    Pending p = new Pending(tp, r.offset(), skip);
    synchronized (pending) {
      pending.add(p);
    }
    if (!skip) {
      log.info("trainer: command {} ({}) queued", c.getCommandId(), c.getReason());
      p.commandId = c.getCommandId();
      try {
        p.run = worker.submit(() -> run(c, p));
      } catch (RejectedExecutionException e) {
        // close() stopped the worker while this poll returned the command: not an error. Not
        // done, so not committed: it runs at the next start, as a command queued at the close does
        log.info(
            "trainer: command {} not started: the listener is closing; it runs at the next start",
            c.getCommandId());
      }
    }
  }

  private void run(RetrainCommand c, Pending p) {
    if (!running || p.revoked) {
      return; // closing, or handed back: left uncommitted, so it runs after a restart or elsewhere
    }
    String replacement = replacement(c);
    if (!running) {
      return; // closed while the registry was read: as above
    }
    if (replacement != null) {
      log.info(
          "trainer: command {} ({}) is for {} of {}, which {} has replaced in production since it"
              + " was issued: skipped as superseded",
          c.getCommandId(),
          c.getReason(),
          c.getReferenceVersion(),
          modelName,
          replacement);
      superseded.increment();
      p.done = true;
      return;
    }
    try {
      handler.handle(c);
    } catch (Exception e) {
      if (p.revoked) {
        log.info(
            "trainer: command {} stopped ({}): its partition moved to another listener of the"
                + " group, which runs it",
            c.getCommandId(),
            e.toString());
        return;
      }
      if (!running) {
        // interrupted by close: neither done nor failed, so it runs again after a restart
        log.info(
            "trainer: command {} stopped by shutdown ({}); it runs again at the next start",
            c.getCommandId(),
            e.toString());
        return;
      }
      log.error("trainer: command {} failed: {}", c.getCommandId(), e.toString());
    } catch (Error e) {
      // out of memory, a native library that would not link: not the command's failure, and the
      // worker's Future would keep it to itself. Not done, so not committed: the listener stops,
      // the process ends non-zero, and the next start runs the command again
      log.error(
          "trainer: command {} stopped the listener: {}; it runs again at the next start",
          c.getCommandId(),
          e.toString(),
          e);
      running = false;
      failed.complete(null);
      return;
    }
    p.done = true;
  }

  /**
   * The version in production now where it has replaced the command's reference version (a version
   * of the registry that is no longer in production), else null: no reference (a manual command),
   * one the registry does not have (the drift job's {@code none}, a schedule issued before any
   * production model), the reference still in production, no version in production, or a registry
   * that cannot be read, in which case the command runs as before and its run reads the registry
   * itself.
   */
  private String replacement(RetrainCommand c) {
    String reference = c.getReferenceVersion();
    if (reference == null) {
      return null;
    }
    List<ModelVersion> versions;
    try {
      versions = registry.versions(modelName);
    } catch (RuntimeException e) {
      log.warn(
          "trainer: cannot read the registry to tell whether command {} is superseded: {}; running"
              + " it",
          c.getCommandId(),
          e.toString());
      return null;
    }
    if (versions.stream()
        .noneMatch(
            v -> reference.equals(v.getVersion()) && v.getStage() != ModelStage.PRODUCTION)) {
      return null;
    }
    return ModelRegistry.newest(versions, ModelStage.PRODUCTION)
        .map(ModelVersion::getVersion)
        .orElse(null);
  }

  /**
   * The commands of partitions the group has moved to another member, not yet committed: taken off
   * the queue, their runs stopped (a training stops at its next batch, recorded CANCELLED) or never
   * started, and forgotten here, so that the one member that now reads them runs them, once. Kept
   * running, the run here and the new owner's would both train and register a version for the one
   * command.
   */
  private void handBack(Collection<TopicPartition> parts) {
    if (!running) {
      return; // the consumer's close revokes too: the worker is stopped already, nothing moved
    }
    List<Pending> moved = new ArrayList<>();
    synchronized (pending) {
      for (Iterator<Pending> it = pending.iterator(); it.hasNext(); ) {
        Pending p = it.next();
        if (parts.contains(p.partition)) {
          it.remove();
          if (!p.done && p.commandId != null) {
            moved.add(p);
          }
        }
      }
    }
    for (Pending p : moved) {
      p.revoked = true;
      seen.remove(p.commandId);
      p.run.cancel(true);
      log.info(
          "trainer: command {} handed back: {} moved to another listener of the group",
          p.commandId,
          p.partition);
    }
  }

  /** Commits, per partition, past the longest run of handled commands at the head of the queue. */
  private void commitDone() {
    Map<TopicPartition, OffsetAndMetadata> commit = new HashMap<>();
    synchronized (pending) {
      while (!pending.isEmpty() && pending.peek().done) {
        Pending p = pending.poll();
        commit.put(p.partition, new OffsetAndMetadata(p.offset + 1));
      }
    }
    if (!commit.isEmpty()) {
      try {
        consumer.commitSync(commit);
      } catch (RuntimeException e) {
        log.warn("trainer: cannot commit retrain offsets yet: {}", e.toString());
      }
    }
  }

  /**
   * Stops taking commands, interrupts the run in progress and waits for it to stop, commits what
   * has run. A command the poller receives meanwhile is not started (the worker is stopped) and not
   * committed: not an error, it runs at the next start.
   */
  @Override
  public void close() throws InterruptedException {
    running = false;
    closing.countDown();
    worker.shutdownNow();
    if (!worker.awaitTermination(2, TimeUnit.MINUTES)) {
      log.warn("trainer: the run in progress did not stop within 2 minutes of its interrupt");
    }
    consumer.wakeup();
    poller.join(10_000);
  }
}
