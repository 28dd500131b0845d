package io.feedrank.trainer;

import io.feedrank.events.TrainingExample;
import io.feedrank.simulator.SimulatedExamples;
import io.feedrank.simulator.SimulatorConfig;
import io.feedrank.trainer.data.Example;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/** Point-in-time examples of the default simulator, generated once per JVM and size. */
public final class SimData {
  public static final Instant START = Instant.parse("2026-11-01T00:00:00Z");
  private static final Map<Long, List<TrainingExample>> CACHE = new ConcurrentHashMap<>();

  private SimData() {}

  /** {@code n} examples of the default simulator (10,000 users, 50,000 items), seed 7. */
  public static List<TrainingExample> avro(int n) {
    return CACHE.computeIfAbsent(
        (long) n,
        k -> {
          List<TrainingExample> out = new ArrayList<>(n);
          new SimulatedExamples(SimulatorConfig.defaults(7L, START), n).forEachRemaining(out::add);
          return List.copyOf(out);
        });
  }

  public static List<Example> examples(int n) {
    return avro(n).stream().map(Example::of).toList();
  }

  /** {@code n} examples of a dense population: every user and item is seen many times. */
  public static List<Example> dense(int n, int users, int items) {
    List<Example> out = new ArrayList<>(n);
    new SimulatedExamples(SimulatorConfig.defaults(7L, START).withPopulation(users, items), n)
        .forEachRemaining(e -> out.add(Example.of(e)));
    return out;
  }
}
