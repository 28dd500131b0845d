package io.feedrank.trainer;

import io.feedrank.avro.registry.HttpSchemaRegistryClient;
import io.feedrank.avro.registry.SchemaRegistryClient;
import io.feedrank.avro.serde.AvroSerde;
import io.feedrank.avro.serde.AvroSerdes;
import io.feedrank.events.ModelVersion;
import io.feedrank.events.RetrainCommand;
import io.feedrank.events.TrainingExample;
import io.feedrank.models.ArtifactStore;
import io.feedrank.models.FileArtifactStore;
import io.feedrank.trainer.data.DataRange;
import io.feedrank.trainer.data.KafkaExampleSource;
import io.feedrank.trainer.listen.Attempts;
import io.feedrank.trainer.listen.RetrainListener;
import io.feedrank.trainer.listen.Settle;
import io.feedrank.trainer.registry.KafkaModelRegistry;
import io.feedrank.trainer.runs.FileRunStore;
import io.feedrank.trainer.runs.RunRecord;
import io.feedrank.trainer.runs.RunStore;
import io.feedrank.trainer.train.Torch;
import java.time.Clock;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Wires the trainer onto real endpoints: examples from Kafka, runs and artifacts in the artifact
 * store, the registry topic. {@link #trainOnce} is {@code ./feedrank train}; {@link #listen} is
 * {@code ./feedrank train --listen}.
 */
public final class Main implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(Main.class);

  private final TrainerConfig config;
  private final SchemaRegistryClient schemas;
  private final FileArtifactStore artifacts;
  private final FileRunStore runs;
  private final KafkaModelRegistry registry;
  private final TrainingJob job;
  private final Clock clock;
  private final Clock dataClock;
  private final TrainerMetrics metrics;

  public Main(TrainerConfig config, Clock clock) {
    this(config, clock, clock);
  }

  /**
   * @param clock the runs' and the registry's timestamps
   * @param dataClock "now" in event time, where a request's default data range ends (the wall
   *     clock, unless event time is simulated faster than wall time, as in the demo)
   */
  public Main(TrainerConfig config, Clock clock, Clock dataClock) {
    Torch.configure(config.threads());
    this.config = config;
    this.clock = clock;
    this.dataClock = dataClock;
    this.schemas = new HttpSchemaRegistryClient(config.registryConfig());
    ArtifactStore store = ArtifactStore.forLocation(config.artifactStore());
    if (!(store instanceof FileArtifactStore f)) {
      throw new IllegalArgumentException("runs are recorded on a filesystem artifact store only");
    }
    this.artifacts = f;
    this.runs = new FileRunStore(f);
    AvroSerde<ModelVersion> versions =
        AvroSerdes.valueSerde(schemas, ModelVersion.class, config.autoRegisterSchemas());
    this.registry =
        new KafkaModelRegistry(
            config.kafka(),
            versions.serializer(),
            versions.deserializer(),
            config.modelRegistryTopic());
    AvroSerde<TrainingExample> examples = AvroSerdes.valueSerde(schemas, TrainingExample.class);
    this.job =
        new TrainingJob(
            config,
            new KafkaExampleSource(
                config.kafka(),
                examples.deserializer(),
                config.examplesTopic(),
                config.lateness(),
                config.idleTimeout()),
            artifacts,
            runs,
            registry,
            clock);
    // last: a start refused above (an s3:// store, a kafka.* value the producer refuses) must not
    // leave the port bound and its non-daemon thread running, in the JVM of ./feedrank up or a test
    try {
      this.metrics = new TrainerMetrics(config.metricsHost(), config.metricsPort());
    } catch (RuntimeException e) {
      registry.close();
      throw e;
    }
  }

  public TrainingJob job() {
    return job;
  }

  public FileRunStore runs() {
    return runs;
  }

  public FileArtifactStore artifacts() {
    return artifacts;
  }

  public KafkaModelRegistry registry() {
    return registry;
  }

  /** One run on {@code range} (or the configured default range). */
  public RunRecord trainOnce(DataRange range, String trigger) {
    DataRange r = range != null ? range : config.defaultRange(dataClock.instant());
    return runAndRecord(new TrainRequest(r, config.architectures(), trigger, null));
  }

  private static final Set<String> RUN_TO_AN_END = Set.of(RunRecord.SUCCEEDED, RunRecord.REFUSED);

  /**
   * A started listener on {@code retrain-commands}: each new command becomes a run on its data
   * range (or the default one). A run that fails (a schema registry or broker away for longer than
   * the clients wait, an artifact store that cannot be written) is tried again after {@code
   * retrain.retry.backoff.ms}, doubled each time, until {@code retrain.attempts} attempts have
   * failed ({@link Attempts}: an attempt that cannot read the registry after its wait fails without
   * a run); not when it wrote to the registry before failing (it decided). Command ids whose runs
   * in the run store succeeded or were refused, failed {@code retrain.attempts} times, or wrote
   * their versions to the registry (a failed one keeps its FAILED record), are not run again. Nor,
   * asked right before its run, is a command that versions in the registry name as theirs ({@code
   * command_id}): another listener of the group ran it to its registry write and lost the partition
   * before it committed the offset. It is logged and committed past.
   */
  public RetrainListener listen() {
    // a run cut short (a shutdown, a crash) after its registry write committed: its command had
    // its versions and decision; run again, it would train and decide a second time
    Map<String, List<ModelVersion>> registered =
        registry.versions(config.modelName()).stream()
            .filter(v -> v.getRunId() != null)
            .collect(Collectors.groupingBy(ModelVersion::getRunId));
    List<RunRecord> recorded = runs.list();
    Map<String, Long> failures =
        recorded.stream()
            .filter(r -> RunRecord.FAILED.equals(r.status) && r.commandId != null)
            .collect(Collectors.groupingBy(r -> r.commandId, Collectors.counting()));
    Attempts attempts =
        new Attempts(
            config.retrainAttempts(), config.retrainBackoff(), d -> Thread.sleep(d.toMillis()));
    Set<String> done = new java.util.HashSet<>();
    failures.forEach(
        (command, n) -> {
          if (attempts.exhausted(n)) {
            done.add(command);
          }
        });
    recorded.stream()
        // not a run a shutdown cancelled or a crash cut short (still RUNNING) before its registry
        // write, nor a failed one with attempts left: their commands run again
        .filter(r -> RUN_TO_AN_END.contains(r.status) || registered.containsKey(r.id))
        .peek(
            r -> {
              if (RUN_TO_AN_END.contains(r.status) || RunRecord.FAILED.equals(r.status)) {
                // a failed run that wrote to the registry decided (not run again), but failed:
                // its record stays as it is
                return;
              }
              String was = r.status;
              // a RUNNING record saved within the last minute may be a live run's, in
              // another process on the same store (a nightly run beside the listener): one
              // saves within milliseconds of its registry write, so it is left to finish
              boolean live =
                  RunRecord.RUNNING.equals(r.status)
                      && runs.savedAt(r.id)
                          .map(t -> t.isAfter(Instant.now().minus(LIVE_RUN_SAVE)))
                          .orElse(false);
              if (!live) {
                runs.save(completed(r, registered.get(r.id), clock.instant()));
              }
              log.info(
                  "trainer: run {} ({}) wrote its versions before it was cut short{}{}",
                  r.id,
                  was,
                  live ? "" : ": its record completed from model-registry",
                  r.commandId == null ? "" : "; command " + r.commandId + " is not run again");
            })
        .map(r -> r.commandId)
        .filter(Objects::nonNull)
        .forEach(done::add);
    AvroSerde<RetrainCommand> commands = AvroSerdes.valueSerde(schemas, RetrainCommand.class);
    Settle settle = new Settle(config.retrainSettle(), dataClock);
    RetrainListener l =
        new RetrainListener(
            config.kafka(),
            commands.deserializer(),
            config.retrainTopic(),
            config.listenGroupId(),
            config.modelName(),
            registry,
            done,
            metrics.otherModelCommands(),
            metrics.supersededCommands(),
            c -> {
              settle.await(c);
              attempts.run(
                  c.getCommandId(),
                  failures.getOrDefault(c.getCommandId(), 0L),
                  () -> {
                    if (registered(c.getCommandId())) {
                      // another listener's run of it wrote its versions, and the partition moved
                      // before that listener committed the offset: run again, the command would
                      // train and decide a second time
                      log.info(
                          "trainer: command {} already has its versions in {}: not run again",
                          c.getCommandId(),
                          config.modelRegistryTopic());
                      return;
                    }
                    try {
                      runAndRecord(TrainRequest.of(c, range(c), config.architectures()));
                    } catch (CommandDecidedException e) {
                      // another run of it registered while this one trained: answered, and done
                      log.info(
                          "trainer: command {} was answered by another run while this one"
                              + " trained: {}",
                          c.getCommandId(),
                          e.getMessage());
                    }
                  },
                  () -> wroteToRegistry(c.getCommandId()));
            });
    l.start();
    return l;
  }

  /**
   * Whether a run of {@code commandId} has versions in the registry (it decided), after a failed
   * run of it: the run store must be there to answer for records that do not name their command.
   */
  private boolean wroteToRegistry(String commandId) {
    if (!java.nio.file.Files.isDirectory(artifacts.root())) {
      // the run store would list nothing: no answer is not "no"
      throw new IllegalStateException("the run store " + artifacts.root() + " is not there");
    }
    return registered(commandId);
  }

  /**
   * Whether a run of {@code commandId} has versions in the registry, whichever process ran it:
   * records name their command ({@code command_id}); those written before they did count through
   * the runs of the command in this run store (none while it is not there, as before a first run).
   * Asked before each run of a command, as another listener of the group may have run it to its
   * registry write and lost the partition before committing its offset.
   */
  private boolean registered(String commandId) {
    Set<String> ids =
        runs.list().stream()
            .filter(r -> commandId.equals(r.commandId))
            .map(r -> r.id)
            .collect(Collectors.toSet());
    return registry.versions(config.modelName()).stream()
        .anyMatch(
            v ->
                commandId.equals(v.getCommandId())
                    || (v.getRunId() != null && ids.contains(v.getRunId())));
  }

  /** How recently a live run's RUNNING record may have been saved after its registry write. */
  static final java.time.Duration LIVE_RUN_SAVE = java.time.Duration.ofMinutes(1);

  /**
   * The record of run {@code r}, cut short after its registry transaction committed, completed from
   * {@code written}, its versions as model-registry has them now: each model's version, stage and
   * decision (a later promotion, archive or rollback shows instead of the run's own), status {@code
   * SUCCEEDED}, and in {@code recovered} what the record said before. Its last durations and the
   * end of its log are lost with the process that cut it short.
   */
  static RunRecord completed(RunRecord r, List<ModelVersion> written, Instant now) {
    r.recovered =
        "recorded "
            + r.status
            + (r.error == null ? "" : " (" + r.error + ")")
            + " after its registry write committed; completed from model-registry at "
            + now
            + " (stages and decisions as of then)";
    for (ModelVersion v : written) {
      RunRecord.ModelRun m =
          r.models.stream()
              .filter(x -> v.getArchitecture().equals(x.architecture))
              .findFirst()
              .orElseGet(
                  () -> {
                    RunRecord.ModelRun x = new RunRecord.ModelRun();
                    x.architecture = v.getArchitecture();
                    r.models.add(x);
                    return x;
                  });
      m.version = v.getVersion();
      m.stage = v.getStage().name();
      m.decision = v.getDecision();
      m.decisionReason = v.getDecisionReason();
    }
    r.status = RunRecord.SUCCEEDED;
    r.error = null;
    if (r.finishedAt == null) {
      r.finishedAt = now.toString();
    }
    return r;
  }

  private DataRange range(RetrainCommand c) {
    if (c.getDataFrom() != null && c.getDataTo() != null) {
      return new DataRange(c.getDataFrom(), c.getDataTo());
    }
    return config.defaultRange(dataClock.instant());
  }

  private RunRecord runAndRecord(TrainRequest request) {
    return runAndRecord(job, runs, metrics, request);
  }

  /** Runs {@code request} and counts the run, refused and failed ones included. */
  static RunRecord runAndRecord(
      TrainingJob job, RunStore runs, TrainerMetrics metrics, TrainRequest request) {
    Set<String> before = runs.list().stream().map(r -> r.id).collect(Collectors.toSet());
    try {
      RunRecord run = job.run(request);
      metrics.record(run);
      return run;
    } catch (RuntimeException e) {
      // the job saved the run (REFUSED, FAILED or CANCELLED) before throwing: count it, not another
      // process's run on the same store. A store that could not be written (a full or read-only
      // disk) holds no ended record of it: counted by what it threw, as the job records it
      Optional<RunRecord> saved;
      try {
        saved =
            runs.list().stream()
                .filter(
                    x ->
                        !before.contains(x.id)
                            && !RunRecord.RUNNING.equals(x.status)
                            && Objects.equals(x.trigger, request.trigger())
                            && Objects.equals(x.commandId, request.commandId()))
                .findFirst();
      } catch (RuntimeException unreadable) {
        e.addSuppressed(unreadable);
        saved = Optional.empty();
      }
      if (saved.isPresent()) {
        metrics.record(saved.get());
      } else {
        metrics.record(TrainingJob.endedBy(e));
      }
      throw e;
    }
  }

  public TrainerMetrics metrics() {
    return metrics;
  }

  @Override
  public void close() {
    metrics.close();
    registry.close();
  }
}
