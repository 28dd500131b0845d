package io.feedrank.loadtest.feeders;

import io.feedrank.loadtest.config.LoadConfig;
import io.feedrank.simulator.InteractionSimulator;
import io.feedrank.simulator.SimulatorConfig;
import java.time.Instant;
import java.util.Iterator;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.stream.Collectors;

/**
 * Feed requests as the apps make them, drawn from the simulator's populations (the same users and
 * items as {@code ./feedrank up}): a user by activity, the device they are on, and distinct
 * candidates drawn by popularity or from the user's favourite categories. Endless; each record
 * holds the JSON body of one {@code POST /v1/rank}.
 */
public final class RankFeeder implements Iterator<Map<String, Object>> {
  private final InteractionSimulator world;
  private final SplittableRandom random;
  private final LoadConfig config;

  /**
   * @param stream which request stream of the population: the warm-up draws its own (1), so the
   *     measured run (0) does not replay requests whose features the warm-up just cached
   */
  public RankFeeder(LoadConfig config, int stream) {
    this.config = config;
    this.world =
        new InteractionSimulator(
            SimulatorConfig.defaults(config.seed(), Instant.now())
                .withPopulation(config.users(), config.items())
                .withRealTime(true));
    this.random = new SplittableRandom(config.seed() * 31 + 7 + stream * 0x9E3779B97F4A7C15L);
  }

  @Override
  public boolean hasNext() {
    return true;
  }

  @Override
  public synchronized Map<String, Object> next() {
    InteractionSimulator.FeedRequest r = world.feedRequest(config.candidates(), random);
    String body =
        "{\"user_id\":"
            + r.userId()
            + ",\"item_ids\":["
            + r.candidates().stream().map(String::valueOf).collect(Collectors.joining(","))
            + "],\"context\":{\"device\":\""
            + r.device().name().toLowerCase(Locale.ROOT)
            + "\"},\"top_k\":"
            + config.topK()
            + "}";
    return Map.of("userId", r.userId(), "body", body);
  }
}
