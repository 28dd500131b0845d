package io.feedrank.trainer;

import io.feedrank.events.ModelStage;
import io.feedrank.events.ModelVersion;
import io.feedrank.events.ReferenceProfile;
import io.feedrank.features.FeatureSchema;
import io.feedrank.features.vector.ModelInputs;
import io.feedrank.models.ArtifactStore;
import io.feedrank.models.Checksums;
import io.feedrank.trainer.data.DataRange;
import io.feedrank.trainer.data.Dataset;
import io.feedrank.trainer.data.Example;
import io.feedrank.trainer.data.ExampleDigest;
import io.feedrank.trainer.data.ExampleSample;
import io.feedrank.trainer.data.ExampleSource;
import io.feedrank.trainer.data.Standardization;
import io.feedrank.trainer.data.TemporalSplit;
import io.feedrank.trainer.data.TopicRead;
import io.feedrank.trainer.eval.Metrics;
import io.feedrank.trainer.export.ExportVerification;
import io.feedrank.trainer.registry.ModelRegistry;
import io.feedrank.trainer.registry.ProductionEvaluator;
import io.feedrank.trainer.registry.Promotion;
import io.feedrank.trainer.runs.RunRecord;
import io.feedrank.trainer.runs.RunStore;
import io.feedrank.trainer.train.Architecture;
import io.feedrank.trainer.train.Baselines;
import io.feedrank.trainer.train.NetworkTrainer;
import io.feedrank.trainer.train.TrainInputs;
import io.feedrank.trainer.train.TrainedNetwork;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CancellationException;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One training run, end to end: read the examples of the range, split them in time, train the
 * logistic baseline and the requested networks, evaluate on the holdout, export to ONNX and verify
 * the export, store the artifacts, profile the holdout, register the run's best network as a
 * candidate and decide its stage against production on the same holdout. Everything is recorded in
 * the run's {@code run.json}, whatever the outcome.
 */
public final class TrainingJob {
  private static final Logger log = LoggerFactory.getLogger(TrainingJob.class);

  private final TrainerConfig config;
  private final ExampleSource source;
  private final ArtifactStore artifacts;
  private final RunStore runs;
  private final ModelRegistry registry;
  private final Clock clock;
  private final Function<Instant, String> runIds;

  public TrainingJob(
      TrainerConfig config,
      ExampleSource source,
      ArtifactStore artifacts,
      RunStore runs,
      ModelRegistry registry,
      Clock clock) {
    this(config, source, artifacts, runs, registry, clock, RunIds::newId);
  }

  /**
   * {@link #TrainingJob(TrainerConfig, ExampleSource, ArtifactStore, RunStore, ModelRegistry,
   * Clock)} drawing its run ids from {@code runIds} (given the start time).
   */
  TrainingJob(
      TrainerConfig config,
      ExampleSource source,
      ArtifactStore artifacts,
      RunStore runs,
      ModelRegistry registry,
      Clock clock,
      Function<Instant, String> runIds) {
    this.runIds = runIds;
    this.config = config;
    this.source = source;
    this.artifacts = artifacts;
    this.runs = runs;
    this.registry = registry;
    this.clock = clock;
  }

  /**
   * Runs one training; the returned record is also saved. Throws {@link RefusedException}, and what
   * failed the run: a record that cannot be saved (a full or read-only run store) fails it too, and
   * when the run failed already, its own error is thrown with the failed save suppressed.
   */
  public RunRecord run(TrainRequest request) {
    RunRecord run = start(request);
    BuildInfo build = BuildInfo.current();
    run.environment.put("feedrank_version", build.version());
    run.environment.put("feedrank_commit", build.commit());
    run.environment.put("feedrank_dirty", build.dirty());
    log.info("trainer: run {} on {} ({})", run.id, request.range(), request.trigger());
    Throwable failure = null;
    try {
      runs.save(run);
      execute(run, request);
      run.status = RunRecord.SUCCEEDED;
      return run;
    } catch (RefusedException e) {
      failure = e;
      run.status = RunRecord.REFUSED;
      run.error = e.getMessage();
      log.warn("trainer: run {} refused: {}", run.id, e.getMessage());
      throw e;
    } catch (RuntimeException e) {
      failure = e;
      if (cancelledBy(e)) {
        run.status = RunRecord.CANCELLED;
        run.error = e.toString();
        log.info("trainer: run {} cancelled: {}", run.id, e.toString());
        throw e;
      }
      run.status = RunRecord.FAILED;
      run.error = e.toString();
      log.error("trainer: run {} failed: {}", run.id, e.toString(), e);
      throw e;
    } catch (Error e) {
      failure = e;
      run.status = RunRecord.FAILED;
      run.error = e.toString();
      throw e;
    } finally {
      run.finishedAt = clock.instant().toString();
      // an interrupted thread cannot write a file (the channel closes on the interrupt), so the
      // flag is put aside while the record is saved
      boolean interrupted = Thread.interrupted();
      try {
        runs.save(run);
      } catch (RuntimeException e) {
        log.error(
            "trainer: run {} ended {}, and its record cannot be saved: {}",
            run.id,
            run.status,
            e.toString());
        if (failure == null) {
          throw e;
        }
        failure.addSuppressed(e);
      } finally {
        if (interrupted) {
          Thread.currentThread().interrupt();
        }
      }
    }
  }

  /**
   * A new run's record, under an id it has claimed in the run store: an id another run has (two
   * runs started in the same second, a nightly one and a listener's) is drawn again, as the second
   * run's saves and artifacts would replace the first's.
   */
  private RunRecord start(TrainRequest request) {
    Instant now = clock.instant();
    for (int drawn = 1; ; drawn++) {
      String id = runIds.apply(now);
      if (runs.create(id)) {
        return RunIds.start(id, request, config, now);
      }
      if (drawn == MAX_ID_DRAWS) {
        throw new IllegalStateException(
            "run ids taken: " + drawn + " drawn for a run started " + now + ", the last " + id);
      }
      log.info("trainer: run id {} is taken in the run store; drawing another", id);
    }
  }

  /** The most ids a run draws: so many taken in a row is an id source repeating itself. */
  private static final int MAX_ID_DRAWS = 100;

  /**
   * The status {@link #run} records for a run that threw {@code e}; asked on the thread that ran
   * it, right after (a shutdown's interrupt is still set on it).
   */
  static String endedBy(RuntimeException e) {
    if (e instanceof RefusedException) {
      return RunRecord.REFUSED;
    }
    return cancelledBy(e) ? RunRecord.CANCELLED : RunRecord.FAILED;
  }

  /** A shutdown interrupted the run (in a batch, a Kafka read, a registry write). */
  private static boolean cancelledBy(RuntimeException e) {
    return e instanceof CancellationException || Thread.currentThread().isInterrupted();
  }

  private void execute(RunRecord run, TrainRequest request) {
    long t0 = System.nanoTime();
    Prepared d = prepare(run, request.range());
    var h = config.hyper();
    Dataset test = d.test();
    TrainInputs trainIn = d.train();
    TrainInputs validationIn = d.validation();
    TrainInputs testIn = d.testInputs();
    Standardization std = d.std();
    Holdout holdout = d.holdout();

    run.baselines.put(
        "popularity",
        Metrics.evaluate(Baselines.popularity(test), test.label, test.userId).toMap());
    List<Architecture> archs = new ArrayList<>();
    archs.add(Architecture.LOGISTIC);
    request.architectures().stream().filter(a -> a != Architecture.LOGISTIC).forEach(archs::add);
    Map<Architecture, float[]> testScores = new HashMap<>();
    Map<Architecture, RunRecord.ModelRun> trained = new HashMap<>();
    for (Architecture a : archs) {
      long ta = System.nanoTime();
      RunRecord.ModelRun m = new RunRecord.ModelRun();
      m.architecture = a.id;
      try (TrainedNetwork net =
          NetworkTrainer.train(a, h, trainIn, validationIn, e -> m.epochs.add(epoch(e)))) {
        m.trainMillis = millisSince(ta);
        m.bestEpoch = net.bestEpoch();
        m.validationAuc = net.bestValidationAuc();
        long seen =
            m.epochs.stream().mapToLong(e -> ((Number) e.get("examples")).longValue()).sum();
        m.examplesPerSecond = seen * 1000.0 / Math.max(1, m.trainMillis);
        float[] s = net.predict(testIn);
        testScores.put(a, s);
        m.metrics.putAll(Metrics.evaluate(s, test.label, test.userId).toMap());
        export(run, m, net, std, test, s);
      }
      run.durationsMs.put("train_" + a.id, m.trainMillis);
      run.models.add(m);
      trained.put(a, m);
      runs.save(run);
    }
    run.baselines.put("logistic", trained.get(Architecture.LOGISTIC).metrics);

    // chosen on the validation split: the holdout's AUC of the best of several networks is biased
    // upwards (the maximum of noisy estimates), and it is the figure compared with production
    Architecture best =
        archs.stream()
            .filter(a -> a != Architecture.LOGISTIC)
            .max(
                (x, y) ->
                    Double.compare(trained.get(x).validationAuc, trained.get(y).validationAuc))
            .orElseThrow();
    run.bestArchitecture = best.id;
    long tp = System.nanoTime();
    // each network's own scores: a version promoted later by an operator is watched for
    // prediction drift against its own holdout distribution, not the winner's. The holdout's
    // features are profiled once, with the best network's scores
    ReferenceProfile bestProfile = Profiles.of(holdout.examples(), testScores.get(best));
    Map<Architecture, ReferenceProfile> profiles = new HashMap<>();
    for (Architecture a : trained.keySet()) {
      if (a != Architecture.LOGISTIC) {
        profiles.put(
            a,
            a == best
                ? bestProfile
                : Profiles.withScores(bestProfile, holdout.examples(), testScores.get(a)));
      }
    }
    run.referenceProfile =
        put(run.id, "reference_profile.avro", Profiles.bytes(bestProfile)).toString();
    run.durationsMs.put("profile", millisSince(tp));

    long tr = System.nanoTime();
    register(run, request, holdout, trained, best, profiles, testScores.get(best));
    run.durationsMs.put("register", millisSince(tr));
    run.durationsMs.put("total", millisSince(t0));
  }

  /**
   * The holdout's examples, where it starts in event time, and how many examples were learned from.
   */
  private record Holdout(List<Example> examples, long fromMillis, int learnedFrom) {}

  /** What the networks train and are evaluated on, and the holdout the candidate is judged on. */
  private record Prepared(
      TrainInputs train,
      TrainInputs validation,
      Dataset test,
      TrainInputs testInputs,
      Standardization std,
      Holdout holdout) {}

  /** The three splits vectorized, and the holdout; the examples of the other splits let go. */
  private record Splits(Dataset train, Dataset validation, Dataset test, Holdout holdout) {}

  /**
   * Reads, splits and vectorizes the range, keeping no more than the rest of the run uses: once
   * {@link #split} returns, the examples of the train and validation splits are garbage, and once
   * this returns, so are the vectorized rows of those splits (their standardized copies and the
   * bucket ids and labels they share stay). At the peak, in {@link #split}, a kept example and its
   * vectorized row are alive together ({@link TrainerConfig#PEAK_BYTES_PER_EXAMPLE}).
   */
  private Prepared prepare(RunRecord run, DataRange range) {
    Splits s = split(run, range);
    long t1 = System.nanoTime();
    Standardization std = Standardization.fit(s.train());
    Prepared p =
        new Prepared(
            new TrainInputs(s.train(), std),
            new TrainInputs(s.validation(), std),
            s.test(),
            new TrainInputs(s.test(), std),
            std,
            s.holdout());
    run.durationsMs.merge("prepare", millisSince(t1), Long::sum);
    return p;
  }

  /** Reads the range ({@link #read}), splits it in time, vectorizes the splits; refuses as said. */
  private Splits split(RunRecord run, DataRange range) {
    List<Example> examples = read(run, range);
    refuseIfUnusable(examples.size(), examples.stream().filter(e -> e.click()).count(), range);

    long t1 = System.nanoTime();
    TemporalSplit split = TemporalSplit.of(examples);
    var h = config.hyper();
    Dataset train = Dataset.of(split.train(), h.userBuckets(), h.itemBuckets());
    Dataset validation = Dataset.of(split.validation(), h.userBuckets(), h.itemBuckets());
    Dataset test = Dataset.of(split.test(), h.userBuckets(), h.itemBuckets());
    for (var part :
        List.of(
            Map.entry("train", train),
            Map.entry("validation", validation),
            Map.entry("test", test))) {
      long pos = part.getValue().positives();
      run.counts.put(part.getKey(), (long) part.getValue().size);
      run.counts.put(part.getKey() + "_positives", pos);
      if (pos == 0 || pos == part.getValue().size) {
        throw new RefusedException(
            "the "
                + part.getKey()
                + " split of "
                + range
                + " has a single class ("
                + pos
                + " clicks in "
                + part.getValue().size
                + "): nothing to learn or to evaluate");
      }
    }
    if (test.size < ExportVerification.MIN_ROWS) {
      // refused before training: the export check after it would fail the run instead
      throw new RefusedException(
          "the test split of "
              + range
              + " has "
              + test.size
              + " examples; the ONNX export is checked on at least "
              + ExportVerification.MIN_ROWS
              + " (about "
              + (int)
                  Math.ceil(
                      ExportVerification.MIN_ROWS
                          / (1 - TemporalSplit.TRAIN_SHARE - TemporalSplit.VALIDATION_SHARE))
              + " examples in all)");
    }
    // a copy: the split's lists are views of one list of every example
    Holdout holdout =
        new Holdout(
            List.copyOf(split.test()),
            split.testFromMillis(),
            split.train().size() + split.validation().size());
    run.durationsMs.put("prepare", millisSince(t1));
    return new Splits(train, validation, test, holdout);
  }

  /**
   * Reads the range into a sample of at most {@code max.examples} (seeded with {@code seed}), and
   * records and logs what was read and kept.
   */
  private List<Example> read(RunRecord run, DataRange range) {
    long t0 = System.nanoTime();
    ExampleSample sample = new ExampleSample(config.maxExamples(), config.hyper().seed());
    ExampleSource.Loaded loaded = source.read(range, sample);
    run.durationsMs.put("read", millisSince(t0));
    run.counts.put("records_read", loaded.recordsRead());
    run.counts.put("outside_range", loaded.outsideRange());
    run.counts.put("unusable", loaded.unusable());
    run.counts.put("stamped_late", loaded.stampedLate());
    run.counts.put("examples_in_range", loaded.inRange());
    run.counts.put("examples", (long) loaded.examples().size());
    run.data = data(loaded);
    runs.save(run); // what was read, while the models train
    if (loaded.inRange() > loaded.examples().size()) {
      log.info(
          "trainer: run {} keeps a uniform sample of {} of the {} examples of {} (max.examples {},"
              + " seed {}); {} records read",
          run.id,
          loaded.examples().size(),
          loaded.inRange(),
          range,
          config.maxExamples(),
          config.hyper().seed(),
          loaded.recordsRead());
    } else {
      log.info(
          "trainer: run {} keeps all {} examples of {}; {} records read",
          run.id,
          loaded.examples().size(),
          range,
          loaded.recordsRead());
    }
    return loaded.examples();
  }

  /** What {@code loaded} read and kept, as the run records it. */
  private static RunRecord.Data data(ExampleSource.Loaded loaded) {
    RunRecord.Data d = new RunRecord.Data();
    TopicRead read = loaded.topicRead();
    if (read != null) {
      d.topic = read.topic();
      d.clusterId = read.clusterId();
      d.latenessMs = read.latenessMillis();
      d.partitions = new ArrayList<>();
      for (TopicRead.Partition p : read.partitions()) {
        RunRecord.PartitionRead r = new RunRecord.PartitionRead();
        r.partition = p.partition();
        r.logStartOffset = p.logStartOffset();
        r.startOffset = p.startOffset();
        r.endOffset = p.endOffset();
        r.recordsRead = p.recordsRead();
        r.startTimestamp =
            p.startTimestampMillis() == null
                ? null
                : Instant.ofEpochMilli(p.startTimestampMillis()).toString();
        d.partitions.add(r);
      }
      d.trimmedPartitions = read.trimmedPartitions();
    }
    var times = loaded.examples().stream().mapToLong(Example::eventTimeMillis).summaryStatistics();
    if (times.getCount() > 0) {
      d.minEventTime = Instant.ofEpochMilli(times.getMin()).toString();
      d.maxEventTime = Instant.ofEpochMilli(times.getMax()).toString();
    }
    d.examplesDigest = ExampleDigest.of(loaded.examples());
    return d;
  }

  private void refuseIfUnusable(long n, long clicks, DataRange range) {
    if (n < config.minExamples()) {
      throw new RefusedException(
          "only "
              + n
              + " training examples in "
              + range
              + "; at least "
              + config.minExamples()
              + " (min.examples) are needed");
    }
    if (clicks == 0 || clicks == n) {
      throw new RefusedException(
          "all "
              + n
              + " examples in "
              + range
              + " have the same label ("
              + clicks
              + " clicks): a single class");
    }
  }

  private void export(
      RunRecord run,
      RunRecord.ModelRun m,
      TrainedNetwork net,
      Standardization std,
      Dataset test,
      float[] scores) {
    Map<String, byte[]> onnx = net.toOnnx(std, BuildInfo.current().describe(), run.id);
    int rows = Math.min(test.size, config.verifyRows());
    float[] reference = java.util.Arrays.copyOf(scores, rows);
    ExportVerification.Result r =
        ExportVerification.verify(
            onnx,
            test.head(rows),
            reference,
            net.vectorDimension(),
            ExportVerification.MIN_ROWS,
            config.verifyTolerance());
    m.export.put("rows", r.rows());
    m.export.put("max_abs_diff", r.maxAbsDiff());
    if (!Double.isNaN(r.towerMaxAbsDiff())) {
      m.export.put("tower_max_abs_diff", r.towerMaxAbsDiff());
    }
    m.export.put("tolerance", config.verifyTolerance());
    for (Map.Entry<String, byte[]> e : onnx.entrySet()) {
      String name =
          e.getKey().equals("model")
              ? m.architecture + ".onnx"
              : m.architecture + "." + e.getKey() + ".onnx";
      m.artifacts.put(e.getKey(), put(run.id, name, e.getValue()).toString());
      m.sha256.put(e.getKey(), Checksums.sha256(e.getValue()));
    }
  }

  private void register(
      RunRecord run,
      TrainRequest request,
      Holdout holdout,
      Map<Architecture, RunRecord.ModelRun> trained,
      Architecture best,
      Map<Architecture, ReferenceProfile> profiles,
      float[] bestScores) {
    // decided on the registry as it is when written: another writer's decision in between (an
    // operator's promotion, another run) makes this one read and decide again. Production's score
    // is kept for that, by version: it depends on the holdout only
    Map<String, Promotion.ProductionScore> scored = new HashMap<>();
    List<ModelVersion> updates =
        registry.update(
            config.modelName(),
            current -> {
              refuseIfCommandDecided(run, request, current);
              var production = ModelRegistry.newest(current, ModelStage.PRODUCTION);
              var productionScore =
                  production.map(
                      p ->
                          scored.computeIfAbsent(
                              p.getVersion(),
                              v ->
                                  new ProductionEvaluator(
                                          artifacts,
                                          config.promoteMinClicks(),
                                          config.modelArtifactMaxBytes())
                                      .score(p, holdout.examples(), bestScores)));
              Instant now = clock.instant(); // after the scoring: what is written is decided now
              List<ModelVersion> decided = new ArrayList<>();
              for (Map.Entry<Architecture, RunRecord.ModelRun> e : trained.entrySet()) {
                if (e.getKey() == Architecture.LOGISTIC) {
                  continue;
                }
                RunRecord.ModelRun m = e.getValue();
                ModelVersion candidate =
                    candidate(
                        run,
                        request,
                        holdout,
                        m,
                        profiles.get(e.getKey()),
                        production.map(ModelVersion::getVersion).orElse(null),
                        now);
                if (e.getKey() != best) {
                  RunRecord.ModelRun b = trained.get(best);
                  decided.add(
                      ModelVersion.newBuilder(candidate)
                          .setStage(ModelStage.REJECTED)
                          .setDecision(Promotion.DECISION_REJECTED)
                          .setDecisionReason(
                              String.format(
                                  Locale.ROOT,
                                  "not the best of run %s: validation AUC %.4f, %s's %.4f",
                                  run.id,
                                  m.validationAuc,
                                  best.id,
                                  b.validationAuc))
                          .build());
                  continue;
                }
                Promotion.Outcome o =
                    Promotion.decide(
                        candidate,
                        m.metrics.get("auc"),
                        trained.get(Architecture.LOGISTIC).metrics.get("auc"),
                        productionScore,
                        current,
                        config.promoteMinAucGain(),
                        holdout.examples().size(),
                        now);
                decided.addAll(o.updates());
              }
              return decided;
            });
    for (ModelVersion v : updates) {
      for (RunRecord.ModelRun m : run.models) {
        if (v.getRunId().equals(run.id) && v.getArchitecture().equals(m.architecture)) {
          m.version = v.getVersion();
          m.stage = v.getStage().name();
          m.decision = v.getDecision();
          m.decisionReason = v.getDecisionReason();
          log.info(
              "trainer: {} {} → {}: {}",
              m.architecture,
              v.getVersion(),
              v.getStage(),
              v.getDecisionReason());
        }
      }
    }
  }

  /**
   * Stops the registration of a run whose command already has versions of another run in {@code
   * current} ({@link CommandDecidedException}: recorded CANCELLED): a listener checks before it
   * runs a command, but the run of the listener that had the command before the group moved it may
   * commit its registry write after that check. Asked on the state the decision is written on (a
   * later writer fences an earlier one), so of two runs of one command only the first to decide
   * registers.
   */
  private static void refuseIfCommandDecided(
      RunRecord run, TrainRequest request, List<ModelVersion> current) {
    String command = request.commandId();
    if (command == null) {
      return;
    }
    List<String> earlier =
        current.stream()
            .filter(v -> command.equals(v.getCommandId()) && !run.id.equals(v.getRunId()))
            .map(v -> v.getVersion() + " (run " + v.getRunId() + ")")
            .sorted()
            .toList();
    if (!earlier.isEmpty()) {
      throw new CommandDecidedException(
          "command "
              + command
              + " has versions of another run of it in the registry, written while this run"
              + " trained: "
              + String.join(", ", earlier)
              + "; nothing registered a second time");
    }
  }

  private ModelVersion candidate(
      RunRecord run,
      TrainRequest request,
      Holdout holdout,
      RunRecord.ModelRun m,
      ReferenceProfile profile,
      String parent,
      Instant now) {
    Map<String, String> extra = new HashMap<>();
    m.artifacts.forEach(
        (role, uri) -> {
          if (!role.equals("model")) {
            extra.put(role, uri);
            extra.put(role + ModelInputs.SHA256_SUFFIX, m.sha256.get(role));
          }
        });
    Map<String, Double> metrics = new HashMap<>(m.metrics);
    run.baselines.forEach((name, b) -> metrics.put("baseline_" + name + "_auc", b.get("auc")));
    return ModelVersion.newBuilder()
        .setModelName(config.modelName())
        .setVersion(RunIds.version(run.id, m.architecture))
        .setStage(ModelStage.CANDIDATE)
        .setArchitecture(m.architecture)
        .setCreatedAt(now)
        .setUpdatedAt(now)
        .setRunId(run.id)
        .setCommandId(request.commandId())
        .setArtifactUri(m.artifacts.get("model"))
        .setArtifactSha256(m.sha256.get("model"))
        .setArtifacts(extra)
        .setMetrics(metrics)
        // the range asked for, also when a partition's records of it had been deleted (run.json's
        // data.trimmed_partitions): every example learned from is at or after it, which is what
        // ProductionEvaluator needs (it leaves out [training_from, holdout_from) of a later
        // holdout), and the other partitions were read from it
        .setTrainingFrom(request.range().from())
        .setTrainingTo(request.range().to())
        .setHoldoutFrom(Instant.ofEpochMilli(holdout.fromMillis()))
        .setTrainingExamples(holdout.learnedFrom())
        .setFeatureSchemaVersion(FeatureSchema.VERSION)
        .setReferenceProfile(profile)
        .setParentVersion(parent)
        .build();
  }

  private URI put(String runId, String name, byte[] bytes) {
    try {
      return artifacts.put(runId, name, bytes);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot store " + name + " of run " + runId, e);
    }
  }

  private static Map<String, Object> epoch(NetworkTrainer.Epoch e) {
    Map<String, Object> m = new java.util.LinkedHashMap<>();
    m.put("epoch", e.epoch());
    m.put("train_loss", e.trainLoss());
    m.put("validation_auc", e.validationAuc());
    m.put("validation_logloss", e.validationLogLoss());
    m.put("examples", e.examples());
    m.put("millis", e.millis());
    return m;
  }

  private static long millisSince(long t0) {
    return (System.nanoTime() - t0) / 1_000_000;
  }
}
