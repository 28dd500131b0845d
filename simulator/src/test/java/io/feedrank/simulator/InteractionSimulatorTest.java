package io.feedrank.simulator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.feedrank.events.Device;
import io.feedrank.events.InteractionEvent;
import io.feedrank.events.ItemMetadata;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The simulator's promises, measured on its output: determinism, engagement and skew within the
 * bounds stated here, learnable signal, and that every drift scenario moves what it says it moves
 * (and nothing before its start).
 */
class InteractionSimulatorTest {
  static final Instant START = Instant.parse("2026-11-02T00:00:00Z"); // a Monday
  static final int N = 200_000;

  static SimulatorConfig config(long seed) {
    return SimulatorConfig.defaults(seed, START);
  }

  static List<InteractionEvent> take(InteractionSimulator sim, int n) {
    List<InteractionEvent> out = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      out.add(sim.next());
    }
    return out;
  }

  @Test
  void sameSeedGivesTheIdenticalStreamAndWorld() {
    InteractionSimulator a = new InteractionSimulator(config(42));
    InteractionSimulator b = new InteractionSimulator(config(42));
    assertThat(a.userProfiles()).isEqualTo(b.userProfiles());
    assertThat(a.itemMetadata()).isEqualTo(b.itemMetadata());
    assertThat(take(a, 20_000)).isEqualTo(take(b, 20_000));

    List<InteractionEvent> other = take(new InteractionSimulator(config(43)), 1_000);
    assertThat(other).isNotEqualTo(take(new InteractionSimulator(config(42)), 1_000));
  }

  /**
   * A stream that must end at a given time starts where the rate curve's integral back from there
   * reaches its count. Over a whole weekday the curve 0.45 + 0.55·(1 + cos(2π(h − 20)/24))/2
   * averages 0.725 (the cosine sums to zero over its period), so 100 · 0.725 · 86,400 events end a
   * day after they start; on a weekend day, 1.15 times as many.
   */
  @Test
  void aStreamEndingAtAGivenTimeStartsWhereTheRateCurveSaysForAWholeDay() {
    Instant thursday = Instant.parse("2026-11-05T00:00:00Z");
    assertThat(InteractionSimulator.startToEndAt(thursday, 6_264_000, 100))
        .isBetween(thursday.minusSeconds(86_401), thursday.minusSeconds(86_399));
    Instant sunday = Instant.parse("2026-11-08T00:00:00Z");
    assertThat(InteractionSimulator.startToEndAt(sunday, 7_203_600, 100))
        .isBetween(sunday.minusSeconds(86_401), sunday.minusSeconds(86_399));
    assertThat(InteractionSimulator.startToEndAt(sunday, 0, 100)).isEqualTo(sunday);
    // a whole week and a day: 5 weekdays, 2 weekend days, and that Thursday again; a count of
    // years takes no longer than one of days (whole weeks at once)
    long week = 6_264_000L * 5 + 7_203_600L * 2;
    assertThat(InteractionSimulator.startToEndAt(thursday, week + 6_264_000, 100))
        .isBetween(thursday.minusSeconds(8 * 86_400 + 1), thursday.minusSeconds(8 * 86_400 - 1));
    assertThat(InteractionSimulator.startToEndAt(thursday, 520 * week, 100))
        .isBetween(
            thursday.minusSeconds(520L * 7 * 86_400 + 1),
            thursday.minusSeconds(520L * 7 * 86_400 - 1));
    assertThatThrownBy(() -> InteractionSimulator.startToEndAt(thursday, Long.MAX_VALUE, 100))
        .hasMessageContaining("over 100 years");
  }

  /**
   * And the generated stream from there does end there: 100,000 events ending at 08:00 UTC, near
   * the curve's trough (0.45), end within a minute of it; the gaps' randomness moves the end by
   * about √100,000 / 45 ≈ 7 s, while a start that ignored the curve (100,000 / 100 s before) would
   * leave the stream about 20 minutes short.
   */
  @Test
  void theGeneratedStreamEndsWhereItWasMeantTo() {
    Instant end = Instant.parse("2026-11-04T08:00:00Z");
    Instant start = InteractionSimulator.startToEndAt(end, 100_000, 100);
    assertThat(java.time.Duration.between(start, end).toSeconds()).isBetween(2_000L, 2_300L);
    InteractionSimulator sim = new InteractionSimulator(SimulatorConfig.defaults(7, start));
    List<InteractionEvent> events = take(sim, 100_000);
    assertThat(events.get(events.size() - 1).getEventTime())
        .isBetween(end.minusSeconds(60), end.plusSeconds(60));
  }

  @Test
  void eventsAreValidAndTimeMovesForward() {
    List<InteractionEvent> events = take(new InteractionSimulator(config(1)), 50_000);
    Instant previous = START;
    for (InteractionEvent e : events) {
      assertThat(e.getUserId()).isBetween(1L, (long) SimulatorConfig.DEFAULT_USERS);
      assertThat(e.getItemId()).isBetween(1L, (long) SimulatorConfig.DEFAULT_ITEMS);
      assertThat(e.getDwellSeconds()).isBetween(0f, 3600f);
      assertThat(e.getEventTime()).isAfterOrEqualTo(previous);
      assertThat(e.getLike() || e.getShare() ? e.getClick() : true)
          .as("like/share imply click")
          .isTrue();
      previous = e.getEventTime();
    }
    assertThat(events.stream().map(InteractionEvent::getInteractionId).distinct().count())
        .isEqualTo(events.size());
    // 100 events per event-second before the diurnal curve (mean factor ≈ 0.725): 50k events ≈ 11.5
    // min
    Duration span = Duration.between(START, previous);
    assertThat(span).isBetween(Duration.ofMinutes(5), Duration.ofMinutes(30));
  }

  /**
   * Stated bounds on the default world: CTR 5–15 %, like given click 15–50 %, share given click
   * 2–12 %, clicked dwell median above 10 s and unclicked below 3 s; the top 1 % of items take at
   * least 20 % of impressions; the top 10 % of users make at least 30 % of events.
   */
  @Test
  void engagementRatesAndSkewAreWithinTheStatedBounds() {
    List<InteractionEvent> events = take(new InteractionSimulator(config(7)), N);
    long clicks = events.stream().filter(InteractionEvent::getClick).count();
    long likes = events.stream().filter(InteractionEvent::getLike).count();
    long shares = events.stream().filter(InteractionEvent::getShare).count();
    double ctr = clicks / (double) N;
    assertThat(ctr).isBetween(0.05, 0.15);
    assertThat(likes / (double) clicks).isBetween(0.15, 0.50);
    assertThat(shares / (double) clicks).isBetween(0.02, 0.12);
    assertThat(
            median(
                events.stream()
                    .filter(InteractionEvent::getClick)
                    .mapToDouble(InteractionEvent::getDwellSeconds)
                    .toArray()))
        .isGreaterThan(10);
    assertThat(
            median(
                events.stream()
                    .filter(e -> !e.getClick())
                    .mapToDouble(InteractionEvent::getDwellSeconds)
                    .toArray()))
        .isLessThan(3);

    assertThat(
            topShare(
                countBy(events, InteractionEvent::getItemId), SimulatorConfig.DEFAULT_ITEMS / 100))
        .isGreaterThan(0.20);
    assertThat(
            topShare(
                countBy(events, InteractionEvent::getUserId), SimulatorConfig.DEFAULT_USERS / 10))
        .isGreaterThan(0.30);
  }

  @Test
  void trafficFollowsTheDiurnalCurve() {
    // 3 event-days at 10 events/s
    InteractionSimulator sim = new InteractionSimulator(config(3).withEventsPerEventSecond(10));
    long[] byHour = new long[24];
    InteractionEvent e;
    do {
      e = sim.next();
      byHour[e.getEventTime().atZone(ZoneOffset.UTC).getHour()]++;
    } while (e.getEventTime().isBefore(START.plus(Duration.ofDays(3))));
    assertThat(byHour[20] / (double) byHour[8]).isGreaterThan(2.0);
  }

  /**
   * The signal is learnable and not popularity: on the last 30 % of events, ranking by item
   * impression counts of the first 70 % reaches AUC below 0.62, while a count-based scorer using
   * the smoothed CTR of the item and of the user on the item's category (both from the first 70 %)
   * does at least 0.08 better.
   */
  @Test
  void engagementIsLearnableFromFeaturesButNotFromPopularity() {
    InteractionSimulator sim = new InteractionSimulator(config(11));
    Map<Long, String> category = new HashMap<>();
    for (ItemMetadata m : sim.itemMetadata()) {
      category.put(m.getItemId(), m.getCategory());
    }
    List<InteractionEvent> events = take(sim, 400_000);
    int cut = (int) (events.size() * 0.7);
    Map<Long, double[]> item = new HashMap<>();
    Map<String, double[]> userCategory = new HashMap<>();
    double prior = 0;
    for (InteractionEvent e : events.subList(0, cut)) {
      add(item.computeIfAbsent(e.getItemId(), k -> new double[2]), e.getClick());
      add(
          userCategory.computeIfAbsent(
              e.getUserId() + "/" + category.get(e.getItemId()), k -> new double[2]),
          e.getClick());
      prior += e.getClick() ? 1 : 0;
    }
    prior /= cut;
    List<InteractionEvent> test = events.subList(cut, events.size());
    double[] popularity = new double[test.size()];
    double[] learned = new double[test.size()];
    boolean[] labels = new boolean[test.size()];
    for (int i = 0; i < test.size(); i++) {
      InteractionEvent e = test.get(i);
      double[] it = item.getOrDefault(e.getItemId(), new double[2]);
      double[] uc =
          userCategory.getOrDefault(
              e.getUserId() + "/" + category.get(e.getItemId()), new double[2]);
      popularity[i] = it[0];
      double itemCtr = (it[1] + 20 * prior) / (it[0] + 20);
      double ucCtr = (uc[1] + 5 * prior) / (uc[0] + 5);
      learned[i] = Math.log(itemCtr / (1 - itemCtr)) + Math.log(ucCtr / (1 - ucCtr));
      labels[i] = e.getClick();
    }
    double popularityAuc = auc(popularity, labels);
    double learnedAuc = auc(learned, labels);
    System.out.printf(
        "simulator signal: popularity AUC %.3f, count-based AUC %.3f%n", popularityAuc, learnedAuc);
    assertThat(popularityAuc).isLessThan(0.62);
    assertThat(learnedAuc - popularityAuc).isGreaterThan(0.08);
  }

  @Test
  void aScenarioChangesNothingBeforeItsStart() {
    Instant shift = START.plus(Duration.ofMinutes(5));
    for (Scenario s : Scenario.values()) {
      if (s == Scenario.NONE) {
        continue;
      }
      InteractionSimulator stationary = new InteractionSimulator(config(5));
      InteractionSimulator drifting =
          new InteractionSimulator(config(5).withScenario(s, shift, 1.0));
      InteractionEvent a;
      InteractionEvent b;
      int n = 0;
      do {
        a = stationary.next();
        b = drifting.next();
        if (a.getEventTime().isBefore(shift)) {
          assertThat(b).as(s + " event " + n).isEqualTo(a);
          n++;
        }
      } while (a.getEventTime().isBefore(shift));
      assertThat(n).as(s.name()).isGreaterThan(10_000);
    }
  }

  @Test
  void categoryShiftMovesTheCategoryMixOfImpressions() {
    Instant shift = START.plus(Duration.ofMinutes(30));
    InteractionSimulator sim =
        new InteractionSimulator(config(9).withScenario(Scenario.CATEGORY_SHIFT, shift, 1.0));
    Map<Long, String> category = new HashMap<>();
    sim.itemMetadata().forEach(m -> category.put(m.getItemId(), m.getCategory()));
    List<InteractionEvent> events = take(sim, N);
    List<InteractionEvent> before =
        events.stream().filter(e -> e.getEventTime().isBefore(shift)).toList();
    List<InteractionEvent> after =
        events.stream().filter(e -> !e.getEventTime().isBefore(shift)).toList();
    assertThat(before).hasSizeGreaterThan(40_000);
    assertThat(after).hasSizeGreaterThan(40_000);

    Map<String, Long> b = countBy(before, e -> category.get(e.getItemId()));
    Map<String, Long> a = countBy(after, e -> category.get(e.getItemId()));
    double psi = psi(b, a);
    double trendingBefore = share(b, sim.trendingCategories());
    double trendingAfter = share(a, sim.trendingCategories());
    System.out.printf(
        "category shift: PSI %.3f, trending share %.3f -> %.3f%n",
        psi, trendingBefore, trendingAfter);
    assertThat(psi).isGreaterThan(0.25);
    assertThat(trendingAfter).isGreaterThan(2 * trendingBefore);

    // stationary control: the two halves of an unshifted stream barely differ
    List<InteractionEvent> control = take(new InteractionSimulator(config(9)), N);
    assertThat(
            psi(
                countBy(control.subList(0, N / 2), e -> category.get(e.getItemId())),
                countBy(control.subList(N / 2, N), e -> category.get(e.getItemId()))))
        .isLessThan(0.01);
  }

  @Test
  void deviceShiftMovesTheDeviceMix() {
    Instant shift = START.plus(Duration.ofMinutes(30));
    List<InteractionEvent> events =
        take(
            new InteractionSimulator(config(9).withScenario(Scenario.DEVICE_SHIFT, shift, 1.0)), N);
    double mobileBefore =
        deviceShare(
            events.stream().filter(e -> e.getEventTime().isBefore(shift)).toList(), Device.MOBILE);
    double mobileAfter =
        deviceShare(
            events.stream().filter(e -> !e.getEventTime().isBefore(shift)).toList(), Device.MOBILE);
    double desktopAfter =
        deviceShare(
            events.stream().filter(e -> !e.getEventTime().isBefore(shift)).toList(),
            Device.DESKTOP);
    assertThat(mobileBefore).isGreaterThan(0.5);
    assertThat(mobileAfter).isLessThan(0.2);
    assertThat(desktopAfter).isGreaterThan(0.5);
  }

  @Test
  void ctrDropHalvesEngagement() {
    Instant shift = START.plus(Duration.ofMinutes(30));
    List<InteractionEvent> events =
        take(new InteractionSimulator(config(9).withScenario(Scenario.CTR_DROP, shift, 1.0)), N);
    double before = ctr(events.stream().filter(e -> e.getEventTime().isBefore(shift)).toList());
    double after = ctr(events.stream().filter(e -> !e.getEventTime().isBefore(shift)).toList());
    System.out.printf("ctr drop: %.4f -> %.4f%n", before, after);
    assertThat(after).isLessThan(0.65 * before);
  }

  @Test
  void newItemFloodPublishesNewItemsThatTakeHalfTheImpressions() {
    Instant shift = START.plus(Duration.ofMinutes(30));
    InteractionSimulator sim =
        new InteractionSimulator(config(9).withScenario(Scenario.NEW_ITEM_FLOOD, shift, 1.0));
    List<ItemMetadata> newItems = new ArrayList<>();
    List<InteractionEvent> events = new ArrayList<>();
    for (int i = 0; i < N; i++) {
      events.add(sim.next());
      newItems.addAll(sim.drainNewItems());
    }
    assertThat(newItems).hasSize(SimulatorConfig.DEFAULT_ITEMS / 5);
    assertThat(newItems).allSatisfy(m -> assertThat(m.getCreatedAt()).isAfterOrEqualTo(shift));
    assertThat(newItems)
        .allSatisfy(m -> assertThat(m.getItemId()).isGreaterThan(SimulatorConfig.DEFAULT_ITEMS));
    long newBefore =
        events.stream()
            .filter(
                e ->
                    e.getEventTime().isBefore(shift)
                        && e.getItemId() > SimulatorConfig.DEFAULT_ITEMS)
            .count();
    List<InteractionEvent> after =
        events.stream().filter(e -> !e.getEventTime().isBefore(shift)).toList();
    double newShare =
        after.stream().filter(e -> e.getItemId() > SimulatorConfig.DEFAULT_ITEMS).count()
            / (double) after.size();
    assertThat(newBefore).isZero();
    assertThat(newShare).isBetween(0.45, 0.55);
  }

  @Test
  void scenarioStrengthScalesTheShift() {
    Instant shift = START.plus(Duration.ofMinutes(10));
    double weak = ctrAfter(shift, 0.3);
    double strong = ctrAfter(shift, 1.0);
    double none = ctr(take(new InteractionSimulator(config(9)), 100_000));
    assertThat(weak).isLessThan(none).isGreaterThan(strong);
  }

  private static double ctrAfter(Instant shift, double strength) {
    List<InteractionEvent> events =
        take(
            new InteractionSimulator(config(9).withScenario(Scenario.CTR_DROP, shift, strength)),
            100_000);
    return ctr(events.stream().filter(e -> !e.getEventTime().isBefore(shift)).toList());
  }

  // ---- independent statistics, written out here ----

  static void add(double[] counts, boolean click) {
    counts[0]++;
    counts[1] += click ? 1 : 0;
  }

  static double ctr(List<InteractionEvent> events) {
    return events.stream().filter(InteractionEvent::getClick).count() / (double) events.size();
  }

  static double deviceShare(List<InteractionEvent> events, Device d) {
    return events.stream().filter(e -> e.getDevice() == d).count() / (double) events.size();
  }

  static <K> Map<K, Long> countBy(
      List<InteractionEvent> events, java.util.function.Function<InteractionEvent, K> key) {
    Map<K, Long> m = new HashMap<>();
    events.forEach(e -> m.merge(key.apply(e), 1L, Long::sum));
    return m;
  }

  static double topShare(Map<?, Long> counts, int top) {
    long total = counts.values().stream().mapToLong(Long::longValue).sum();
    long head =
        counts.values().stream()
            .sorted((x, y) -> Long.compare(y, x))
            .limit(top)
            .mapToLong(Long::longValue)
            .sum();
    return head / (double) total;
  }

  static double share(Map<String, Long> counts, List<String> keys) {
    long total = counts.values().stream().mapToLong(Long::longValue).sum();
    return keys.stream().mapToLong(k -> counts.getOrDefault(k, 0L)).sum() / (double) total;
  }

  /** PSI = Σ (a − e)·ln(a / e) over categories, with 1e-6 for empty cells. */
  static double psi(Map<String, Long> expected, Map<String, Long> actual) {
    double te = expected.values().stream().mapToLong(Long::longValue).sum();
    double ta = actual.values().stream().mapToLong(Long::longValue).sum();
    java.util.Set<String> keys = new java.util.HashSet<>(expected.keySet());
    keys.addAll(actual.keySet());
    double psi = 0;
    for (String k : keys) {
      double e = Math.max(1e-6, expected.getOrDefault(k, 0L) / te);
      double a = Math.max(1e-6, actual.getOrDefault(k, 0L) / ta);
      psi += (a - e) * Math.log(a / e);
    }
    return psi;
  }

  static double median(double[] xs) {
    double[] s = xs.clone();
    Arrays.sort(s);
    return s[s.length / 2];
  }

  /** ROC AUC by the rank-sum (Mann-Whitney U) formula, ties get the average rank. */
  static double auc(double[] scores, boolean[] labels) {
    int n = scores.length;
    Integer[] order = new Integer[n];
    for (int i = 0; i < n; i++) {
      order[i] = i;
    }
    Arrays.sort(order, (x, y) -> Double.compare(scores[x], scores[y]));
    double[] rank = new double[n];
    int i = 0;
    while (i < n) {
      int j = i;
      while (j + 1 < n && scores[order[j + 1]] == scores[order[i]]) {
        j++;
      }
      double avg = (i + j) / 2.0 + 1;
      for (int k = i; k <= j; k++) {
        rank[order[k]] = avg;
      }
      i = j + 1;
    }
    long pos = 0;
    double sumPos = 0;
    for (int k = 0; k < n; k++) {
      if (labels[k]) {
        pos++;
        sumPos += rank[k];
      }
    }
    long neg = n - pos;
    return (sumPos - pos * (pos + 1) / 2.0) / ((double) pos * neg);
  }
}
