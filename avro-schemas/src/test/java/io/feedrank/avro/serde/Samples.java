package io.feedrank.avro.serde;

import io.feedrank.events.Alert;
import io.feedrank.events.DeadLetter;
import io.feedrank.events.Device;
import io.feedrank.events.DriftEvidence;
import io.feedrank.events.DriftKind;
import io.feedrank.events.DriftReport;
import io.feedrank.events.FeatureProfile;
import io.feedrank.events.InteractionEvent;
import io.feedrank.events.ItemMetadata;
import io.feedrank.events.ModelComparison;
import io.feedrank.events.ModelStage;
import io.feedrank.events.ModelVersion;
import io.feedrank.events.OnlineCtrReport;
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
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.avro.specific.SpecificRecord;

/**
 * Hand-built instances of every generated value class: {@code full} sets every optional field
 * (non-default values, non-empty maps and arrays, nested records); {@code minimal} leaves every
 * nullable field null and every map or array empty.
 */
final class Samples {
  static final Instant T0 = Instant.parse("2024-03-05T06:07:08.123Z");
  static final Instant T1 = Instant.parse("2024-03-05T07:08:09.456Z");
  static final Instant T2 = Instant.parse("1969-12-31T23:59:59.001Z"); // negative epoch millis

  static InteractionEvent interaction() {
    return InteractionEvent.newBuilder()
        .setInteractionId("6f1c1c4e-3c1b-4b7e-9f43-0d5a7b0c2e11")
        .setUserId(42L)
        .setItemId(9_000_000_001L)
        .setEventTime(T0)
        .setClick(true)
        .setLike(false)
        .setShare(true)
        .setDwellSeconds(12.5f)
        .setDevice(Device.TABLET)
        .setRequestId("req-7")
        .setPosition(3)
        .build();
  }

  static final Map<Class<? extends SpecificRecord>, SpecificRecord> FULL = new LinkedHashMap<>();
  static final Map<Class<? extends SpecificRecord>, SpecificRecord> MINIMAL = new LinkedHashMap<>();

  static {
    FULL.put(InteractionEvent.class, interaction());
    MINIMAL.put(
        InteractionEvent.class,
        InteractionEvent.newBuilder(interaction())
            .setRequestId(null)
            .setPosition(null)
            .setDevice(Device.MOBILE)
            .build());

    UserProfile user =
        UserProfile.newBuilder()
            .setUserId(-1L)
            .setCreatedAt(T2)
            .setCountry("Ísland ✓")
            .setPrimaryDevice(Device.DESKTOP)
            .build();
    FULL.put(UserProfile.class, user);
    MINIMAL.put(
        UserProfile.class,
        UserProfile.newBuilder().setUserId(Long.MAX_VALUE).setCreatedAt(T0).build());

    ItemMetadata item =
        ItemMetadata.newBuilder()
            .setItemId(77L)
            .setCategory("sports")
            .setCreatedAt(T1)
            .setContentLength(Integer.MAX_VALUE)
            .setCreatorId(Long.MIN_VALUE)
            .build();
    FULL.put(ItemMetadata.class, item);
    MINIMAL.put(ItemMetadata.class, ItemMetadata.newBuilder(item).setCreatorId(null).build());

    DeadLetter dead =
        DeadLetter.newBuilder()
            .setSourceTopic("interactions")
            .setSourcePartition(11)
            .setSourceOffset(1L << 40)
            .setSourceTimestamp(T0)
            .setErrorCode("NEGATIVE_ID")
            .setErrorMessage("user_id -3 < 0")
            .setRawKey(ByteBuffer.wrap(new byte[] {0, 1, 2, (byte) 0xff}))
            .setRawValue(ByteBuffer.wrap("raw".getBytes(StandardCharsets.UTF_8)))
            .setFailedAt(T1)
            .setApplication("features")
            .build();
    FULL.put(DeadLetter.class, dead);
    MINIMAL.put(
        DeadLetter.class,
        DeadLetter.newBuilder(dead)
            .setSourceTimestamp(null)
            .setRawKey(null)
            .setRawValue(null)
            .setApplication("")
            .build());

    FeatureProfile numeric =
        FeatureProfile.newBuilder()
            .setName("dwell")
            .setKind(DriftKind.NUMERIC)
            .setBinEdges(List.of(0.5, 1.5, 2.5))
            .setBinFractions(List.of(0.25, 0.25, 0.25, 0.25))
            .setCategories(List.of())
            .setCategoryFractions(List.of())
            .setMean(1.75)
            .setSketch(ByteBuffer.wrap(new byte[] {9, 8, 7}))
            .build();
    FeatureProfile categorical =
        FeatureProfile.newBuilder()
            .setName("device")
            .setKind(DriftKind.CATEGORICAL)
            .setBinEdges(List.of())
            .setBinFractions(List.of())
            .setCategories(List.of("MOBILE", "DESKTOP"))
            .setCategoryFractions(List.of(0.7, 0.3))
            .setMean(0.0)
            .setSketch(null)
            .build();
    FeatureProfile score =
        FeatureProfile.newBuilder(numeric).setName("score").setKind(DriftKind.PREDICTION).build();
    Map<String, String> artifacts = new LinkedHashMap<>();
    artifacts.put("user_tower", "s3://models/u.onnx");
    artifacts.put("item_tower", "s3://models/i.onnx");
    Map<String, Double> metrics = new LinkedHashMap<>();
    metrics.put("auc", 0.8125);
    metrics.put("logloss", 0.40625);
    ModelVersion model =
        ModelVersion.newBuilder()
            .setModelName("ranker")
            .setVersion("v12")
            .setStage(ModelStage.PRODUCTION)
            .setArchitecture("two_tower")
            .setCreatedAt(T0)
            .setUpdatedAt(T1)
            .setRunId("run-5")
            .setArtifactUri("s3://models/m.onnx")
            .setArtifactSha256("ab".repeat(32))
            .setArtifacts(artifacts)
            .setMetrics(metrics)
            .setTrainingFrom(T2)
            .setTrainingTo(T0)
            .setTrainingExamples(123_456L)
            .setFeatureSchemaVersion(1)
            .setReferenceProfile(
                ReferenceProfile.newBuilder()
                    .setN(1000L)
                    .setFeatures(List.of(numeric, categorical))
                    .setScore(score)
                    .build())
            .setParentVersion("v11")
            .setDecision("PROMOTED")
            .setDecisionReason("auc +0.01")
            .setComparison(
                ModelComparison.newBuilder()
                    .setAgainstVersion("v11")
                    .setMetric("auc")
                    .setCandidateValue(0.8125)
                    .setProductionValue(0.8)
                    .setDelta(0.0125)
                    .setHoldoutExamples(5000L)
                    .build())
            .build();
    FULL.put(ModelVersion.class, model);
    MINIMAL.put(
        ModelVersion.class,
        ModelVersion.newBuilder()
            .setModelName("ranker")
            .setVersion("v1")
            .setStage(ModelStage.CANDIDATE)
            .setArchitecture("mlp")
            .setCreatedAt(T0)
            .setUpdatedAt(T0)
            .setArtifactUri("file:/m")
            .setArtifactSha256("")
            .setFeatureSchemaVersion(1)
            .build());

    TrainingExample example =
        TrainingExample.newBuilder()
            .setInteractionId("i-1")
            .setUserId(42L)
            .setItemId(77L)
            .setEventTime(T0)
            .setDevice(Device.MOBILE)
            .setRequestId("req-7")
            .setPosition(0)
            .setItemCategory("sports")
            .setHourOfDay(23)
            .setDayOfWeek(7)
            .setFeatureSchemaVersion(1)
            .setUserFeatures(List.of(1.0, -2.5, Double.MAX_VALUE))
            .setItemFeatures(List.of(0.125))
            .setCrossFeatures(List.of(Double.NaN, Double.NEGATIVE_INFINITY))
            .setClick(false)
            .setLike(true)
            .setShare(false)
            .setDwellSeconds(3600f)
            .build();
    FULL.put(TrainingExample.class, example);
    MINIMAL.put(
        TrainingExample.class,
        TrainingExample.newBuilder(example)
            .setRequestId(null)
            .setPosition(null)
            .setUserFeatures(List.of())
            .setItemFeatures(List.of())
            .setCrossFeatures(List.of())
            .build());

    RankingLog ranking =
        RankingLog.newBuilder()
            .setRequestId("req-7")
            .setTimestamp(T1)
            .setUserId(42L)
            .setDevice(Device.DESKTOP)
            .setModelName("ranker")
            .setModelVersion("v12")
            .setVariant("fallback")
            .setItems(
                List.of(
                    RankedItem.newBuilder().setItemId(77L).setScore(0.9f).setRank(1).build(),
                    RankedItem.newBuilder().setItemId(78L).setScore(0.1f).setRank(2).build()))
            .setLatencyMs(3.25)
            .setFallback(true)
            .setFallbackReason("redis down")
            .setFeatureSchemaVersion(1)
            .setSampledFeatures(
                List.of(
                    SampledFeatureVector.newBuilder()
                        .setItemId(77L)
                        .setValues(List.of(1.5f, -0.25f))
                        .build()))
            .setSynthetic(true)
            .setAssignedVariant("staging")
            .setLeasedModelName("ranker")
            .setLeasedModelVersion("v13")
            .build();
    FULL.put(RankingLog.class, ranking);
    MINIMAL.put(
        RankingLog.class,
        RankingLog.newBuilder(ranking)
            .setItems(List.of())
            .setFallback(false)
            .setFallbackReason(null)
            .setSampledFeatures(List.of())
            .setSynthetic(false)
            .setAssignedVariant(null)
            .setLeasedModelName(null)
            .setLeasedModelVersion(null)
            .build());

    DriftReport drift =
        DriftReport.newBuilder()
            .setWindowStart(T0)
            .setWindowEnd(T1)
            .setModelName("ranker")
            .setReferenceVersion("v12")
            .setFeature("dwell")
            .setKind(DriftKind.NUMERIC)
            .setN(500L)
            .setReferenceN(1000L)
            .setPsi(0.3)
            .setKsStatistic(0.2)
            .setKsPValue(0.001)
            .setChi2Statistic(4.5)
            .setChi2PValue(0.03)
            .setMean(2.0)
            .setReferenceMean(1.75)
            .setMeanRelativeChange(0.142857)
            .setDrifted(true)
            .setPsiThreshold(0.2)
            .setKsThreshold(0.1)
            .setPValueThreshold(0.01)
            .setLateEvents(3L)
            .build();
    FULL.put(DriftReport.class, drift);
    MINIMAL.put(
        DriftReport.class,
        DriftReport.newBuilder(drift)
            .setKind(DriftKind.PREDICTION)
            .setKsStatistic(null)
            .setKsPValue(null)
            .setChi2Statistic(null)
            .setChi2PValue(null)
            .setMean(null)
            .setReferenceMean(null)
            .setMeanRelativeChange(null)
            .setDrifted(false)
            .setLateEvents(0L)
            .build());

    OnlineCtrReport ctr =
        OnlineCtrReport.newBuilder()
            .setWindowStart(T0)
            .setWindowEnd(T1)
            .setModelName("ranker")
            .setModelVersion("v12")
            .setVariant("staging")
            .setImpressions(4096L)
            .setClicks(512L)
            .setCtr(0.125)
            .setAttributionWindowMs(1_800_000L)
            .setFallbackImpressions(64L)
            .setFallbackClicks(3L)
            .build();
    FULL.put(OnlineCtrReport.class, ctr);
    // no optional fields: the smallest values instead (negative epoch, nothing attributed)
    MINIMAL.put(
        OnlineCtrReport.class,
        OnlineCtrReport.newBuilder(ctr)
            .setWindowStart(T2)
            .setVariant("")
            .setImpressions(0L)
            .setClicks(0L)
            .setCtr(0.0)
            .setFallbackImpressions(0L)
            .setFallbackClicks(0L)
            .build());

    Map<String, String> details = new LinkedHashMap<>();
    details.put("feature", "dwell");
    details.put("psi", "0.3");
    Alert alert =
        Alert.newBuilder()
            .setAlertId("a-1")
            .setTime(T1)
            .setSeverity(Severity.CRITICAL)
            .setKind("FEATURE_DRIFT")
            .setMessage("dwell drifted")
            .setDetails(details)
            .build();
    FULL.put(Alert.class, alert);
    MINIMAL.put(
        Alert.class,
        Alert.newBuilder(alert).setSeverity(Severity.INFO).setDetails(Map.of()).build());

    RetrainCommand retrain =
        RetrainCommand.newBuilder()
            .setCommandId("c-1")
            .setModelName("ranker")
            .setIssuedAt(T1)
            .setReason(RetrainReason.FEATURE_DRIFT)
            .setEvidence(
                List.of(
                    DriftEvidence.newBuilder()
                        .setFeature("dwell")
                        .setKind(DriftKind.NUMERIC)
                        .setWindowStart(T0)
                        .setWindowEnd(T1)
                        .setN(500L)
                        .setPsi(0.3)
                        .setKsStatistic(0.2)
                        .setKsPValue(0.001)
                        .setChi2PValue(null)
                        .setConsecutiveWindows(2)
                        .build()))
            .setReferenceVersion("v12")
            .setDataFrom(T2)
            .setDataTo(T1)
            .setMessage("drift episode 4")
            .build();
    FULL.put(RetrainCommand.class, retrain);
    MINIMAL.put(
        RetrainCommand.class,
        RetrainCommand.newBuilder()
            .setCommandId("c-2")
            .setModelName("ranker")
            .setIssuedAt(T0)
            .setReason(RetrainReason.MANUAL)
            .build());
  }

  private Samples() {}
}
