package io.feedrank.ranker;

import io.feedrank.events.InteractionEvent;
import io.feedrank.events.ItemMetadata;
import io.feedrank.events.UserProfile;
import io.feedrank.features.redis.RedisConnections;
import io.feedrank.features.state.ItemState;
import io.feedrank.features.state.UserState;
import io.feedrank.simulator.InteractionSimulator;
import io.feedrank.simulator.SimulatorConfig;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import redis.clients.jedis.AbstractPipeline;
import redis.clients.jedis.UnifiedJedis;

/**
 * Realistic features for ranker tests: simulator traffic folded into user and item state with
 * feature-spec (as the streams app does), kept in memory for the expected values and written to
 * Redis in the streams app's layout.
 */
public final class FeatureFixture {
  public final Map<Long, UserState> users = new HashMap<>();
  public final Map<Long, ItemState> items = new HashMap<>();
  public final Map<Long, UserProfile> profiles = new HashMap<>();
  public final Map<Long, ItemMetadata> metadata = new HashMap<>();
  public final Instant end;

  public FeatureFixture(long seed, int userCount, int itemCount, int events) {
    SimulatorConfig c =
        SimulatorConfig.defaults(seed, Instant.parse("2026-11-01T00:00:00Z"))
            .withPopulation(userCount, itemCount);
    InteractionSimulator sim = new InteractionSimulator(c);
    sim.userProfiles().forEach(p -> profiles.put(p.getUserId(), p));
    sim.itemMetadata().forEach(m -> metadata.put(m.getItemId(), m));
    for (int i = 0; i < events; i++) {
      InteractionEvent e = sim.next();
      sim.drainNewItems().forEach(m -> metadata.put(m.getItemId(), m));
      ItemMetadata m = metadata.get(e.getItemId());
      users
          .computeIfAbsent(e.getUserId(), k -> new UserState())
          .add(e, m == null ? null : m.getCategory());
      items.computeIfAbsent(e.getItemId(), k -> new ItemState()).add(e);
    }
    end = sim.eventTime();
  }

  public Map<String, String> userHash(long id) {
    UserState u = users.get(id);
    return u == null ? Map.of() : u.toHash(Long.MIN_VALUE, profiles.get(id));
  }

  public Map<String, String> itemHash(long id) {
    ItemState s = items.get(id);
    return s == null ? Map.of() : s.toHash(metadata.get(id));
  }

  /** Writes every hash to {@code redisUri} (standalone or {@code redis-cluster://}), pipelined. */
  public void writeTo(String redisUri) {
    try (UnifiedJedis jedis = RedisConnections.connect(redisUri, java.time.Duration.ofSeconds(5));
        AbstractPipeline p = jedis.pipelined()) {
      users.keySet().forEach(id -> p.hset(RedisConnections.userKey(id), userHash(id)));
      items.keySet().forEach(id -> p.hset(RedisConnections.itemKey(id), itemHash(id)));
      p.sync();
    }
  }
}
