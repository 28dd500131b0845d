package io.feedrank.localstack;

import io.feedrank.events.Alert;
import io.feedrank.events.DeadLetter;
import io.feedrank.events.Device;
import io.feedrank.events.DriftEvidence;
import io.feedrank.events.DriftKind;
import io.feedrank.events.DriftReport;
import io.feedrank.events.FeatureProfile;
import io.feedrank.events.HourScoreProfile;
import io.feedrank.events.InteractionEvent;
import io.feedrank.events.ItemMetadata;
import io.feedrank.events.ModelComparison;
import io.feedrank.events.ModelStage;
import io.feedrank.events.ModelVersion;
import io.feedrank.events.RankedItem;
import io.feedrank.events.RankingLog;
import io.feedrank.events.ReferenceProfile;
import io.feedrank.events.RetrainCommand;
import io.feedrank.events.RetrainReason;
import io.feedrank.events.SampledFeatureVector;
import io.feedrank.events.Severity;
import io.feedrank.events.TrainingExample;
import io.feedrank.events.UserProfile;
import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.UUID;
import org.apache.avro.specific.SpecificRecord;

/** One fully populated record of every type of DESIGN §2 (every optional field set). */
final class SampleRecords {
  static final Instant T = Instant.parse("2026-11-15T10:30:00.123Z");

  static InteractionEvent interaction(Random r) {
    return InteractionEvent.newBuilder()
        .setInteractionId(new UUID(r.nextLong(), r.nextLong()).toString())
        .setUserId(r.nextInt(10_000))
        .setItemId(r.nextInt(50_000))
        .setEventTime(T.plusMillis(r.nextInt(3_600_000)))
        .setClick(r.nextBoolean())
        .setLike(r.nextInt(10) == 0)
        .setShare(r.nextInt(50) == 0)
        .setDwellSeconds(r.nextFloat() * 120f)
        .setDevice(Device.values()[r.nextInt(4)])
        .setRequestId(r.nextBoolean() ? UUID.randomUUID().toString() : null)
        .setPosition(r.nextBoolean() ? r.nextInt(50) : null)
        .build();
  }

  static List<SpecificRecord> oneOfEach() {
    Random r = new Random(7);
    FeatureProfile fp =
        FeatureProfile.newBuilder()
            .setName("user_ctr_1d")
            .setKind(DriftKind.NUMERIC)
            .setBinEdges(List.of(0.01, 0.02, 0.05))
            .setBinFractions(List.of(0.25, 0.25, 0.25, 0.25))
            .setCategories(List.of())
            .setCategoryFractions(List.of())
            .setMean(0.031)
            .setSketch(ByteBuffer.wrap(new byte[] {1, 2, 3}))
            .build();
    FeatureProfile score =
        FeatureProfile.newBuilder(fp)
            .setName("score")
            .setKind(DriftKind.PREDICTION)
            .setSketch(null)
            .build();
    return List.of(
        interaction(r),
        UserProfile.newBuilder()
            .setUserId(42)
            .setCreatedAt(T)
            .setCountry("DE")
            .setPrimaryDevice(Device.TABLET)
            .build(),
        ItemMetadata.newBuilder()
            .setItemId(1001)
            .setCategory("sports")
            .setCreatedAt(T)
            .setContentLength(95)
            .setCreatorId(7L)
            .build(),
        DeadLetter.newBuilder()
            .setSourceTopic("interactions")
            .setSourcePartition(3)
            .setSourceOffset(12345)
            .setSourceTimestamp(T)
            .setErrorCode("DWELL_OUT_OF_RANGE")
            .setErrorMessage("dwell_seconds 4000.0 outside [0, 3600]")
            .setRawKey(ByteBuffer.wrap(new byte[] {0, 0, 0, 0, 0, 0, 0, 42}))
            .setRawValue(ByteBuffer.wrap(new byte[] {0, 0, 0, 0, 1, 2, 3}))
            .setFailedAt(T)
            .setApplication("streams-features")
            .build(),
        TrainingExample.newBuilder()
            .setInteractionId("e1")
            .setUserId(42)
            .setItemId(1001)
            .setEventTime(T)
            .setDevice(Device.MOBILE)
            .setRequestId("req-1")
            .setPosition(3)
            .setItemCategory("sports")
            .setHourOfDay(10)
            .setDayOfWeek(7)
            .setFeatureSchemaVersion(1)
            .setUserFeatures(List.of(1.5, 0.0, 2.25))
            .setItemFeatures(List.of(3.0, 0.125))
            .setCrossFeatures(List.of(0.5))
            .setClick(true)
            .setLike(false)
            .setShare(true)
            .setDwellSeconds(31.5f)
            .build(),
        RankingLog.newBuilder()
            .setRequestId("req-1")
            .setTimestamp(T)
            .setUserId(42)
            .setDevice(Device.DESKTOP)
            .setModelName("ranker")
            .setModelVersion("v7")
            .setVariant("production")
            .setItems(List.of(new RankedItem(1002L, 0.87f, 1), new RankedItem(1001L, 0.5f, 2)))
            .setLatencyMs(2.1)
            .setFallback(true)
            .setFallbackReason("redis_unavailable")
            .setFeatureSchemaVersion(1)
            .setSampledFeatures(List.of(new SampledFeatureVector(1002L, List.of(0.1f, 0.2f))))
            .build(),
        DriftReport.newBuilder()
            .setWindowStart(T)
            .setWindowEnd(T.plusSeconds(300))
            .setModelName("ranker")
            .setReferenceVersion("v7")
            .setFeature("user_ctr_1d")
            .setKind(DriftKind.NUMERIC)
            .setN(5000)
            .setReferenceN(100000)
            .setPsi(0.31)
            .setKsStatistic(0.12)
            .setKsPValue(1e-9)
            .setChi2Statistic(40.5)
            .setChi2PValue(1e-6)
            .setMean(0.04)
            .setReferenceMean(0.031)
            .setMeanRelativeChange(0.29)
            .setDrifted(true)
            .setPsiThreshold(0.2)
            .setKsThreshold(0.1)
            .setPValueThreshold(0.01)
            .setLateEvents(3)
            .build(),
        Alert.newBuilder()
            .setAlertId("a1")
            .setTime(T)
            .setSeverity(Severity.CRITICAL)
            .setKind("FEATURE_DRIFT")
            .setMessage("user_ctr_1d drifted: PSI 0.31")
            .setDetails(Map.of("feature", "user_ctr_1d", "psi", "0.31"))
            .build(),
        RetrainCommand.newBuilder()
            .setCommandId("c1")
            .setModelName("ranker")
            .setIssuedAt(T)
            .setReason(RetrainReason.FEATURE_DRIFT)
            .setEvidence(
                List.of(
                    new DriftEvidence(
                        "user_ctr_1d",
                        DriftKind.NUMERIC,
                        T,
                        T.plusSeconds(300),
                        5000L,
                        0.31,
                        0.12,
                        1e-9,
                        null,
                        2,
                        5000L)))
            .setReferenceVersion("v7")
            .setDataFrom(T.minusSeconds(86400))
            .setDataTo(T)
            .setMessage("drift persisted 2 windows")
            .build(),
        ModelVersion.newBuilder()
            .setModelName("ranker")
            .setVersion("v8")
            .setStage(ModelStage.PRODUCTION)
            .setArchitecture("mlp")
            .setCreatedAt(T)
            .setUpdatedAt(T.plusSeconds(60))
            .setRunId("run-1")
            .setArtifactUri("file:///tmp/models/v8/model.onnx")
            .setArtifactSha256("ab".repeat(32))
            .setArtifacts(Map.of("user_tower", "file:///tmp/models/v8/user.onnx"))
            .setMetrics(Map.of("auc", 0.78, "logloss", 0.41))
            .setTrainingFrom(T.minusSeconds(86400))
            .setTrainingTo(T)
            .setTrainingExamples(100_000)
            .setFeatureSchemaVersion(1)
            .setReferenceProfile(
                new ReferenceProfile(
                    15_000L, List.of(fp), score, List.of(new HourScoreProfile(20, 700L, score))))
            .setParentVersion("v7")
            .setDecision("PROMOTED")
            .setDecisionReason("AUC +0.012 over v7 on the same holdout")
            .setComparison(new ModelComparison("v7", "auc", 0.78, 0.768, 0.012, 15_000L))
            .build());
  }

  private SampleRecords() {}
}
