package io.feedrank.simulator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.feedrank.events.InteractionEvent;
import io.feedrank.events.ItemMetadata;
import java.time.Instant;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** Feed requests and the users' reactions to served feeds (the demo's closed loop). */
class FeedRequestTest {
  static final Instant START = InteractionSimulatorTest.START;

  @Test
  void requestsAndReactionsLeaveTheEventStreamUnchanged() {
    InteractionSimulator plain = new InteractionSimulator(SimulatorConfig.defaults(7, START));
    InteractionSimulator mixed = new InteractionSimulator(SimulatorConfig.defaults(7, START));
    SplittableRandom rnd = new SplittableRandom(1);
    for (int i = 0; i < 5_000; i++) {
      assertThat(mixed.next()).isEqualTo(plain.next());
      if (i % 10 == 0) {
        InteractionSimulator.FeedRequest r = mixed.feedRequest(50, rnd);
        mixed.react(r, r.candidates().subList(0, 10), "req-" + i, rnd);
      }
    }
  }

  @Test
  void candidatesAreDistinctCatalogItemsAndReactionsNameTheirRequestAndPosition() {
    InteractionSimulator sim = new InteractionSimulator(SimulatorConfig.defaults(3, START));
    for (int i = 0; i < 100; i++) {
      sim.next();
    }
    SplittableRandom rnd = new SplittableRandom(2);
    InteractionSimulator.FeedRequest r = sim.feedRequest(1_000, rnd);
    assertThat(new HashSet<>(r.candidates())).hasSize(1_000);
    assertThat(r.candidates()).allMatch(id -> id >= 1 && id <= SimulatorConfig.DEFAULT_ITEMS);
    assertThat(r.eventTime()).isEqualTo(sim.eventTime());
    List<InteractionEvent> shown = sim.react(r, r.candidates().subList(0, 20), "req-1", rnd);
    for (int p = 0; p < shown.size(); p++) {
      InteractionEvent e = shown.get(p);
      assertThat(e.getRequestId()).isEqualTo("req-1");
      assertThat(e.getPosition()).isEqualTo(p);
      assertThat(e.getUserId()).isEqualTo(r.userId());
      assertThat(e.getItemId()).isEqualTo(r.candidates().get(p));
      assertThat(e.getDevice()).isEqualTo(r.device());
      assertThat(e.getEventTime()).isAfterOrEqualTo(r.eventTime());
    }
    assertThatThrownBy(() -> sim.react(r, List.of(SimulatorConfig.DEFAULT_ITEMS + 1L), "x", rnd))
        .hasMessageContaining("not in the simulated catalog");
    assertThatThrownBy(() -> sim.feedRequest(0, rnd)).hasMessageContaining("candidates");
  }

  @Test
  void topPositionsAreClickedMoreAndTheScenarioMovesCandidatesWhenStartedNow() {
    SimulatorConfig config =
        SimulatorConfig.defaults(5, START)
            .withScenario(Scenario.CATEGORY_SHIFT, START.plusSeconds(365L * 86_400), 1.0);
    InteractionSimulator sim = new InteractionSimulator(config);
    Map<Long, String> category = new HashMap<>();
    for (ItemMetadata m : sim.itemMetadata()) {
      category.put(m.getItemId(), m.getCategory());
    }
    SplittableRandom rnd = new SplittableRandom(9);
    long[] trending = new long[2];
    int requests = 4_000;
    for (int phase = 0; phase < 2; phase++) {
      long top = 0;
      long low = 0;
      for (int i = 0; i < requests; i++) {
        sim.next();
        InteractionSimulator.FeedRequest r = sim.feedRequest(20, rnd);
        List<InteractionEvent> shown = sim.react(r, r.candidates(), "r", rnd);
        top += shown.get(0).getClick() ? 1 : 0;
        low += shown.get(19).getClick() ? 1 : 0;
        for (long id : r.candidates()) {
          trending[phase] += sim.trendingCategories().contains(category.get(id)) ? 1 : 0;
        }
      }
      assertThat(top).as("position 0 vs 19, phase %d", phase).isGreaterThan(low);
      if (phase == 0) {
        assertThat(sim.scenarioActive()).isFalse();
        sim.startScenarioAt(sim.eventTime());
      }
    }
    assertThat(sim.scenarioActive()).isTrue();
    double before = trending[0] / (20.0 * requests);
    double after = trending[1] / (20.0 * requests);
    assertThat(after).as("trending share of candidates").isGreaterThan(before + 0.2);
  }
}
