package io.feedrank.drift.job;

import static org.assertj.core.api.Assertions.assertThat;

import io.feedrank.drift.LocalFlink;
import io.feedrank.drift.io.RegistryRecords;
import io.feedrank.events.ModelStage;
import io.feedrank.events.ModelVersion;
import io.feedrank.models.profile.ProfileBuilder;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.common.functions.MapFunction;
import org.apache.flink.api.common.state.CheckpointListener;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.connector.source.util.ratelimit.RateLimiterStrategy;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.RestartStrategyOptions;
import org.apache.flink.connector.datagen.source.DataGeneratorSource;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A task fails once mid-stream, after a checkpoint: Flink restarts from the checkpoint (source
 * position, window state and decision state restored) and every window's report counts exactly the
 * values generated for it — nothing lost, nothing counted twice.
 */
class RestartFromCheckpointIT {
  @RegisterExtension
  static final MiniClusterExtension FLINK =
      new MiniClusterExtension(
          new MiniClusterResourceConfiguration.Builder()
              .setConfiguration(LocalFlink.loopback())
              .setNumberTaskManagers(1)
              .setNumberSlotsPerTaskManager(2)
              .build());

  static final long N = 120_000;
  static final long STEP_MS = 10; // value i at event time i * 10 ms: 6,000 per 1-minute window
  static final AtomicBoolean CHECKPOINTED = new AtomicBoolean();
  static final AtomicBoolean FAILED = new AtomicBoolean();

  /** Fails once, at the first value past the middle after a checkpoint has completed. */
  static final class FailOnce
      implements MapFunction<FeatureValue, FeatureValue>, CheckpointListener {
    @Override
    public FeatureValue map(FeatureValue v) {
      if (v.eventTime >= N / 2 * STEP_MS
          && CHECKPOINTED.get()
          && FAILED.compareAndSet(false, true)) {
        throw new IllegalStateException("injected failure at " + v.eventTime);
      }
      return v;
    }

    @Override
    public void notifyCheckpointComplete(long checkpointId) {
      CHECKPOINTED.set(true);
    }
  }

  static double valueOf(long i) {
    return (i * 7919 % 1000) / 1000.0;
  }

  @Test
  void windowsAreExactAfterARestartFromACheckpoint() throws Exception {
    Configuration conf = new Configuration();
    conf.set(RestartStrategyOptions.RESTART_STRATEGY, "fixed-delay");
    conf.set(RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_ATTEMPTS, 3);
    conf.set(RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_DELAY, Duration.ofMillis(200));
    StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(conf);
    env.setParallelism(2);
    env.enableCheckpointing(200);

    DataGeneratorSource<FeatureValue> source =
        new DataGeneratorSource<>(
            i -> FeatureValue.numeric("x", "NUMERIC", valueOf(i), i * STEP_MS),
            N,
            // paced by checkpoints, not the clock: each reader emits 5,000 values per completed
            // checkpoint, so the second half (all of it the second reader's split) cannot run out
            // before a checkpoint completes, however slow the first one is on a loaded machine
            // (at 40,000/s it ran out in 3 s, and the failure was then never injected)
            RateLimiterStrategy.perCheckpoint(10_000),
            TypeInformation.of(FeatureValue.class));
    DataStream<FeatureValue> values =
        env.fromSource(
                source,
                WatermarkStrategy.<FeatureValue>forBoundedOutOfOrderness(Duration.ofSeconds(1))
                    .withTimestampAssigner((v, ts) -> v.eventTime),
                "generated")
            .map(new FailOnce());

    ProfileBuilder b = new ProfileBuilder();
    int x = b.numeric("x");
    for (long i = 0; i < 10_000; i++) {
      b.add(x, valueOf(i));
    }
    ModelVersion v =
        ModelVersion.newBuilder()
            .setModelName("m")
            .setVersion("ref")
            .setStage(ModelStage.PRODUCTION)
            .setArchitecture("mlp")
            .setCreatedAt(Instant.EPOCH)
            .setUpdatedAt(Instant.EPOCH)
            .setArtifactUri("file:/unused")
            .setArtifactSha256("00")
            .setFeatureSchemaVersion(1)
            .setReferenceProfile(b.build(10_000))
            .build();
    DataStream<ServingReference> registry = env.fromData(RegistryRecords.of(v));
    DriftJob.Outputs out =
        DriftJob.build(
            values,
            registry,
            new DriftJob.Settings(
                "m",
                Duration.ofMinutes(1),
                DriftThresholdsConfig.defaults(),
                2,
                500,
                Duration.ZERO,
                0,
                Duration.ZERO));

    List<Report> reports = new ArrayList<>();
    out.reports().executeAndCollect().forEachRemaining(reports::add);

    assertThat(FAILED).as("the failure was injected after a checkpoint").isTrue();
    Map<Long, Long> expected = new HashMap<>();
    for (long i = 0; i < N; i++) {
      expected.merge(i * STEP_MS / 60_000 * 60_000, 1L, Long::sum);
    }
    Map<Long, Long> got = new HashMap<>();
    for (Report r : reports) {
      assertThat(got.put(r.windowStart, r.n)).as("one report per window").isNull();
    }
    assertThat(got).isEqualTo(expected);
    assertThat(reports).noneMatch(r -> r.drifted); // the same values as the reference
  }
}
