package io.feedrank.trainer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.feedrank.events.Device;
import io.feedrank.events.DriftKind;
import io.feedrank.events.HourScoreProfile;
import io.feedrank.events.ModelStage;
import io.feedrank.events.ModelVersion;
import io.feedrank.events.ReferenceProfile;
import io.feedrank.features.FeatureSchema;
import io.feedrank.models.profile.Bins;
import io.feedrank.trainer.data.Example;
import java.time.Instant;
import java.util.AbstractList;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/**
 * The reference profile's scores by UTC hour of day, which the drift job sets each score window
 * against (the score follows the daily cycle), for the best network's scores and for another
 * network's on the same holdout.
 */
class ProfilesTest {
  static final long HOUR = 3_600_000L;

  /**
   * {@code rows} holdout rows evenly over 30 hours from 05:00 UTC (so hours 5 to 10 twice), each
   * with the hour of its event time.
   */
  static List<Example> holdout(Random r, int rows) {
    List<Example> out = new ArrayList<>(rows);
    long start = 5 * HOUR;
    for (int i = 0; i < rows; i++) {
      long t = start + i * (30 * HOUR / rows);
      out.add(
          new Example(
              1 + r.nextInt(100),
              1 + r.nextInt(500),
              t,
              (int) (t / HOUR % 24),
              1,
              Device.MOBILE,
              "c" + r.nextInt(5),
              gaussians(r, FeatureSchema.USER.size()),
              gaussians(r, FeatureSchema.ITEM.size()),
              gaussians(r, FeatureSchema.CROSS.size()),
              false));
    }
    return out;
  }

  static double[] gaussians(Random r, int n) {
    double[] v = new double[n];
    for (int i = 0; i < n; i++) {
      v[i] = r.nextGaussian();
    }
    return v;
  }

  /** Scores that follow the hour (peak at 20:00) and vary by row. */
  static float[] scores(Random r, List<Example> holdout, double level) {
    float[] s = new float[holdout.size()];
    for (int i = 0; i < s.length; i++) {
      double h = holdout.get(i).hourOfDay();
      double logit = level + 0.3 * Math.cos(2 * Math.PI * (h - 20) / 24) + 0.5 * r.nextGaussian();
      s[i] = (float) (1 / (1 + Math.exp(-logit)));
    }
    return s;
  }

  /** Each hour's profile: its rows, their mean score and a sketch of them, as counted here. */
  static void assertHourlyScoresOf(ReferenceProfile p, List<Example> holdout, float[] scores) {
    TreeMap<Integer, double[]> byHour = new TreeMap<>(); // hour → {rows, sum}
    for (int i = 0; i < scores.length; i++) {
      double[] c = byHour.computeIfAbsent(holdout.get(i).hourOfDay(), h -> new double[2]);
      c[0]++;
      c[1] += scores[i];
    }
    assertThat(byHour).hasSize(24);
    assertThat(p.getScoreByHour())
        .extracting(HourScoreProfile::getHour)
        .containsExactlyElementsOf(byHour.keySet());
    for (HourScoreProfile h : p.getScoreByHour()) {
      double[] c = byHour.get(h.getHour());
      assertThat(h.getN()).as("rows of hour %d", h.getHour()).isEqualTo((long) c[0]);
      assertThat(h.getScore().getMean())
          .as("mean score of hour %d", h.getHour())
          .isCloseTo(c[1] / c[0], within(1e-12));
      assertThat(h.getScore().getKind()).isEqualTo(DriftKind.PREDICTION);
      assertThat(h.getScore().getBinFractions()).hasSize(h.getScore().getBinEdges().size() + 1);
      assertThat(Bins.sketch(h.getScore()).getN()).isEqualTo((long) c[0]);
    }
    // the hours' means differ by the daily cycle (peak 20:00, trough 08:00) as the scores do
    assertThat(meanOf(p, 20)).isGreaterThan(meanOf(p, 8) * 1.4);
  }

  static double meanOf(ReferenceProfile p, int hour) {
    return p.getScoreByHour().stream()
        .filter(h -> h.getHour() == hour)
        .findFirst()
        .orElseThrow()
        .getScore()
        .getMean();
  }

  @Test
  void theScoresAreProfiledByUtcHourOfDayOfTheirRows() {
    Random r = new Random(5);
    List<Example> holdout = holdout(r, 6_000);
    float[] best = scores(r, holdout, -2.2);
    ReferenceProfile p = Profiles.of(holdout, best);
    assertHourlyScoresOf(p, holdout, best);
    assertThat(p.getN()).isEqualTo(6_000);

    // another network's profile: the same features, its own scores, whole and by hour
    float[] other = scores(r, holdout, -1.5);
    ReferenceProfile q = Profiles.withScores(p, holdout, other);
    assertHourlyScoresOf(q, holdout, other);
    assertThat(q.getFeatures()).isEqualTo(p.getFeatures());
    assertThat(q.getScore().getMean()).isGreaterThan(p.getScore().getMean());
  }

  /**
   * The registry record of a model with the profile of a holdout of 10,000 rows an hour over a day
   * (every sketch, the hours' too, past the size from which a KLL sketch grows only with log n: 4.4
   * KB at 10,000 values, 5.0 KB at a million) stays under half the 1 MiB of the producer's default
   * {@code max.request.size}, which the trainer's registry records are sent within. The rows are
   * made as they are read, so that 240,000 of them do not have to be held.
   */
  @Test
  void aRegistryRecordWithTheScoresByHourStaysWellUnderTheProducersRequestSize() throws Exception {
    int rows = 240_000;
    List<Example> holdout =
        new AbstractList<>() {
          @Override
          public Example get(int i) {
            Random r = new Random(i);
            long t = i * (24 * HOUR / rows);
            return new Example(
                1 + r.nextInt(10_000),
                1 + r.nextInt(50_000),
                t,
                (int) (t / HOUR % 24),
                1,
                Device.values()[r.nextInt(4)],
                "c" + r.nextInt(50),
                gaussians(r, FeatureSchema.USER.size()),
                gaussians(r, FeatureSchema.ITEM.size()),
                gaussians(r, FeatureSchema.CROSS.size()),
                false);
          }

          @Override
          public int size() {
            return rows;
          }
        };
    ReferenceProfile p = Profiles.of(holdout, scores(new Random(9), holdout, -2.2));
    assertThat(p.getScoreByHour()).hasSize(24).allMatch(h -> h.getN() == rows / 24);
    ModelVersion v =
        ModelVersion.newBuilder()
            .setModelName("m")
            .setVersion("v1")
            .setStage(ModelStage.PRODUCTION)
            .setArchitecture("mlp")
            .setCreatedAt(Instant.EPOCH)
            .setUpdatedAt(Instant.EPOCH)
            .setArtifactUri("file:/unused")
            .setArtifactSha256("00")
            .setFeatureSchemaVersion(FeatureSchema.VERSION)
            .setReferenceProfile(p)
            .build();
    int bytes = v.toByteBuffer().remaining();
    ModelVersion withoutHours = ModelVersion.newBuilder(v).build();
    withoutHours.getReferenceProfile().setScoreByHour(List.of());
    int hours = bytes - withoutHours.toByteBuffer().remaining();
    System.out.printf(
        "registry record with the profile of %d rows: %d bytes, %d of them the scores by hour%n",
        rows, bytes, hours);
    assertThat(bytes).isLessThan(512 * 1024);
  }
}
