package io.feedrank.streams.redis;

import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import redis.clients.jedis.AbstractPipeline;
import redis.clients.jedis.DefaultJedisClientConfig;
import redis.clients.jedis.HostAndPort;
import redis.clients.jedis.JedisClientConfig;
import redis.clients.jedis.RedisClient;
import redis.clients.jedis.RedisClusterClient;
import redis.clients.jedis.UnifiedJedis;

/**
 * Writes feature hashes with Jedis, pipelined: one {@code HSET} (all fields) and one {@code
 * PEXPIRE} per entity, one round trip per batch (per cluster node with Redis Cluster).
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
    this.jedis = connect(uri);
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

  /**
   * A Jedis client for a standalone ({@code redis://}) or cluster ({@code redis-cluster://}) URI.
   */
  public static UnifiedJedis connect(String uri) {
    boolean cluster = uri.startsWith("redis-cluster://") || uri.startsWith("rediss-cluster://");
    boolean tls = uri.startsWith("rediss");
    String rest = uri.substring(uri.indexOf("://") + 3);
    DefaultJedisClientConfig.Builder config =
        DefaultJedisClientConfig.builder().timeoutMillis(2_000).serverDefaultProtocol().ssl(tls);
    int at = rest.lastIndexOf('@');
    if (at >= 0) {
      String userInfo = rest.substring(0, at);
      rest = rest.substring(at + 1);
      int colon = userInfo.indexOf(':');
      if (colon >= 0) {
        if (colon > 0) {
          config.user(userInfo.substring(0, colon));
        }
        config.password(userInfo.substring(colon + 1));
      } else {
        config.password(userInfo);
      }
    }
    Set<HostAndPort> nodes = new HashSet<>();
    for (String hp : rest.replaceAll("/.*$", "").split(",")) {
      String h = hp.trim();
      nodes.add(h.contains(":") ? HostAndPort.from(h) : new HostAndPort(h, 6379));
    }
    if (nodes.isEmpty()) {
      throw new IllegalArgumentException("redis URI names no host: " + uri);
    }
    JedisClientConfig built = config.build();
    if (cluster) {
      return RedisClusterClient.builder().nodes(nodes).clientConfig(built).build();
    }
    if (nodes.size() != 1) {
      throw new IllegalArgumentException(
          "a standalone redis:// URI names one host; use redis-cluster:// for several: " + uri);
    }
    return RedisClient.builder().hostAndPort(nodes.iterator().next()).clientConfig(built).build();
  }

  @Override
  public void write(List<FeatureWrite> batch) {
    if (batch.isEmpty()) {
      return;
    }
    long t0 = System.nanoTime();
    try (AbstractPipeline p = jedis.pipelined()) {
      for (FeatureWrite w : batch) {
        p.hset(w.key(), w.fields());
        p.pexpire(w.key(), ttlMillis);
      }
      p.sync();
    }
    latency.record(System.nanoTime() - t0, java.util.concurrent.TimeUnit.NANOSECONDS);
    batchSize.record(batch.size());
  }

  @Override
  public void close() {
    jedis.close();
  }
}
