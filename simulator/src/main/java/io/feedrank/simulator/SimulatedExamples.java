package io.feedrank.simulator;

import io.feedrank.events.TrainingExample;
import io.feedrank.features.examples.PointInTimeExamples;
import java.util.Iterator;
import java.util.NoSuchElementException;

/**
 * Point-in-time training examples of simulated traffic, without Kafka: the simulator's events
 * through {@link PointInTimeExamples} (the maths the streams app keeps in its state stores), with
 * the catalogue and profiles known from the start and scenario items as they appear. For the
 * trainer's tests and the training benchmark.
 */
public final class SimulatedExamples implements Iterator<TrainingExample> {
  private final InteractionSimulator sim;
  private final PointInTimeExamples examples = new PointInTimeExamples();
  private final long count;
  private long produced;

  public SimulatedExamples(SimulatorConfig config, long count) {
    this.sim = new InteractionSimulator(config);
    this.count = count;
    sim.userProfiles().forEach(examples::profile);
    sim.itemMetadata().forEach(examples::item);
  }

  public InteractionSimulator simulator() {
    return sim;
  }

  @Override
  public boolean hasNext() {
    return produced < count;
  }

  @Override
  public TrainingExample next() {
    if (!hasNext()) {
      throw new NoSuchElementException("all " + count + " examples produced");
    }
    produced++;
    var e = sim.next();
    sim.drainNewItems().forEach(examples::item);
    return examples.next(e);
  }
}
