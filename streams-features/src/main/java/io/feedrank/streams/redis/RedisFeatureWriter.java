package io.feedrank.streams.redis;

import io.feedrank.features.redis.RedisConnections;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import redis.clients.jedis.AbstractPipeline;
import redis.clients.jedis.Response;
import redis.clients.jedis.UnifiedJedis;

/**
 * Writes feature hashes with Jedis, pipelined: one {@code HSET} (all fields) and one {@code
 * PEXPIRE} per entity, one round trip per batch (per cluster node with Redis Cluster). A batch of
 * which Redis refused any command fails whole (the caller retries it: the writes are idempotent).
 *
 * <p>{@code redis://[user:password@]host:port} is a standalone server, {@code
 * redis-cluster://[user:password@]h1:p1,h2:p2} a cluster (seed nodes); {@code rediss://} and {@code
 * rediss-cluster://} use TLS.
 */
public final class RedisFeatureWriter implements FeatureWriter {
  private final UnifiedJedis jedis;
  private final long ttlMillis;
  private final Timer latency;
  private final DistributionSummary batchSize;

  public RedisFeatureWriter(String uri, Duration ttl, MeterRegistry metrics) {
    this.jedis = RedisConnections.connect(uri, Duration.ofSeconds(2));
    this.ttlMillis = ttl.toMillis();
    this.latency =
        Timer.builder("features.redis.write.latency")
            .description("one pipelined batch")
            .publishPercentileHistogram()
            .register(metrics);
    this.batchSize =
        DistributionSummary.builder("features.redis.batch.size")
            .description("entities per batch")
            .register(metrics);
  }

  @Override
  public void write(List<FeatureWrite> batch) {
    writeFindingRecreated(batch);
  }

  /**
   * A partial write recreated its hash when {@code HSET} created every field it set: a hash that
   * existed has the fields every write carries ({@code _v}, {@code _ts}, the counters).
   */
  @Override
  public Set<String> writeFindingRecreated(List<FeatureWrite> batch) {
    if (batch.isEmpty()) {
      return Set.of();
    }
    long t0 = System.nanoTime();
    List<Response<Long>> replies = new ArrayList<>(2 * batch.size());
    try (AbstractPipeline p = jedis.pipelined()) {
      for (FeatureWrite w : batch) {
        replies.add(p.hset(w.key(), w.fields()));
        replies.add(p.pexpire(w.key(), ttlMillis));
      }
      p.sync();
    }
    // sync() keeps a command's error reply (OOM, READONLY, NOPERM, WRONGTYPE, MOVED) as its
    // response, and a cluster pipeline leaves a node's responses unset when reading them failed:
    // unless every reply is read, such a batch would count as written and its entities be dropped
    Set<String> recreated = Set.of(); // a set of its own only when Redis lost a hash
    for (int i = 0; i < replies.size(); i++) {
      try {
        Long reply = replies.get(i).get();
        FeatureWrite w = batch.get(i / 2);
        if (i % 2 == 0 && w.partial() && reply != null && reply == w.fields().size()) {
          if (recreated.isEmpty()) {
            recreated = new HashSet<>();
          }
          recreated.add(w.key());
        }
      } catch (RuntimeException e) {
        throw new IllegalStateException(
            (i % 2 == 0 ? "HSET " : "PEXPIRE ")
                + batch.get(i / 2).key()
                + " failed: "
                + e.getMessage(),
            e);
      }
    }
    latency.record(System.nanoTime() - t0, java.util.concurrent.TimeUnit.NANOSECONDS);
    batchSize.record(batch.size());
    return recreated;
  }

  @Override
  public void close() {
    jedis.close();
  }
}
