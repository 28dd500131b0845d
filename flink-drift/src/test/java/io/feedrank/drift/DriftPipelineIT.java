package io.feedrank.drift;

import static org.assertj.core.api.Assertions.assertThat;

import io.feedrank.avro.Topics;
import io.feedrank.events.Alert;
import io.feedrank.events.DriftReport;
import io.feedrank.events.InteractionEvent;
import io.feedrank.events.OnlineCtrReport;
import io.feedrank.events.RankedItem;
import io.feedrank.events.RankingLog;
import io.feedrank.events.RetrainCommand;
import io.feedrank.events.TrainingExample;
import io.feedrank.localstack.LocalStack;
import io.feedrank.localstack.LocalStackTest;
import io.feedrank.simulator.Scenario;
import io.feedrank.simulator.SimulatorConfig;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.UUID;
import java.util.stream.Collectors;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.kafka.common.serialization.LongSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The drift job on a Flink MiniCluster against the real local stack: examples on a real topic, the
 * reference profile of a PRODUCTION model on the real registry topic, reports and commands read
 * back from real topics (read_committed: the sinks are transactional).
 */
@LocalStackTest
class DriftPipelineIT {
  @RegisterExtension
  static final MiniClusterExtension FLINK =
      new MiniClusterExtension(
          new MiniClusterResourceConfiguration.Builder()
              .setConfiguration(LocalFlink.loopback())
              .setNumberTaskManagers(1)
              .setNumberSlotsPerTaskManager(2)
              .build());

  void run(DriftHarness h) throws Exception {
    StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
    DriftMain.build(env, DriftConfig.from(h.config()));
    env.execute("drift-it-" + h.id);
  }

  /** The reference from the first 30 minutes of traffic, the stream from the next 55. */
  @Test
  void aStationaryStreamRaisesNoRetrainCommandOverFiftyWindows(LocalStack stack) throws Exception {
    DriftHarness h = new DriftHarness(stack, "stationary");
    Instant start = DriftHarness.recentHour();
    List<TrainingExample> all =
        DriftHarness.examples(DriftHarness.world(1, start), start.plusSeconds(85 * 60));
    int reference = DriftHarness.firstAtOrAfter(all, start.plusSeconds(30 * 60));
    h.registerReference(all.subList(0, reference));
    h.publish(all.subList(reference, all.size()));
    run(h);
    List<DriftReport> reports = h.read("reports", DriftReport.class);
    Set<Long> windows =
        reports.stream().map(r -> r.getWindowStart().toEpochMilli()).collect(Collectors.toSet());
    assertThat(windows).hasSizeGreaterThanOrEqualTo(50);
    // every monitored feature is reported in every window, once
    Map<Long, List<String>> featuresByWindow =
        reports.stream()
            .collect(
                Collectors.groupingBy(
                    r -> r.getWindowStart().toEpochMilli(),
                    Collectors.mapping(DriftReport::getFeature, Collectors.toList())));
    assertThat(featuresByWindow)
        .allSatisfy(
            (window, features) ->
                assertThat(features)
                    .as("window " + Instant.ofEpochMilli(window))
                    .containsExactlyInAnyOrder("item_category", "device", "i_content_length"));
    assertThat(reports).hasSize(windows.size() * 3);
    assertThat(h.read("commands", RetrainCommand.class)).isEmpty();
    long drifted = reports.stream().filter(DriftReport::getDrifted).count();
    System.out.printf(
        "stationary: %d reports over %d windows, %d drifted%n",
        reports.size(), windows.size(), drifted);
  }

  @Test
  void aCategoryShiftRaisesOneRetrainCommandWithinThreeWindowsNamingTheCategory(LocalStack stack)
      throws Exception {
    DriftHarness h = new DriftHarness(stack, "shift");
    Instant start = DriftHarness.recentHour();
    Instant shift = start.plusSeconds(50 * 60); // 20 stationary windows after the reference
    SimulatorConfig shifted =
        DriftHarness.world(1, start).withScenario(Scenario.CATEGORY_SHIFT, shift, 0.6);
    List<TrainingExample> all = DriftHarness.examples(shifted, start.plusSeconds(70 * 60));
    int reference = DriftHarness.firstAtOrAfter(all, start.plusSeconds(30 * 60));
    h.registerReference(all.subList(0, reference));
    h.publish(all.subList(reference, all.size()));
    run(h);
    List<RetrainCommand> commands = h.read("commands", RetrainCommand.class);
    assertThat(commands).hasSize(1);
    RetrainCommand c = commands.get(0);
    assertThat(c.getEvidence()).extracting(e -> e.getFeature()).contains("item_category");
    // the shift starts with a window; persistence 2 → at the earliest the end of its second one
    long windowsAfter = (c.getIssuedAt().toEpochMilli() - shift.toEpochMilli()) / 60_000;
    System.out.printf(
        "shift at %s, command at %s (%d windows), evidence %s%n",
        shift, c.getIssuedAt(), windowsAfter, c.getEvidence());
    assertThat(windowsAfter).isBetween(2L, 3L);
    List<DriftReport> before =
        h.read("reports", DriftReport.class).stream()
            .filter(r -> r.getWindowEnd().isBefore(shift.plusMillis(1)))
            .filter(DriftReport::getDrifted)
            .toList();
    assertThat(before).as("no drift before the shift").isEmpty();
  }

  /**
   * Responses of two versions (production and a staging split, a few fallbacks: the model failing,
   * Redis away) on {@code ranking-logs}, impressions naming them on {@code interactions} — some
   * after the attribution window, one exactly at its end, some before their response, some naming a
   * request nobody served or another model's, organic ones without a request — and the job's {@code
   * online-ctr} records against a count of the same events made here. A fallback ranking counts for
   * the version and arm the request was leased and assigned (intention to treat): a staging model's
   * failures count against staging, as its fallback impressions; a log of a ranker before the
   * assignment was logged counts for what served it.
   */
  @Test
  void onlineCtrPerVersionAndVariantEqualsADirectCountOfTheTopics(LocalStack stack)
      throws Exception {
    DriftHarness h = new DriftHarness(stack, "ctr");
    long attribution = 2 * MINUTE;
    long start = DriftHarness.recentHour().toEpochMilli();
    Random r = new Random(17);
    List<RankingLog> served = new ArrayList<>();
    List<InteractionEvent> impressions = new ArrayList<>();
    for (int i = 0; i < 2_400; i++) {
      long t = start + i * 250L; // 10 event-minutes of responses
      double u = r.nextDouble();
      String variant = u < 0.25 ? "staging" : "production";
      boolean otherModel = r.nextInt(50) == 0;
      boolean synthetic = r.nextInt(40) == 0; // a load test's: not counted, impressions or not
      double f = r.nextDouble();
      String fallbackReason = f < 0.06 ? "model_error" : f < 0.09 ? "redis_unavailable" : null;
      RankingLog log =
          ranked(
              "req-" + i,
              t,
              r.nextInt(500),
              List.of(new RankedItem(1L, 0.5f, 1)),
              otherModel ? "another-model" : h.model,
              variant.equals("staging") ? "v2" : "v1",
              variant,
              fallbackReason);
      log.setSynthetic(synthetic);
      if (r.nextInt(30) == 0) {
        // a ranker before assigned_variant: counted for what served it, popularity not at all
        log.setAssignedVariant(null);
        log.setLeasedModelName(null);
        log.setLeasedModelVersion(null);
      }
      served.add(log);
      double ctr = log.getFallback() ? 0.05 : variant.equals("staging") ? 0.2 : 0.1;
      for (int k = 0; k < 4; k++) {
        // mostly within the attribution window; some after it, a few (clock skew) before
        long lag = (long) ((r.nextDouble() * 3.2 - 0.2) * MINUTE);
        impressions.add(impression(r, log.getUserId(), "req-" + i, t + lag, r.nextDouble() < ctr));
      }
    }
    // the bounds of the attribution window: its end is in, a millisecond later is out
    impressions.add(impression(r, 1, "req-10", start + 10 * 250L + attribution, true));
    impressions.add(impression(r, 1, "req-11", start + 11 * 250L + attribution + 1, true));
    impressions.add(impression(r, 2, "nobody-served-this", start + 60_000, true));
    for (int i = 0; i < 500; i++) {
      impressions.add(impression(r, 3, null, start + r.nextInt(10 * (int) MINUTE), true));
    }
    impressions.sort(Comparator.comparing(InteractionEvent::getEventTime));

    // the direct count: an impression belongs to the response it names if that response was
    // leased this model (or, logged before leases were, served by it) and is not synthetic and the
    // impression is no earlier and at most the attribution window later; it is counted in the
    // window of its own time under the leased version and the assigned arm, and as a fallback
    // impression too if a fallback ranked it
    Map<String, RankingLog> byRequest = new HashMap<>();
    served.forEach(l -> byRequest.put(l.getRequestId(), l));
    Map<String, long[]> expected = new TreeMap<>();
    long stagingModelErrors = 0;
    for (InteractionEvent e : impressions) {
      RankingLog l = e.getRequestId() == null ? null : byRequest.get(e.getRequestId());
      if (l == null || l.getSynthetic()) {
        continue;
      }
      boolean leased = l.getAssignedVariant() != null;
      String model = leased ? l.getLeasedModelName() : l.getModelName();
      long lag = e.getEventTime().toEpochMilli() - l.getTimestamp().toEpochMilli();
      if (!model.equals(h.model) || lag < 0 || lag > attribution) {
        continue;
      }
      String version = leased ? l.getLeasedModelVersion() : l.getModelVersion();
      String variant = leased ? l.getAssignedVariant() : l.getVariant();
      long window = e.getEventTime().toEpochMilli() / CTR_WINDOW * CTR_WINDOW;
      long[] c = expected.computeIfAbsent(version + "|" + variant + "|" + window, x -> new long[4]);
      int click = e.getClick() ? 1 : 0;
      c[0]++;
      c[1] += click;
      if (l.getFallback()) {
        c[2]++;
        c[3] += click;
      }
      if ("model_error".equals(l.getFallbackReason()) && "staging".equals(variant)) {
        stagingModelErrors++;
      }
    }

    h.publishLogs(served);
    h.publish(
        "interactions",
        new LongSerializer(),
        impressions,
        InteractionEvent::getUserId,
        e -> e.getEventTime().toEpochMilli());
    Map<String, String> config = h.config();
    config.put("attribution.window.ms", Long.toString(attribution));
    // CTR windows of their own length, twice the drift windows' (window.ms, 1 min)
    config.put("ctr.window.ms", Long.toString(CTR_WINDOW));
    StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
    DriftMain.build(env, DriftConfig.from(config));
    env.execute("drift-it-" + h.id);

    Map<String, long[]> actual = new TreeMap<>();
    for (OnlineCtrReport w : h.read("ctr", OnlineCtrReport.class)) {
      assertThat(w.getModelName()).isEqualTo(h.model);
      assertThat(w.getAttributionWindowMs()).isEqualTo(attribution);
      assertThat(w.getWindowEnd().toEpochMilli() - w.getWindowStart().toEpochMilli())
          .isEqualTo(CTR_WINDOW);
      assertThat(w.getCtr()).isEqualTo((double) w.getClicks() / w.getImpressions());
      long[] previous =
          actual.put(
              w.getModelVersion() + "|" + w.getVariant() + "|" + w.getWindowStart().toEpochMilli(),
              new long[] {
                w.getImpressions(), w.getClicks(), w.getFallbackImpressions(), w.getFallbackClicks()
              });
      assertThat(previous).as("one record per version, variant and window").isNull();
    }
    assertThat(actual.keySet()).isEqualTo(expected.keySet());
    expected.forEach((k, c) -> assertThat(actual.get(k)).as(k).containsExactly(c));
    Map<String, long[]> perVariant = new TreeMap<>();
    actual.forEach(
        (k, c) -> {
          long[] t =
              perVariant.computeIfAbsent(k.substring(0, k.lastIndexOf('|')), x -> new long[4]);
          for (int i = 0; i < 4; i++) {
            t[i] += c[i];
          }
        });
    assertThat(perVariant.keySet()).containsExactly("v1|production", "v2|staging");
    // the staging model's failures count against staging (its impressions under model_error are
    // some of staging's fallback impressions: the rest are of Redis fallbacks)
    assertThat(stagingModelErrors).isPositive();
    assertThat(perVariant.get("v2|staging")[2]).isGreaterThanOrEqualTo(stagingModelErrors);
    perVariant.forEach(
        (k, c) ->
            System.out.printf(
                "online ctr %s: %d / %d = %.4f, of them fallback rankings' %d / %d%n",
                k, c[1], c[0], (double) c[1] / c[0], c[3], c[2]));
  }

  /**
   * Scores on {@code ranking-logs}, 100 per response, each response's around its user's own level:
   * four windows of 4 responses (400 scores, over the job's {@code min.sample} of 300, but a sample
   * of 4 users), then three of 350 responses whose scores are all shifted up. Each window's report
   * counts the scores and the responses of this model's non-fallback responses, as counted here;
   * the small windows raise no command and no alert though their verdict is "drifted" (they hold
   * four users, not the population), and the shift raises one {@code PREDICTION_DRIFT} at the end
   * of its second window. A load test's responses, shifted as much over two of the small windows
   * but marked synthetic, are left out.
   */
  @Test
  void scoreWindowsCountTheirResponsesAsTheSampleAndAFewUsersRaiseNoCommand(LocalStack stack)
      throws Exception {
    DriftHarness h = new DriftHarness(stack, "scores");
    Instant start = DriftHarness.recentHour();
    Random r = new Random(23);
    Random lr = new Random(29); // the load test's own draws, so r's are as before
    List<TrainingExample> reference =
        DriftHarness.examples(DriftHarness.world(1, start), start.plusSeconds(3 * 60));
    float[] referenceScores = new float[reference.size()];
    for (int i = 0; i < referenceScores.length; i++) {
      referenceScores[i] = (float) sigmoid(userLevel(r) + 0.3 * r.nextGaussian());
    }
    h.registerReference(reference, referenceScores);

    long t0 = start.plusSeconds(3_600).toEpochMilli();
    int small = 4;
    int large = 3;
    List<RankingLog> served = new ArrayList<>();
    for (int w = 0; w < small + large; w++) {
      boolean shifted = w >= small;
      int responses = shifted ? 350 : 4;
      for (int k = 0; k < responses; k++) {
        long t = t0 + w * MINUTE + (k * MINUTE) / responses;
        double level = userLevel(r) + (shifted ? 1.5 : 0);
        List<RankedItem> items = new ArrayList<>();
        for (int j = 0; j < 100; j++) {
          items.add(
              new RankedItem((long) j, (float) sigmoid(level + 0.3 * r.nextGaussian()), j + 1));
        }
        served.add(response("req-" + w + "-" + k, t, items, null, h.model));
        if (shifted && k % 10 == 0) { // neither a fallback nor another model's scores count
          served.add(response("fb-" + w + "-" + k, t, items, "redis_unavailable", h.model));
          served.add(response("other-" + w + "-" + k, t, items, null, "another-model"));
        }
      }
      if (w == 1 || w == 2) {
        // a load test in two windows in a row: as many responses as a shifted window, their
        // scores shifted as much, but marked synthetic, so they neither count nor raise a command
        for (int k = 0; k < 350; k++) {
          List<RankedItem> items = new ArrayList<>();
          for (int j = 0; j < 100; j++) {
            items.add(
                new RankedItem(
                    (long) j,
                    (float) sigmoid(userLevel(lr) + 1.5 + 0.3 * lr.nextGaussian()),
                    j + 1));
          }
          RankingLog load =
              response(
                  "load-" + w + "-" + k,
                  t0 + w * MINUTE + (k * MINUTE) / 350,
                  items,
                  null,
                  h.model);
          load.setSynthetic(true);
          served.add(load);
          // the A/B share's staging model, scoring as much higher: not the production model whose
          // reference the window is set against, so neither counted nor a cause of a command
          RankingLog staging =
              response(
                  "staging-" + w + "-" + k,
                  t0 + w * MINUTE + (k * MINUTE) / 350,
                  items,
                  null,
                  h.model);
          staging.setVariant("staging");
          staging.setModelVersion("v2");
          staging.setAssignedVariant("staging");
          staging.setLeasedModelVersion("v2");
          served.add(staging);
        }
      }
    }
    Map<Long, long[]> expected = new TreeMap<>(); // window start → scores, responses
    for (RankingLog l : served) {
      if (l.getFallback()
          || l.getSynthetic()
          || !l.getModelName().equals(h.model)
          || !l.getVariant().equals("production")) {
        continue;
      }
      long window = l.getTimestamp().toEpochMilli() / MINUTE * MINUTE;
      long[] c = expected.computeIfAbsent(window, x -> new long[2]);
      c[0] += l.getItems().size();
      c[1]++;
    }
    h.publishLogs(served);
    run(h);

    Map<Long, DriftReport> reports = new TreeMap<>();
    for (DriftReport d : h.read("reports", DriftReport.class)) {
      assertThat(d.getFeature()).isEqualTo("score");
      assertThat(d.getReferenceN()).isEqualTo(reference.size());
      assertThat(reports.put(d.getWindowStart().toEpochMilli(), d)).isNull();
    }
    assertThat(reports.keySet()).isEqualTo(expected.keySet());
    expected.forEach(
        (w, c) -> {
          assertThat(reports.get(w).getN()).as("scores in %d", w).isEqualTo(c[0]);
          assertThat(reports.get(w).getSampleSize()).as("responses in %d", w).isEqualTo(c[1]);
        });
    List<DriftReport> few = reports.values().stream().limit(small).toList();
    System.out.printf(
        "score windows of 4 responses: drifted %s, PSI %s%n",
        few.stream().map(DriftReport::getDrifted).toList(),
        few.stream().map(d -> String.format("%.2f", d.getPsi())).toList());
    // what the test is about: these windows are over min.sample in scores and judged drifted
    assertThat(few).allSatisfy(d -> assertThat(d.getN()).isGreaterThanOrEqualTo(300));
    assertThat(few.stream().filter(DriftReport::getDrifted).count()).isGreaterThanOrEqualTo(2);

    long secondShifted = t0 + (small + 1) * MINUTE;
    List<RetrainCommand> commands = h.read("commands", RetrainCommand.class);
    assertThat(commands)
        .singleElement()
        .satisfies(
            c -> {
              assertThat(c.getReason().name()).isEqualTo("PREDICTION_DRIFT");
              assertThat(c.getIssuedAt().toEpochMilli()).isEqualTo(secondShifted + MINUTE);
              assertThat(c.getEvidence())
                  .singleElement()
                  .satisfies(
                      e -> {
                        assertThat(e.getFeature()).isEqualTo("score");
                        assertThat(e.getWindowStart().toEpochMilli()).isEqualTo(secondShifted);
                        assertThat(e.getSampleSize()).isEqualTo(expected.get(secondShifted)[1]);
                      });
            });
    assertThat(h.read("alerts", Alert.class))
        .singleElement()
        .satisfies(a -> assertThat(a.getKind()).isEqualTo("PREDICTION_DRIFT"));
  }

  /**
   * One partition per input, as {@code ./feedrank up} makes them, and in each, a third of the way
   * in, records stamped far ahead of the clock among the present traffic: an example and a response
   * a day ahead, impressions a day ahead, in the year 3000 and at {@code Long.MAX_VALUE} ms (the
   * streams app dead-letters those; this job reads {@code interactions} raw). Each held its
   * partition's watermark that far ahead, and with no other partition to hold it back every later
   * value, response and impression was late. They are skipped: every window holds all the examples
   * of its minute, as counted here, none is late, and the online CTR counts every impression of
   * every response as a direct count of the published records does, the ones stamped ahead left
   * out.
   */
  @Test
  void recordsStampedFarAheadOfTheClockMakeNoLaterValueLate(LocalStack stack) throws Exception {
    DriftHarness h = new DriftHarness(stack, "ahead");
    stack.createTopics(
        List.of(
            DriftHarness.spec(Topics.TRAINING_EXAMPLES)
                .renamed(h.topic("examples1"))
                .withPartitions(1),
            DriftHarness.spec(Topics.RANKING_LOGS).renamed(h.topic("logs1")).withPartitions(1),
            DriftHarness.spec(Topics.INTERACTIONS)
                .renamed(h.topic("interactions1"))
                .withPartitions(1)));
    long dayAhead = System.currentTimeMillis() + 86_400_000L;
    long year3000 = Instant.parse("3000-01-01T00:00:00Z").toEpochMilli();
    Instant start = DriftHarness.recentHour();
    List<TrainingExample> all =
        DriftHarness.examples(DriftHarness.world(1, start), start.plusSeconds(20 * 60));
    int reference = DriftHarness.firstAtOrAfter(all, start.plusSeconds(5 * 60));
    h.registerReference(all.subList(0, reference));
    List<TrainingExample> examples = new ArrayList<>(all.subList(reference, all.size()));
    int third = examples.size() / 3;
    examples.add(
        third,
        TrainingExample.newBuilder(examples.get(third))
            .setEventTime(Instant.ofEpochMilli(dayAhead))
            .build());

    long attribution = 2 * MINUTE;
    long t0 = start.plusSeconds(5 * 60).toEpochMilli();
    List<RankingLog> served = new ArrayList<>();
    List<InteractionEvent> impressions = new ArrayList<>();
    Random r = new Random(31);
    for (int i = 0; i < 1_200; i++) {
      long t = t0 + i * 500L; // 10 event-minutes of responses
      served.add(response("req-" + i, t, List.of(new RankedItem(1L, 0.5f, 1)), null, h.model));
      impressions.add(impression(r, 1, "req-" + i, t + 1_000, i % 7 == 0));
      impressions.add(impression(r, 2, "req-" + i, t + 20_000, i % 5 == 0));
      if (i == 400) {
        served.add(
            response("ahead", dayAhead, List.of(new RankedItem(1L, 0.5f, 1)), null, h.model));
        impressions.add(impression(r, 1, "ahead", dayAhead + 1_000, true));
        impressions.add(impression(r, 1, "req-" + i, year3000, true));
        impressions.add(impression(r, 1, "req-" + i, Long.MAX_VALUE, true));
      }
    }
    // the impressions in order of their time, as they would come, but for those stamped ahead
    List<InteractionEvent> present =
        new ArrayList<>(
            impressions.stream().filter(e -> e.getEventTime().toEpochMilli() < dayAhead).toList());
    present.sort(Comparator.comparing(InteractionEvent::getEventTime));
    List<InteractionEvent> ahead =
        impressions.stream().filter(e -> e.getEventTime().toEpochMilli() >= dayAhead).toList();
    present.addAll(present.size() / 3, ahead);
    impressions = present;

    // the direct counts, of the records the job should take: those no more than its bound
    // (out.of.orderness.ms, 5 s) ahead of the clock
    long bound = System.currentTimeMillis() + 5_000;
    Map<Long, Long> perMinute = new TreeMap<>();
    for (TrainingExample e : examples) {
      long t = e.getEventTime().toEpochMilli();
      if (t <= bound) {
        perMinute.merge(t / MINUTE * MINUTE, 1L, Long::sum);
      }
    }
    Map<String, RankingLog> byRequest = new HashMap<>();
    served.stream()
        .filter(l -> l.getTimestamp().toEpochMilli() <= bound)
        .forEach(l -> byRequest.put(l.getRequestId(), l));
    Map<Long, long[]> expectedCtr = new TreeMap<>();
    for (InteractionEvent e : impressions) {
      RankingLog l = byRequest.get(e.getRequestId());
      long t = e.getEventTime().toEpochMilli();
      if (l == null || t > bound) {
        continue;
      }
      long lag = t - l.getTimestamp().toEpochMilli();
      if (lag >= 0 && lag <= attribution) {
        long[] c = expectedCtr.computeIfAbsent(t / CTR_WINDOW * CTR_WINDOW, x -> new long[2]);
        c[0]++;
        c[1] += e.getClick() ? 1 : 0;
      }
    }

    // the broker dates records by the clock (a local one takes any timestamp; this test is not
    // about the record's)
    long now = System.currentTimeMillis();
    h.publish(
        "examples1",
        new LongSerializer(),
        examples,
        TrainingExample::getUserId,
        e -> Math.min(now, e.getEventTime().toEpochMilli()));
    h.publish(
        "logs1",
        new org.apache.kafka.common.serialization.StringSerializer(),
        served,
        RankingLog::getRequestId,
        l -> Math.min(now, l.getTimestamp().toEpochMilli()));
    h.publish(
        "interactions1",
        new LongSerializer(),
        impressions,
        InteractionEvent::getUserId,
        e -> Math.min(now, e.getEventTime().toEpochMilli()));
    Map<String, String> config = h.config();
    config.put("training.examples.topic", h.topic("examples1"));
    config.put("ranking.logs.topic", h.topic("logs1"));
    config.put("interactions.topic", h.topic("interactions1"));
    config.put("attribution.window.ms", Long.toString(attribution));
    config.put("ctr.window.ms", Long.toString(CTR_WINDOW));
    StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
    DriftMain.build(env, DriftConfig.from(config));
    // a watermark after (nearly) every record, not every 200 ms: a topic read within 200 ms would
    // show no value late whatever held the watermark
    env.getConfig().setAutoWatermarkInterval(1);
    env.execute("drift-it-" + h.id);

    List<DriftReport> reports = h.read("reports", DriftReport.class);
    assertThat(reports.stream().mapToLong(DriftReport::getLateEvents).sum())
        .as("late values")
        .isZero();
    for (String feature : List.of("device", "item_category", "i_content_length")) {
      Map<Long, Long> n = new TreeMap<>();
      reports.stream()
          .filter(d -> d.getFeature().equals(feature))
          .forEach(d -> assertThat(n.put(d.getWindowStart().toEpochMilli(), d.getN())).isNull());
      assertThat(n).as(feature).isEqualTo(perMinute);
    }
    Map<Long, long[]> actualCtr = new TreeMap<>();
    for (OnlineCtrReport w : h.read("ctr", OnlineCtrReport.class)) {
      assertThat(w.getModelVersion() + "|" + w.getVariant()).isEqualTo("ref-1|production");
      actualCtr.put(
          w.getWindowStart().toEpochMilli(), new long[] {w.getImpressions(), w.getClicks()});
    }
    assertThat(actualCtr.keySet()).isEqualTo(expectedCtr.keySet());
    expectedCtr.forEach(
        (k, c) -> assertThat(actualCtr.get(k)).as("window %d", k).containsExactly(c[0], c[1]));
  }

  /** A user's score level (logit): users differ by more than a user's candidates do. */
  static double userLevel(Random r) {
    return -1 + r.nextGaussian();
  }

  static double sigmoid(double x) {
    return 1 / (1 + Math.exp(-x));
  }

  /** A response of the production arm's reference version (the serving version's scores). */
  static RankingLog response(
      String id, long t, List<RankedItem> items, String fallbackReason, String model) {
    return ranked(
        id, t, 1, items, model, DriftHarness.REFERENCE_VERSION, "production", fallbackReason);
  }

  /**
   * A ranking log with the fields the ranker's {@code RankingLogs.toRecord} sets for a request of
   * {@code user} leased {@code model}@{@code version} and assigned {@code arm}: after a model error
   * popularity ranked it (model, version "popularity", variant "fallback"); after another fallback
   * (Redis away) the model did, with the reason. Mirrored here rather than built through toRecord:
   * flink-drift may not depend on ranker-service (no app module depends on another, DESIGN §1).
   */
  static RankingLog ranked(
      String id,
      long t,
      long user,
      List<RankedItem> items,
      String model,
      String version,
      String arm,
      String fallbackReason) {
    boolean popularity = "model_error".equals(fallbackReason);
    return RankingLog.newBuilder()
        .setRequestId(id)
        .setTimestamp(Instant.ofEpochMilli(t))
        .setUserId(user)
        .setModelName(popularity ? "popularity" : model)
        .setModelVersion(popularity ? "popularity" : version)
        .setVariant(popularity ? "fallback" : arm)
        .setItems(items)
        .setLatencyMs(3.0)
        .setFallback(fallbackReason != null)
        .setFallbackReason(fallbackReason)
        .setFeatureSchemaVersion(1)
        .setAssignedVariant(arm)
        .setLeasedModelName(model)
        .setLeasedModelVersion(version)
        .build();
  }

  static final long MINUTE = 60_000;
  static final long CTR_WINDOW = 2 * MINUTE;

  static InteractionEvent impression(
      Random r, long user, String requestId, long time, boolean click) {
    return InteractionEvent.newBuilder()
        .setInteractionId(UUID.randomUUID().toString())
        .setUserId(user)
        .setItemId(1 + r.nextInt(1_000))
        .setEventTime(Instant.ofEpochMilli(time))
        .setClick(click)
        .setLike(false)
        .setShare(false)
        .setDwellSeconds(click ? 12f : 0f)
        .setRequestId(requestId)
        .setPosition(requestId == null ? null : 0)
        .build();
  }
}
