package io.feedrank.trainer;

import static org.assertj.core.api.Assertions.as;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.assertj.core.api.Assertions.fail;
import static org.assertj.core.api.Assertions.within;

import io.feedrank.events.ModelStage;
import io.feedrank.events.ModelVersion;
import io.feedrank.models.FileArtifactStore;
import io.feedrank.trainer.data.DataRange;
import io.feedrank.trainer.data.Dataset;
import io.feedrank.trainer.data.Example;
import io.feedrank.trainer.data.ExampleSource;
import io.feedrank.trainer.data.TemporalSplit;
import io.feedrank.trainer.data.TemporalSplitTest;
import io.feedrank.trainer.eval.Metrics;
import io.feedrank.trainer.export.OnnxScorer;
import io.feedrank.trainer.registry.ModelRegistry;
import io.feedrank.trainer.registry.Promotion;
import io.feedrank.trainer.runs.FileRunStore;
import io.feedrank.trainer.runs.RunRecord;
import io.feedrank.trainer.runs.RunStore;
import io.feedrank.trainer.train.Architecture;
import io.micrometer.core.instrument.Counter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CancellationException;
import java.util.function.Function;
import org.assertj.core.api.InstanceOfAssertFactories;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A run of two networks end to end, on examples in memory and a registry in memory (the Kafka side
 * is {@code TrainerPipelineIT}'s): which network becomes the run's candidate, what each registered
 * version carries, and what is refused before any training.
 */
class TrainingJobTest {
  @TempDir Path dir;

  /** What the job's source returned at its last read: the examples the run kept. */
  ExampleSource.Loaded lastRead;

  /** The registry's latest record per version, as the compacted topic keeps them. */
  static final class MemoryRegistry implements ModelRegistry {
    final Map<String, ModelVersion> records = new LinkedHashMap<>();

    @Override
    public List<ModelVersion> versions(String modelName) {
      return records.values().stream().filter(v -> v.getModelName().equals(modelName)).toList();
    }

    @Override
    public void publish(List<ModelVersion> updates) {
      updates.forEach(v -> records.put(v.getVersion(), v));
    }
  }

  private TrainingJob job(List<Example> examples, ModelRegistry registry) {
    return job(examples, registry, Map.of());
  }

  /** A job on {@code examples}, every one offered to the run's sample; {@code extra} config. */
  private TrainingJob job(
      List<Example> examples, ModelRegistry registry, Map<String, String> extra) {
    FileArtifactStore store = new FileArtifactStore(dir);
    ExampleSource source =
        (range, sample) -> {
          examples.forEach(sample::offer);
          lastRead = sample.loaded(examples.size(), 0, 0, 0, null);
          return lastRead;
        };
    return new TrainingJob(
        config(extra), source, store, new FileRunStore(store), registry, Clock.systemUTC());
  }

  private TrainerConfig config(Map<String, String> extra) {
    Map<String, String> c = new HashMap<>();
    c.put("bootstrap.servers", "127.0.0.1:9");
    c.put("schema.registry.url", "http://127.0.0.1:9/apis/ccompat/v7");
    c.put("artifact.store", dir.toString());
    TrainerHarness.small(c);
    c.put("mlp.layers", "64,32");
    c.put("tower.layers", "32,16");
    c.putAll(extra);
    return TrainerConfig.from(c);
  }

  /**
   * A run store on a disk that fills up (or turns read-only): its saves from the {@code failFrom}th
   * on throw, as {@link FileRunStore}'s do then.
   */
  static final class FillingRunStore implements RunStore {
    final RunStore store;
    final int failFrom;
    int saves;

    FillingRunStore(RunStore store, int failFrom) {
      this.store = store;
      this.failFrom = failFrom;
    }

    @Override
    public boolean create(String runId) {
      return store.create(runId);
    }

    @Override
    public void save(RunRecord run) {
      if (++saves >= failFrom) {
        throw new UncheckedIOException(
            "cannot write run " + run.id + " (save " + saves + ")",
            new IOException("No space left on device"));
      }
      store.save(run);
    }

    @Override
    public List<RunRecord> list() {
      return store.list();
    }

    @Override
    public Optional<RunRecord> get(String runId) {
      return store.get(runId);
    }
  }

  private static DataRange rangeOf(List<Example> examples) {
    long last = examples.stream().mapToLong(Example::eventTimeMillis).max().orElseThrow();
    return new DataRange(SimData.START, java.time.Instant.ofEpochMilli(last + 1));
  }

  @Test
  void theCandidateIsTheBestNetworkAndEveryVersionCarriesItsOwnScoreProfile() throws Exception {
    List<Example> examples = SimData.examples(12_000);
    MemoryRegistry registry = new MemoryRegistry();
    // the two-tower first: the run's first registered network is then not its best one
    RunRecord run =
        job(examples, registry)
            .run(
                new TrainRequest(
                    rangeOf(examples),
                    List.of(Architecture.TWO_TOWER, Architecture.MLP),
                    "retrain-command MANUAL",
                    "command-1"));
    // every version of the run names its command, for any trainer that reads the registry
    assertThat(registry.records.values())
        .hasSize(2)
        .allSatisfy(v -> assertThat(v.getCommandId()).isEqualTo("command-1"));

    // the best by validation AUC (not the holdout's, which then judges it unbiased by the choice),
    // recomputed here: each network's artifact scored on the validation split with ONNX Runtime
    Dataset validation = Dataset.of(TemporalSplit.of(examples).validation(), 4000, 10000);
    Map<String, Double> validationAuc = new HashMap<>();
    for (RunRecord.ModelRun m : run.models) {
      if (m.version != null) {
        ModelVersion v = registry.records.get(m.version);
        validationAuc.put(
            m.architecture,
            Metrics.auc(
                OnnxScorer.scores(
                    Files.readAllBytes(Path.of(URI.create(v.getArtifactUri()))), validation),
                validation.label));
      }
    }
    assertThat(validationAuc).hasSize(2);
    String best =
        validationAuc.entrySet().stream().max(Map.Entry.comparingByValue()).orElseThrow().getKey();
    // far enough apart for ONNX Runtime's last digits not to decide it
    assertThat(Math.abs(validationAuc.get("mlp") - validationAuc.get("two_tower")))
        .isGreaterThan(1e-4);
    assertThat(run.registeredModel()).isPresent();
    assertThat(run.registeredModel().get().architecture).isEqualTo(best);
    ModelVersion candidate = registry.records.get(run.registeredModel().get().version);
    // the first model: judged against the logistic baseline on the holdout, by its own artifact's
    // holdout AUC
    Dataset heldOut = Dataset.of(TemporalSplit.of(examples).test(), 4000, 10000);
    double candidateAuc =
        Metrics.auc(
            OnnxScorer.scores(
                Files.readAllBytes(Path.of(URI.create(candidate.getArtifactUri()))), heldOut),
            heldOut.label);
    assertThat(candidate.getComparison().getAgainstVersion()).isEqualTo(Promotion.BASELINE);
    assertThat(candidate.getComparison().getCandidateValue()).isCloseTo(candidateAuc, within(1e-4));
    // and the baseline it is judged against is the logistic model's AUC on the same holdout, by
    // its own exported artifact (not a figure of the train split, or of another holdout)
    RunRecord.ModelRun logistic =
        run.models.stream()
            .filter(m -> m.architecture.equals("logistic"))
            .findFirst()
            .orElseThrow();
    double baselineAuc =
        Metrics.auc(
            OnnxScorer.scores(
                Files.readAllBytes(Path.of(URI.create(logistic.artifacts.get("model")))), heldOut),
            heldOut.label);
    assertThat(candidate.getComparison().getProductionValue()).isCloseTo(baselineAuc, within(1e-4));
    assertThat(candidate.getStage())
        .isEqualTo(
            candidateAuc > candidate.getComparison().getProductionValue()
                ? ModelStage.PRODUCTION
                : ModelStage.REJECTED);
    assertThat(candidate.getDecisionReason()).doesNotContain("not the best");
    assertThat(run.models)
        .filteredOn(m -> m.version != null && !m.architecture.equals(best))
        .singleElement()
        .satisfies(m -> assertThat(m.decisionReason).startsWith("not the best of run"));

    // each version's score profile is the distribution of its own artifact's holdout scores,
    // scored here with ONNX Runtime: its mean, to the export check's tolerance
    Dataset test = Dataset.of(TemporalSplit.of(examples).test(), 4000, 10000);
    List<Double> means = new ArrayList<>();
    for (ModelVersion v : registry.records.values()) {
      float[] scores =
          OnnxScorer.scores(Files.readAllBytes(Path.of(URI.create(v.getArtifactUri()))), test);
      double mean = 0;
      for (float s : scores) {
        mean += s;
      }
      mean /= scores.length;
      means.add(mean);
      assertThat(v.getReferenceProfile().getScore().getMean())
          .as(v.getArchitecture())
          .isCloseTo(mean, within(1e-5));
      assertThat(v.getReferenceProfile().getN()).isEqualTo(test.size);
    }
    assertThat(means).hasSize(2);
    // the two networks score differently enough for the check above to tell them apart
    assertThat(Math.abs(means.get(0) - means.get(1))).isGreaterThan(1e-4);

    // as production, one of them without the bucket counts in its metadata cannot be scored on a
    // holdout (it used to be scored with every id in bucket 0, far below what it serves): the
    // candidate cannot be compared, and is rejected rather than judged against the baseline
    ModelVersion any = registry.records.get(run.registeredModel().get().version);
    byte[] stripped =
        ai.onnx.proto.OnnxMl.ModelProto.parseFrom(
                Files.readAllBytes(Path.of(URI.create(any.getArtifactUri()))))
            .toBuilder()
            .clearMetadataProps()
            .build()
            .toByteArray();
    FileArtifactStore store = new FileArtifactStore(dir);
    URI uri = store.put("stripped", "model.onnx", stripped);
    ModelVersion production =
        ModelVersion.newBuilder(any)
            .setArtifactUri(uri.toString())
            .setArtifactSha256(io.feedrank.models.Checksums.sha256(stripped))
            .build();
    var evaluator = new io.feedrank.trainer.registry.ProductionEvaluator(store);
    List<Example> holdout = TemporalSplit.of(examples).test();
    float[] none = new float[holdout.size()];
    var score = evaluator.score(production, holdout, none);
    assertThat(score.incomparable())
        .contains("no " + io.feedrank.features.vector.ModelInputs.META_USER_BUCKETS);
    assertThat(score.unscorable()).isNull();
    assertThat(score.auc()).isNaN();
    // so is one whose artifact is missing (a trainer pointed at another store), or fails its
    // checksum; only another feature schema sends the candidate to the baseline rule
    var missing =
        evaluator.score(
            ModelVersion.newBuilder(any)
                .setArtifactUri(dir.resolve("elsewhere/model.onnx").toUri().toString())
                .build(),
            holdout,
            none);
    assertThat(missing.incomparable()).contains("elsewhere/model.onnx");
    assertThat(missing.unscorable()).isNull();
    var tampered =
        evaluator.score(
            ModelVersion.newBuilder(any).setArtifactSha256("ab".repeat(32)).build(), holdout, none);
    assertThat(tampered.incomparable()).contains("sha256");
    // a read that fails otherwise (a volume away for a moment) fails the run, to be tried again,
    // rather than rejecting the candidate for good
    io.feedrank.models.ArtifactStore away =
        new io.feedrank.models.ArtifactStore() {
          @Override
          public URI put(String runId, String name, byte[] bytes) {
            throw new UnsupportedOperationException();
          }

          @Override
          public byte[] get(URI uri) throws java.io.IOException {
            throw new java.io.IOException("Input/output error");
          }

          @Override
          public Path localCopy(URI uri) throws java.io.IOException {
            throw new java.io.IOException("Input/output error");
          }
        };
    assertThatThrownBy(
            () ->
                new io.feedrank.trainer.registry.ProductionEvaluator(away)
                    .score(production, holdout, none))
        .isInstanceOf(java.io.UncheckedIOException.class)
        .hasMessageContaining("cannot read production");
    var older =
        evaluator.score(
            ModelVersion.newBuilder(any)
                .setFeatureSchemaVersion(io.feedrank.features.FeatureSchema.VERSION - 1)
                .build(),
            holdout,
            none);
    assertThat(older.unscorable()).contains("feature schema");
    assertThat(older.incomparable()).isNull();
    // a holdout of too few clicks to tell two models apart is not compared on: 99 clicks, then 100
    List<Example> fewClicks = new ArrayList<>(holdout.stream().filter(e -> !e.click()).toList());
    List<Example> clicked = holdout.stream().filter(Example::click).toList();
    assertThat(clicked.size()).isGreaterThan(100);
    fewClicks.addAll(clicked.subList(0, 99));
    var scarce = evaluator.score(any, fewClicks, new float[fewClicks.size()]);
    assertThat(scarce.incomparable())
        .contains("have 99 clicks, too few")
        .contains("at least 100 with a click");
    fewClicks.add(clicked.get(99));
    var enough = evaluator.score(any, fewClicks, new float[fewClicks.size()]);
    assertThat(enough.incomparable()).isNull();
    assertThat(enough.auc()).isBetween(0.0, 1.0);
  }

  /**
   * A range retrained over an older one (a backfill, {@code --from/--to}) holds held-out examples
   * production learned from, on which it scores above what it would serve. The candidate is
   * compared with it on the rest; with none left, it is rejected.
   */
  @Test
  void aCandidateIsComparedOnlyOnHeldOutExamplesProductionDidNotLearnFrom() throws Exception {
    List<Example> all = new ArrayList<>(SimData.examples(12_000));
    all.sort(Comparator.comparingLong(Example::eventTimeMillis));
    // production, whatever its own run decided; it learned from the examples before its newest
    // 15% (the temporal split), and was evaluated on those
    ModelVersion production =
        ModelVersion.newBuilder(mlpCandidate(all, null)).setStage(ModelStage.PRODUCTION).build();
    long holdoutFrom = all.get(testStart(all)).eventTimeMillis();
    assertThat(production.getHoldoutFrom().toEpochMilli()).isEqualTo(holdoutFrom);

    // the oldest 11,800: a holdout of rows 10,030 to 11,799, production learned from its first
    List<Example> part = all.subList(0, 11_800);
    ModelVersion candidate = mlpCandidate(part, production);
    List<Example> heldOut = part.subList(testStart(part), part.size());
    List<Example> unseen =
        heldOut.stream().filter(e -> e.eventTimeMillis() >= holdoutFrom).toList();
    assertThat(unseen.size()).isBetween(1_000, heldOut.size() - 100); // what the case needs
    assertThat(candidate.getComparison().getAgainstVersion()).isEqualTo(production.getVersion());
    assertThat(candidate.getComparison().getHoldoutExamples()).isEqualTo(unseen.size());
    assertThat(candidate.getDecisionReason())
        .contains(
            (heldOut.size() - unseen.size())
                + " of the "
                + heldOut.size()
                + " held-out examples are in the data production");
    // both values are the two artifacts' AUC on those rows, scored here with ONNX Runtime (the
    // candidate's own within the export check's tolerance of its training framework's scores)
    Dataset rows = Dataset.of(unseen, 4000, 10000);
    assertThat(candidate.getComparison().getProductionValue())
        .isCloseTo(
            Metrics.auc(OnnxScorer.scores(artifact(production), rows), rows.label), within(1e-9));
    assertThat(candidate.getComparison().getCandidateValue())
        .isCloseTo(
            Metrics.auc(OnnxScorer.scores(artifact(candidate), rows), rows.label), within(1e-3));

    // the oldest 7,000: production learned from every one of its 1,050 held-out examples
    List<Example> old = all.subList(0, 7_000);
    ModelVersion rejected = mlpCandidate(old, production);
    assertThat(rejected.getStage()).isEqualTo(ModelStage.REJECTED);
    assertThat(rejected.getDecisionReason())
        .startsWith("cannot be compared with production " + production.getVersion())
        .contains("1050 of the 1050 held-out examples");
    assertThat(rejected.getComparison()).isNull();

    // a production record written before holdout_from was: compared on the whole holdout, as then
    ModelVersion compared =
        mlpCandidate(old, ModelVersion.newBuilder(production).setHoldoutFrom(null).build());
    assertThat(compared.getComparison().getHoldoutExamples()).isEqualTo(1_050);
    assertThat(compared.getDecisionReason()).doesNotContain("did not learn from");
  }

  /** The version an MLP run on {@code examples} registers, against {@code production} (or none). */
  private ModelVersion mlpCandidate(List<Example> examples, ModelVersion production) {
    MemoryRegistry registry = new MemoryRegistry();
    if (production != null) {
      registry.publish(List.of(production));
    }
    RunRecord run =
        job(examples, registry)
            .run(new TrainRequest(rangeOf(examples), List.of(Architecture.MLP), "t", null));
    return registry.records.get(run.registeredModel().orElseThrow().version);
  }

  /** The newest 15% of examples sorted by time, a millisecond not split (TemporalSplit's rule). */
  private static int testStart(List<Example> sorted) {
    int i = (int) Math.round(sorted.size() * 0.85);
    while (i < sorted.size()
        && sorted.get(i).eventTimeMillis() == sorted.get(i - 1).eventTimeMillis()) {
      i++;
    }
    return i;
  }

  private static byte[] artifact(ModelVersion v) throws java.io.IOException {
    return Files.readAllBytes(Path.of(URI.create(v.getArtifactUri())));
  }

  /**
   * Two runs of one retrain command (the listener that had it ran it to its registry write as the
   * group moved the partition, and the one that has it now started before that write landed): the
   * second to decide registers nothing. Its run is refused, and the registry keeps the first run's
   * version, the only one that names the command.
   */
  @Test
  void aRunWhoseCommandWasRegisteredWhileItTrainedRegistersNothing() {
    List<Example> examples = SimData.examples(12_000);
    String command = "drift-episode-1";
    Instant now = Instant.now();
    ModelVersion elsewhere =
        ModelVersion.newBuilder()
            .setModelName("feed-ranker")
            .setVersion("20261123-061500-3fa2-mlp")
            .setRunId("run-20261123-061500-3fa2")
            .setCommandId(command)
            .setStage(ModelStage.STAGING)
            .setArchitecture("mlp")
            .setCreatedAt(now)
            .setUpdatedAt(now)
            .setArtifactUri("file:/elsewhere/mlp.onnx")
            .setArtifactSha256("00")
            .setFeatureSchemaVersion(io.feedrank.features.FeatureSchema.VERSION)
            .build();
    MemoryRegistry memory = new MemoryRegistry();
    ModelRegistry registry =
        new ModelRegistry() {
          @Override
          public List<ModelVersion> versions(String modelName) {
            return memory.versions(modelName);
          }

          @Override
          public void publish(List<ModelVersion> updates) {
            memory.publish(updates);
          }

          @Override
          public List<ModelVersion> update(
              String modelName, Function<List<ModelVersion>, List<ModelVersion>> decide) {
            memory.publish(List.of(elsewhere)); // the other run's write lands before this decision
            return ModelRegistry.super.update(modelName, decide);
          }
        };
    TrainingJob job = job(examples, registry);
    assertThatThrownBy(
            () ->
                job.run(
                    new TrainRequest(
                        rangeOf(examples),
                        List.of(Architecture.MLP),
                        "retrain-command FEATURE_DRIFT",
                        command)))
        .isInstanceOf(CommandDecidedException.class)
        .hasMessageContaining(command)
        .hasMessageContaining(elsewhere.getVersion());
    assertThat(memory.records.values()).containsExactly(elsewhere);
    RunRecord r = new FileRunStore(new FileArtifactStore(dir)).list().get(0);
    assertThat(r.commandId).isEqualTo(command);
    // moot, not refused: the command is answered, and TrainerRunsFailing counts REFUSED
    assertThat(r.status).isEqualTo(RunRecord.CANCELLED);
    assertThat(r.error).contains(elsewhere.getVersion());
    assertThat(r.models).isNotEmpty(); // it trained: the check is at the registry write
    assertThat(r.registeredModel()).isEmpty();
  }

  /**
   * A range of twice {@code max.examples} trains on a sample of {@code max.examples}, spread over
   * the range's event time as the range is (the temporal split then holds out the newest 15% of the
   * range's time, not of its newest half), and the run's counts say how many were in the range and
   * how many were kept.
   */
  @Test
  void aRangeOfTwiceMaxExamplesTrainsOnAUniformSampleOfMaxExamples() {
    int cap = 8_000;
    List<Example> examples = SimData.examples(2 * cap);
    MemoryRegistry registry = new MemoryRegistry();
    RunRecord run =
        job(examples, registry, Map.of("max.examples", Integer.toString(cap)))
            .run(new TrainRequest(rangeOf(examples), List.of(Architecture.MLP), "test", null));

    assertThat(run.status).isEqualTo(RunRecord.SUCCEEDED);
    assertThat(run.counts)
        .containsEntry("examples_in_range", (long) examples.size())
        .containsEntry("examples", (long) cap);
    assertThat(run.counts.get("train") + run.counts.get("validation") + run.counts.get("test"))
        .isEqualTo(cap);
    List<Example> kept = lastRead.examples();
    assertThat(kept).hasSize(cap);
    assertThat(examples).containsAll(kept);

    // uniform in time: the kept examples older than the range's median event time are a
    // hypergeometric draw (cap of 2·cap, half of them old): mean cap/2, variance
    // cap·¼·(N − cap)/(N − 1); within 5 standard deviations (a newest-N sample keeps none)
    long[] times = examples.stream().mapToLong(Example::eventTimeMillis).sorted().toArray();
    long median = times[times.length / 2];
    long old = java.util.Arrays.stream(times).filter(t -> t < median).count();
    long keptOld = kept.stream().filter(e -> e.eventTimeMillis() < median).count();
    double p = (double) old / times.length;
    double sd = Math.sqrt(cap * p * (1 - p) * (times.length - cap) / (double) (times.length - 1));
    assertThat((double) keptOld).isCloseTo(cap * p, within(5 * sd));

    // and the holdout starts near the 85% point of the whole range's time, not of its newest half:
    // the rank, among all examples, of the sample's 85% quantile is 0.85·N within a few standard
    // deviations of a sample quantile, sqrt(q(1 − q)/n)·sqrt(1 − n/N)·N
    ModelVersion candidate = registry.records.get(run.registeredModel().orElseThrow().version);
    long holdoutFrom = candidate.getHoldoutFrom().toEpochMilli();
    long rank = java.util.Arrays.stream(times).filter(t -> t < holdoutFrom).count();
    double q = 0.85;
    double quantileSd =
        Math.sqrt(q * (1 - q) / cap) * Math.sqrt(1 - (double) cap / times.length) * times.length;
    assertThat((double) rank).isCloseTo(q * times.length, within(5 * quantileSd));
    assertThat((long) candidate.getTrainingExamples())
        .isEqualTo(run.counts.get("train") + run.counts.get("validation"));
  }

  /**
   * A run store that cannot be written (a full or read-only disk) fails the run, and the run is
   * counted by its status ({@code trainer_runs_total}, which {@code TrainerRunsFailing} watches)
   * though no record of its end could be saved; what the run throws is its own error, the failed
   * save of its record suppressed in it. The first save, before the run's {@code try}, failed it
   * unrecorded; the last one replaced the run's error with its own; and only a run whose ended
   * record the store held was counted.
   */
  @Test
  void aRunWhoseRecordCannotBeSavedIsCountedByItsStatusAndThrowsItsOwnError() {
    // read-only from the start: the first save fails the run, the last one cannot record it
    Outcome readOnly = runOn(1, (range, sample) -> fail("a run that cannot be recorded read"));
    assertThat(readOnly.thrown())
        .isInstanceOf(UncheckedIOException.class)
        .hasMessageEndingWith("(save 1)");
    assertThat(readOnly.thrown().getSuppressed())
        .extracting(Throwable::getMessage)
        .singleElement(as(InstanceOfAssertFactories.STRING))
        .endsWith("(save 2)");
    assertThat(readOnly.counted()).containsExactly(Map.entry(RunRecord.FAILED, 1.0));

    // the broker stops answering mid-read, and the disk is full by the time the run ends
    IllegalStateException away = new IllegalStateException("training-examples stopped answering");
    Outcome full =
        runOn(
            2,
            (range, sample) -> {
              throw away;
            });
    assertThat(full.thrown()).isSameAs(away);
    assertThat(away.getSuppressed())
        .extracting(Throwable::getMessage)
        .singleElement(as(InstanceOfAssertFactories.STRING))
        .endsWith("(save 2)");
    assertThat(full.counted()).containsExactly(Map.entry(RunRecord.FAILED, 1.0));

    // a shutdown's stop is counted CANCELLED, as the job would have recorded it
    CancellationException stopped = new CancellationException("shutdown");
    Outcome cancelled =
        runOn(
            2,
            (range, sample) -> {
              throw stopped;
            });
    assertThat(cancelled.thrown()).isSameAs(stopped);
    assertThat(cancelled.counted()).containsExactly(Map.entry(RunRecord.CANCELLED, 1.0));
  }

  int stores;

  /** What a run threw, and the runs counted by status (those counted at all). */
  record Outcome(Throwable thrown, Map<String, Double> counted) {}

  /**
   * One run on {@code source}, its record saved to a fresh store that fails from {@code failFrom}.
   */
  private Outcome runOn(int failFrom, ExampleSource source) {
    FileArtifactStore store = new FileArtifactStore(dir.resolve("store-" + ++stores));
    RunStore runs = new FillingRunStore(new FileRunStore(store), failFrom);
    TrainingJob job =
        new TrainingJob(
            config(Map.of()), source, store, runs, new MemoryRegistry(), Clock.systemUTC());
    TrainRequest request =
        new TrainRequest(
            new DataRange(SimData.START, SimData.START.plusSeconds(3600)),
            List.of(Architecture.MLP),
            "retrain-command FEATURE_DRIFT",
            "command-1");
    try (TrainerMetrics metrics = new TrainerMetrics("127.0.0.1", 0)) {
      Throwable thrown = catchThrowable(() -> Main.runAndRecord(job, runs, metrics, request));
      Map<String, Double> counted = new HashMap<>();
      for (Counter c : metrics.registry().find("trainer.runs").counters()) {
        if (c.count() > 0) {
          counted.merge(c.getId().getTag("status"), c.count(), Double::sum);
        }
      }
      return new Outcome(thrown, counted);
    }
  }

  @Test
  void aHoldoutTooSmallForTheExportCheckIsRefusedBeforeAnyTraining() {
    // 5,000 examples pass min.examples (2,000), but their newest 15% are 750 rows: fewer than the
    // 1,000 the export is checked on
    List<Example> examples = SimData.examples(5_000);
    MemoryRegistry registry = new MemoryRegistry();
    TrainingJob job = job(examples, registry);
    assertThatThrownBy(
            () ->
                job.run(
                    new TrainRequest(rangeOf(examples), List.of(Architecture.MLP), "test", null)))
        .isInstanceOf(RefusedException.class)
        .hasMessageContaining("has 750 examples")
        .hasMessageContaining("at least 1000");
    RunRecord r = new FileRunStore(new FileArtifactStore(dir)).list().get(0);
    assertThat(r.status).isEqualTo(RunRecord.REFUSED);
    assertThat(r.models).isEmpty();
    assertThat(registry.records).isEmpty();
  }

  /**
   * Same data, seed and build, the same model: the examples offered to the run in the simulator's
   * order and shuffled (as Kafka reads interleave partitions; a few percent of the simulator's
   * examples share a millisecond) train the same networks, bit for bit: their ONNX graphs (weights
   * included) are equal, and so are every epoch's figures and the holdout metrics. The graphs'
   * metadata differs only by the run id.
   */
  @Test
  void theSameExamplesInAnotherOrderTrainTheSameModel() throws Exception {
    List<Example> examples = SimData.examples(7_000);
    assertThat(TemporalSplitTest.sharingAMillisecond(examples))
        .as("examples sharing a millisecond")
        .isGreaterThan(100);
    List<Example> shuffled = new ArrayList<>(examples);
    java.util.Collections.shuffle(shuffled, new java.util.Random(3));
    TrainRequest request =
        new TrainRequest(rangeOf(examples), List.of(Architecture.MLP), "manual", null);
    Map<String, String> brief = Map.of("max.epochs", "1", "mlp.layers", "32,16");
    RunRecord ordered = job(examples, new MemoryRegistry(), brief).run(request);
    RunRecord reordered = job(shuffled, new MemoryRegistry(), brief).run(request);
    assertThat(reordered.counts).isEqualTo(ordered.counts);
    assertThat(reordered.models).hasSize(2);
    for (int i = 0; i < ordered.models.size(); i++) {
      RunRecord.ModelRun a = ordered.models.get(i);
      RunRecord.ModelRun b = reordered.models.get(i);
      assertThat(b.architecture).isEqualTo(a.architecture);
      assertThat(b.metrics).as(a.architecture).isEqualTo(a.metrics);
      assertThat(withoutTimes(b.epochs)).as(a.architecture).isEqualTo(withoutTimes(a.epochs));
      for (Map.Entry<String, String> artifact : a.artifacts.entrySet()) {
        assertThat(graph(b.artifacts.get(artifact.getKey())))
            .as(a.architecture + " " + artifact.getKey())
            .isEqualTo(graph(artifact.getValue()));
      }
    }
  }

  private static List<Map<String, Object>> withoutTimes(List<Map<String, Object>> epochs) {
    List<Map<String, Object>> out = new ArrayList<>();
    for (Map<String, Object> e : epochs) {
      Map<String, Object> copy = new HashMap<>(e);
      copy.remove("millis");
      out.add(copy);
    }
    return out;
  }

  private static ai.onnx.proto.OnnxMl.GraphProto graph(String uri) throws IOException {
    return ai.onnx.proto.OnnxMl.ModelProto.parseFrom(Files.readAllBytes(Path.of(URI.create(uri))))
        .getGraph();
  }

  /**
   * A run records the build that trained it: the project version, the git commit and whether
   * tracked files differed, in {@code run.json}'s environment and in every ONNX file's metadata
   * with the run id. Compared with git asked here, and the version of this module's pom.
   */
  @Test
  void aRunRecordsItsBuildInRunJsonAndInItsOnnxFiles() throws Exception {
    List<Example> examples = SimData.examples(7_000);
    RunRecord run =
        job(examples, new MemoryRegistry(), Map.of("max.epochs", "1", "mlp.layers", "32,16"))
            .run(new TrainRequest(rangeOf(examples), List.of(Architecture.MLP), "manual", null));
    String pom = Files.readString(Path.of("pom.xml"));
    java.util.regex.Matcher parent =
        java.util.regex.Pattern.compile(
                "<parent>.*?<version>([^<]+)</version>", java.util.regex.Pattern.DOTALL)
            .matcher(pom);
    assertThat(parent.find()).isTrue();
    String version = parent.group(1);
    Optional<String> head = git("rev-parse", "--verify", "HEAD");
    String commit = head.orElse("unknown");
    String dirty =
        head.isEmpty()
            ? "unknown"
            : git("status", "--porcelain", "--untracked-files=no").orElseThrow().isEmpty()
                ? "false"
                : "true";
    if (head.isPresent()) {
      assertThat(commit).matches("[0-9a-f]{40}");
    }
    // as saved, read back from the run store
    RunRecord saved = new FileRunStore(new FileArtifactStore(dir)).get(run.id).orElseThrow();
    assertThat(saved.environment)
        .containsEntry("feedrank_version", version)
        .containsEntry("feedrank_commit", commit)
        .containsEntry("feedrank_dirty", dirty);
    String build = version + " " + commit + ("true".equals(dirty) ? " dirty" : "");
    assertThat(saved.models).hasSize(2);
    for (RunRecord.ModelRun m : saved.models) {
      for (String uri : m.artifacts.values()) {
        Map<String, String> props = new HashMap<>();
        ai.onnx.proto.OnnxMl.ModelProto.parseFrom(Files.readAllBytes(Path.of(URI.create(uri))))
            .getMetadataPropsList()
            .forEach(p -> props.put(p.getKey(), p.getValue()));
        assertThat(props)
            .as(uri)
            .containsEntry("feedrank.build", build)
            .containsEntry("feedrank.run_id", run.id);
      }
    }
  }

  /** What git prints (stripped) in this module's directory, or empty outside a repository. */
  private static Optional<String> git(String... args) throws Exception {
    List<String> command = new ArrayList<>(List.of("git"));
    command.addAll(List.of(args));
    Process p;
    try {
      p = new ProcessBuilder(command).redirectErrorStream(false).start();
    } catch (IOException e) {
      return Optional.empty(); // no git
    }
    String out = new String(p.getInputStream().readAllBytes()).strip();
    p.getErrorStream().readAllBytes();
    return p.waitFor() == 0 ? Optional.of(out) : Optional.empty();
  }

  /**
   * Two runs that draw the same id (started in the same second: once in 65,536): the second draws
   * another instead of saving its record, and its models, over the first's.
   */
  @Test
  void aRunWhoseIdIsTakenDrawsAnotherAndLeavesTheFirstRunsRecordAlone() {
    FileArtifactStore store = new FileArtifactStore(dir);
    FileRunStore runs = new FileRunStore(store);
    var ids =
        List.of("run-20261123-061500-3fa2", "run-20261123-061500-3fa2", "run-20261123-061500-77c1")
            .iterator();
    TrainingJob job =
        new TrainingJob(
            config(Map.of()),
            (range, sample) -> sample.loaded(0, 0, 0, 0, null),
            store,
            runs,
            new MemoryRegistry(),
            Clock.systemUTC(),
            now -> ids.next());
    DataRange range = new DataRange(SimData.START, SimData.START.plusSeconds(3600));
    for (String trigger : List.of("nightly", "retrain-command MANUAL")) {
      // refused (no examples): a run that records itself and ends at once
      assertThatThrownBy(
              () -> job.run(new TrainRequest(range, List.of(Architecture.MLP), trigger, null)))
          .isInstanceOf(RefusedException.class);
    }
    assertThat(runs.list())
        .extracting(r -> r.id + " " + r.trigger)
        .containsExactlyInAnyOrder(
            "run-20261123-061500-3fa2 nightly", "run-20261123-061500-77c1 retrain-command MANUAL");
  }
}
