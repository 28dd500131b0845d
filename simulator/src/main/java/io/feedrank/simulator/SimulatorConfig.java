package io.feedrank.simulator;

import java.time.Instant;
import java.util.Objects;

/**
 * What to simulate. Validated on construction; messages name the option and its bound.
 *
 * @param seed every random choice derives from it: same config → identical stream
 * @param users user population (ids 1..users)
 * @param items initial item catalog (ids 1..items)
 * @param categories item categories (at most {@link Population#CATEGORY_NAMES}.length)
 * @param startTime event time of the stream's start
 * @param eventsPerEventSecond mean event rate in simulated (event) time before the diurnal curve;
 *     sets how fast event time advances per event
 * @param realTime when true, event time is the wall clock instead of simulated time
 * @param scenario drift scenario
 * @param scenarioStart event time at which the scenario starts
 * @param scenarioStrength 0 < strength ≤ 1
 */
public record SimulatorConfig(
    long seed,
    int users,
    int items,
    int categories,
    Instant startTime,
    double eventsPerEventSecond,
    boolean realTime,
    Scenario scenario,
    Instant scenarioStart,
    double scenarioStrength) {

  public static final int DEFAULT_USERS = 10_000;
  public static final int DEFAULT_ITEMS = 50_000;
  public static final int DEFAULT_CATEGORIES = 20;
  public static final double DEFAULT_EVENTS_PER_EVENT_SECOND = 100.0;

  /**
   * The population of {@code ./feedrank demo} and {@code ./feedrank up}, and so the default of the
   * load tests that target them: dense enough that ids repeat (about 150 events per user in the
   * demo's history), so the MLP's id embeddings learn what the features do not say.
   */
  public static final int DEMO_USERS = 1_000;

  /** Items of the demo's population: see {@link #DEMO_USERS}. */
  public static final int DEMO_ITEMS = 2_000;

  public SimulatorConfig {
    Objects.requireNonNull(startTime, "startTime");
    Objects.requireNonNull(scenario, "scenario");
    if (users < 1 || users > 50_000_000) {
      throw new IllegalArgumentException("users must be within 1..50,000,000, got " + users);
    }
    if (items < 1 || items > 50_000_000) {
      throw new IllegalArgumentException("items must be within 1..50,000,000, got " + items);
    }
    if (categories < 2 || categories > Population.CATEGORY_NAMES.length) {
      throw new IllegalArgumentException(
          "categories must be within 2.."
              + Population.CATEGORY_NAMES.length
              + ", got "
              + categories);
    }
    if (!(eventsPerEventSecond > 0) || Double.isInfinite(eventsPerEventSecond)) {
      throw new IllegalArgumentException(
          "eventsPerEventSecond must be > 0, got " + eventsPerEventSecond);
    }
    if (scenario != Scenario.NONE) {
      Objects.requireNonNull(scenarioStart, "scenarioStart is required with scenario " + scenario);
      if (!(scenarioStrength > 0 && scenarioStrength <= 1)) {
        throw new IllegalArgumentException(
            "scenarioStrength must be within (0, 1], got " + scenarioStrength);
      }
    }
  }

  /** Defaults of the issue: 10,000 users, 50,000 items, 20 categories, stationary. */
  public static SimulatorConfig defaults(long seed, Instant start) {
    return new SimulatorConfig(
        seed,
        DEFAULT_USERS,
        DEFAULT_ITEMS,
        DEFAULT_CATEGORIES,
        start,
        DEFAULT_EVENTS_PER_EVENT_SECOND,
        false,
        Scenario.NONE,
        null,
        1.0);
  }

  public SimulatorConfig withPopulation(int newUsers, int newItems) {
    return new SimulatorConfig(
        seed,
        newUsers,
        newItems,
        categories,
        startTime,
        eventsPerEventSecond,
        realTime,
        scenario,
        scenarioStart,
        scenarioStrength);
  }

  public SimulatorConfig withScenario(Scenario s, Instant start, double strength) {
    return new SimulatorConfig(
        seed,
        users,
        items,
        categories,
        startTime,
        eventsPerEventSecond,
        realTime,
        s,
        start,
        strength);
  }

  public SimulatorConfig withEventsPerEventSecond(double rate) {
    return new SimulatorConfig(
        seed,
        users,
        items,
        categories,
        startTime,
        rate,
        realTime,
        scenario,
        scenarioStart,
        scenarioStrength);
  }

  public SimulatorConfig withRealTime(boolean real) {
    return new SimulatorConfig(
        seed,
        users,
        items,
        categories,
        startTime,
        eventsPerEventSecond,
        real,
        scenario,
        scenarioStart,
        scenarioStrength);
  }
}
