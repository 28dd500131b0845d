package io.feedrank.drift.job;

import static io.feedrank.drift.job.DriftEvaluatorTest.harness;
import static io.feedrank.drift.job.DriftEvaluatorTest.numericWindow;
import static io.feedrank.drift.job.DriftEvaluatorTest.warnings;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.feedrank.drift.io.RegistryRecords;
import io.feedrank.events.ModelStage;
import io.feedrank.events.ModelVersion;
import io.feedrank.events.ReferenceProfile;
import io.feedrank.models.profile.ProfileBuilder;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.apache.avro.Schema;
import org.apache.avro.file.DataFileStream;
import org.apache.avro.file.DataFileWriter;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericDatumReader;
import org.apache.avro.generic.GenericDatumWriter;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.io.EncoderFactory;
import org.apache.avro.message.BinaryMessageEncoder;
import org.apache.avro.specific.SpecificDatumWriter;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.apache.flink.streaming.api.operators.co.CoBroadcastWithKeyedOperator;
import org.apache.flink.streaming.util.KeyedBroadcastOperatorTestHarness;
import org.junit.jupiter.api.Test;

/**
 * Reference profiles in the evaluator's broadcast state across a restore into a build whose {@code
 * ReferenceProfile} schema is another: the state's bytes carry the schema they were written with
 * and are resolved against the build's; those of earlier builds, single-object encoded, still judge
 * when the schema is the same, and otherwise wait for the next registry record instead of failing
 * the task at every restart.
 */
class RestoredProfilesTest {
  /**
   * {@code ReferenceProfile}'s schema as a later build might have it: a field {@code unit} in
   * {@code FeatureProfile}, with a default, and a symbol {@code TEXT} in {@code DriftKind} (its
   * symbols are in the single-object fingerprint too).
   */
  static final Schema EVOLVED = evolved();

  static Schema evolved() {
    String json = ReferenceProfile.getClassSchema().toString();
    String mean = "{\"name\":\"mean\",";
    String symbols = "\"UNKNOWN\"]";
    assertThat(json).containsOnlyOnce(mean).containsOnlyOnce(symbols);
    return new Schema.Parser()
        .parse(
            json.replace(mean, "{\"name\":\"unit\",\"type\":\"string\",\"default\":\"\"}," + mean)
                .replace(symbols, "\"UNKNOWN\",\"TEXT\"]"));
  }

  /** The profile of x = 1..100: decile edges 10, 20, ..., 90, fractions 0.1. */
  static ReferenceProfile profile() {
    ProfileBuilder b = new ProfileBuilder();
    int x = b.numeric("x");
    for (int v = 1; v <= 100; v++) {
      b.add(x, v);
    }
    return b.build();
  }

  /** {@link #profile()} in the {@link #EVOLVED} schema, its features' unit "ms". */
  @SuppressWarnings("unchecked")
  static GenericRecord evolvedProfile() throws Exception {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    BinaryEncoder e = EncoderFactory.get().binaryEncoder(bytes, null);
    new SpecificDatumWriter<>(ReferenceProfile.class).write(profile(), e);
    e.flush();
    GenericRecord g =
        new GenericDatumReader<GenericRecord>(ReferenceProfile.getClassSchema(), EVOLVED)
            .read(null, DecoderFactory.get().binaryDecoder(bytes.toByteArray(), null));
    ((List<GenericRecord>) g.get("features")).forEach(f -> f.put("unit", "ms"));
    return g;
  }

  /** A production record of model m with {@code profile} as the job's state holds it. */
  static ServingReference production(String version, long sequence, byte[] profile) {
    ServingReference r = new ServingReference();
    r.modelName = "m";
    r.version = version;
    r.stage = "PRODUCTION";
    r.updatedAt = sequence;
    r.sequence = sequence;
    r.profile = profile;
    return r;
  }

  /** {@code v}'s model-registry record as the job reads it ({@link RegistryRecords#of}). */
  static ServingReference read(String version, long sequence, ReferenceProfile profile)
      throws Exception {
    ServingReference r =
        RegistryRecords.of(
            ModelVersion.newBuilder()
                .setModelName("m")
                .setVersion(version)
                .setStage(ModelStage.PRODUCTION)
                .setArchitecture("mlp")
                .setCreatedAt(Instant.EPOCH)
                .setUpdatedAt(Instant.ofEpochMilli(sequence))
                .setArtifactUri("file:/unused")
                .setArtifactSha256("00")
                .setFeatureSchemaVersion(1)
                .setReferenceProfile(profile)
                .build());
    r.sequence = sequence;
    return r;
  }

  /** The evaluator's state after {@code reference}, as a checkpoint. */
  static OperatorSubtaskState stateWith(ServingReference reference) throws Exception {
    try (var h = harness()) {
      h.processBroadcastElement(reference, 0);
      return h.snapshot(1, 1);
    }
  }

  /** {@code f} restored from {@code state}, open. */
  static KeyedBroadcastOperatorTestHarness<String, WindowSummary, ServingReference, Report>
      restored(DriftEvaluator f, OperatorSubtaskState state) throws Exception {
    var h =
        new KeyedBroadcastOperatorTestHarness<>(
            new CoBroadcastWithKeyedOperator<>(f, List.of(DriftEvaluator.REGISTRY)),
            (WindowSummary w) -> w.feature,
            Types.STRING,
            1,
            1,
            0);
    h.initializeState(state);
    h.open();
    return h;
  }

  /**
   * Window x = 51..150 against the profile of x = 1..100 (see {@code
   * DriftEvaluatorTest.aShiftedNumericWindowAgainstDecileBins}): five empty bins, four of 0.1, the
   * last 0.6.
   */
  static void assertShiftedWindowReport(Report r) {
    double psi = 5 * (1e-4 - 0.1) * Math.log(1e-4 / 0.1) + 0.5 * Math.log(6);
    assertThat(r.referenceVersion).isEqualTo("v1");
    assertThat(r.referenceN).isEqualTo(100);
    assertThat(r.psi).isCloseTo(psi, within(1e-9));
    assertThat(r.ksStatistic).isCloseTo(0.5, within(1e-12));
    assertThat(r.referenceMean).isEqualTo(50.5);
  }

  /** The job's state holds a standard Avro container file: it carries its writer's schema. */
  @Test
  void theRegistryRecordsProfileCarriesItsSchema() throws Exception {
    assertHoldsTheProfileWithThisSchema(read("v1", 1, profile()).profile);
  }

  /** {@code bytes} are an Avro container file of this build's schema, holding {@link #profile}. */
  static void assertHoldsTheProfileWithThisSchema(byte[] bytes) throws IOException {
    try (DataFileStream<GenericRecord> in =
        new DataFileStream<>(new ByteArrayInputStream(bytes), new GenericDatumReader<>())) {
      assertThat(in.getSchema()).isEqualTo(ReferenceProfile.getClassSchema());
      assertThat(in.next().get("n")).isEqualTo(100L);
      assertThat(in.hasNext()).isFalse();
    }
  }

  /** Restored state whose serving reference holds {@code profile} judges the shifted window. */
  static void assertRestoredStateJudges(byte[] profile) throws Exception {
    OperatorSubtaskState state = stateWith(production("v1", 1, profile));
    try (var h = restored(new DriftEvaluator("m", DriftThresholdsConfig.defaults()), state)) {
      h.processElement(numericWindow(51, 150), 1);
      assertThat(h.extractOutputValues())
          .singleElement()
          .satisfies(RestoredProfilesTest::assertShiftedWindowReport);
    }
  }

  static byte[] bytesOf(ByteBuffer b) {
    byte[] bytes = new byte[b.remaining()];
    b.get(bytes);
    return bytes;
  }

  /**
   * State written by a build with another schema (here {@link #EVOLVED}: another field, another
   * enum symbol) is resolved into this build's, restored and judged.
   */
  @Test
  void aProfileOfAnotherSchemaInRestoredStateJudgesTheWindows() throws Exception {
    ByteArrayOutputStream file = new ByteArrayOutputStream();
    try (DataFileWriter<GenericRecord> w =
        new DataFileWriter<>(new GenericDatumWriter<>(EVOLVED))) {
      w.create(EVOLVED, file);
      w.append(evolvedProfile());
    }
    assertRestoredStateJudges(file.toByteArray());
  }

  /** State of an earlier build, with this build's schema, single-object encoded, still judges. */
  @Test
  void aSingleObjectProfileOfThisSchemaInRestoredStateJudgesTheWindows() throws Exception {
    assertRestoredStateJudges(bytesOf(profile().toByteBuffer()));
  }

  /**
   * A restore rewrites the single-object profiles of an earlier build's state with their schema:
   * the next checkpoint restores into a build with another schema too.
   */
  @Test
  void aRestoreRewritesSingleObjectProfilesWithTheirSchema() throws Exception {
    OperatorSubtaskState state = stateWith(production("v1", 1, bytesOf(profile().toByteBuffer())));
    try (var h = restored(new DriftEvaluator("m", DriftThresholdsConfig.defaults()), state)) {
      assertHoldsTheProfileWithThisSchema(
          h.getOperator()
              .getOperatorStateBackend()
              .getBroadcastState(DriftEvaluator.REGISTRY)
              .get("v1")
              .profile);
    }
  }

  /**
   * A profile of a build before the scores by hour of day ({@code ReferenceProfile} without {@code
   * score_by_hour}), as that build's state holds it, decodes with none: its score windows are
   * judged against the whole holdout's scores, as that build judged them, and the report names no
   * hour.
   */
  @Test
  void aProfileFromBeforeTheScoresByHourJudgesScoreWindowsAgainstTheWholeHoldout()
      throws Exception {
    Schema now = ReferenceProfile.getClassSchema();
    Schema before =
        Schema.createRecord(
            now.getName(),
            now.getDoc(),
            now.getNamespace(),
            false,
            now.getFields().stream()
                .filter(f -> !f.name().equals("score_by_hour"))
                .map(f -> new Schema.Field(f, f.schema()))
                .toList());
    Random r = new Random(53);
    ReferenceProfile day = HourlyScoreReferenceTest.holdoutDay(r, -1, 0);
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    BinaryEncoder e = EncoderFactory.get().binaryEncoder(bytes, null);
    new SpecificDatumWriter<>(ReferenceProfile.class).write(day, e);
    e.flush();
    GenericRecord old =
        new GenericDatumReader<GenericRecord>(now, before)
            .read(null, DecoderFactory.get().binaryDecoder(bytes.toByteArray(), null));
    ByteArrayOutputStream file = new ByteArrayOutputStream();
    try (DataFileWriter<GenericRecord> w = new DataFileWriter<>(new GenericDatumWriter<>(before))) {
      w.create(before, file);
      w.append(old);
    }
    OperatorSubtaskState state = stateWith(production("v1", 1, file.toByteArray()));
    try (var h = restored(new DriftEvaluator("m", DriftThresholdsConfig.defaults()), state)) {
      h.processElement(HourlyScoreReferenceTest.window(r, 20, 0), 1);
      assertThat(h.extractOutputValues())
          .singleElement()
          .satisfies(
              x -> {
                assertThat(x.referenceHour).isNull();
                assertThat(x.referenceN).isEqualTo(day.getN());
                assertThat(x.referenceMean).isEqualTo(day.getScore().getMean());
              });
    }
  }

  /**
   * State of an earlier build, single-object encoded with another schema than this build's (its
   * fingerprint unknown here: an upgrade that changed the schema): the windows wait, counted, the
   * reference logged once, and the next registry record of the version judges them. It threw {@code
   * MissingSchemaException} out of the operator, the task failing at every restart.
   */
  @Test
  void aSingleObjectProfileOfAnotherSchemaWaitsForTheNextRegistryRecord() throws Exception {
    byte[] bytes =
        bytesOf(
            new BinaryMessageEncoder<GenericRecord>(GenericData.get(), EVOLVED)
                .encode(evolvedProfile()));
    OperatorSubtaskState state = stateWith(production("v1", 1, bytes));
    DriftEvaluator f = new DriftEvaluator("m", DriftThresholdsConfig.defaults());
    List<Report> judged = new ArrayList<>();
    List<String> warned =
        warnings(
            () -> {
              try (var h = restored(f, state)) {
                h.processElement(numericWindow(51, 150), 1);
                h.processElement(numericWindow(51, 150), 2);
                assertThat(h.extractOutputValues()).as("nothing to judge them against").isEmpty();
                // the version's record again (a rollback to it, say), as this build writes it
                h.processBroadcastElement(read("v1", 2, profile()), 3);
                judged.addAll(h.extractOutputValues());
              }
            });
    assertThat(f.undecodableReference()).isEqualTo(2);
    assertThat(warned)
        .singleElement()
        .asString()
        .contains("version v1 of model m cannot be decoded", "drift.windows.undecodable.reference");
    assertThat(judged).hasSize(2).allSatisfy(RestoredProfilesTest::assertShiftedWindowReport);
  }
}
