package io.feedrank.streams.redis;

import io.feedrank.features.redis.RedisConnections;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import redis.clients.jedis.AbstractPipeline;
import redis.clients.jedis.CommandArguments;
import redis.clients.jedis.Connection;
import redis.clients.jedis.ConnectionPool;
import redis.clients.jedis.Protocol;
import redis.clients.jedis.RedisClient;
import redis.clients.jedis.RedisClusterClient;
import redis.clients.jedis.Response;
import redis.clients.jedis.UnifiedJedis;
import redis.clients.jedis.exceptions.JedisDataException;
import redis.clients.jedis.exceptions.JedisNoScriptException;

/**
 * Writes feature hashes with Jedis, pipelined: one script call per entity that sets all its fields
 * ({@code HSET}) and its expiry ({@code PEXPIRE}, below), one round trip per batch (per cluster
 * node with Redis Cluster). A batch of which Redis refused any command fails whole (the caller
 * retries it: the writes are idempotent).
 *
 * <p>A write older than the hash is not applied: the script sets nothing when the hash's {@code
 * _ts} (its entity's latest event time) is later than the write's, or is the same and the hash's
 * {@code lifetime_events} is greater (a late event changes the counters and the count, not {@code
 * _ts}). Writes of one entity come from the one task that owns it, in order, but after a rebalance
 * the previous owner's write can still be retried while the new owner writes newer state; landing
 * last, it would put the entity back in time until its next event. Counted by {@code
 * features.redis.write.stale}. A write without {@code _ts} (an item's catalog metadata, a user's
 * profile) always applies.
 *
 * <p>A {@link FeatureWrite#partial partial} write with {@code _ts} (a user's, without the
 * categories no event since the last write touched) onto a hash without {@code _ts} (Redis lost the
 * entity's state: a restart without persistence, an eviction, the TTL), or with fewer {@code
 * lifetime_events} than the write's {@link FeatureWrite#baseEvents} (Redis brought back an older
 * copy: a restart from AOF or RDB, a failover to a replica behind, where the categories the last
 * writes carried are missing), sets nothing, and is reported ({@link #writeFindingLost}) and
 * counted by {@code features.redis.write.refused}: the entity must be written whole. Applied, it
 * created the hash with what it carried alone, and a later partial write found {@code _ts} and
 * applied as any other: if the instance stopped or crashed before it had the entity written whole,
 * or the entity's task moved, the hash lacked the rest for good. Refused, it leaves the hash as it
 * finds it, so every partial write is refused until a whole one lands, whoever writes it.
 *
 * <p>The expiry follows the entity's events: a write with {@code _ts} sets it to the TTL, one
 * without leaves a hash's expiry as it is and gives the TTL only to a hash that has none (a new
 * entity, known from the catalog or its profile alone). Every start of the app writes every item's
 * metadata again as it rebuilds the items table; had those writes set the expiry, no item's hash
 * would ever have expired while the app restarted within the TTL.
 *
 * <p>{@code redis://[user:password@]host:port} is a standalone server, {@code
 * redis-cluster://[user:password@]h1:p1,h2:p2} a cluster (seed nodes); {@code rediss://} and {@code
 * rediss-cluster://} use TLS.
 */
public final class RedisFeatureWriter implements FeatureWriter {
  private static final Logger log = LoggerFactory.getLogger(RedisFeatureWriter.class);

  /** The field that counts the events in an entity's state; see {@code UserState#toHash}. */
  static final String EVENTS = "lifetime_events";

  /**
   * KEYS[1] the hash; ARGV[1] the write's {@code _ts} (empty: none), ARGV[2] the expiry in ms,
   * ARGV[3] the write's {@code lifetime_events} (empty: none), ARGV[4] 1 for a partial write, else
   * 0, ARGV[5] its {@link FeatureWrite#baseEvents} (empty: none), then field, value pairs. Returns
   * -1 when the hash is newer (a later {@code _ts}, or the same one and more events), 1 when a
   * partial write with {@code _ts} found no {@code _ts} in the hash (no events' state: the hash was
   * gone, or held only an entity's catalog metadata or profile) or fewer {@code lifetime_events}
   * than its base (an older copy of the hash: it lacks what the write leaves out); both set
   * nothing. Else 0. The pairs go to {@code HSET} a thousand at a time, within what Lua's unpack
   * takes. A write without {@code _ts} sets the expiry only on a hash that has none ({@code PTTL}
   * below 0: it has just been created, or was left without one), as {@code PEXPIRE NX} would from
   * Redis 7 on.
   */
  static final String SCRIPT =
      """
      local ts = tonumber(ARGV[1])
      if ts then
        local held = redis.call('HMGET', KEYS[1], '_ts', 'lifetime_events')
        local heldTs = tonumber(held[1])
        if heldTs then
          if heldTs > ts then
            return -1
          end
          local n = tonumber(ARGV[3])
          local heldN = tonumber(held[2])
          if heldTs == ts and n and heldN and heldN > n then
            return -1
          end
          local base = tonumber(ARGV[5])
          if ARGV[4] == '1' and base and heldN and heldN < base then
            return 1
          end
        elseif ARGV[4] == '1' then
          return 1
        end
      end
      local i = 6
      while i <= #ARGV do
        local j = math.min(i + 999, #ARGV)
        redis.call('HSET', KEYS[1], unpack(ARGV, i, j))
        i = j + 1
      end
      if ts or redis.call('PTTL', KEYS[1]) < 0 then
        redis.call('PEXPIRE', KEYS[1], ARGV[2])
      end
      return 0
      """;

  private final UnifiedJedis jedis;
  private final String ttlMillis;
  private final String sha;
  private final Timer latency;
  private final DistributionSummary batchSize;
  private final Counter stale;
  private final Counter refused;

  public RedisFeatureWriter(String uri, Duration ttl, MeterRegistry metrics) {
    this.jedis = RedisConnections.connect(uri, Duration.ofSeconds(2));
    this.ttlMillis = Long.toString(ttl.toMillis());
    this.sha = sha1Hex(SCRIPT);
    this.latency =
        Timer.builder("features.redis.write.latency")
            .description("one pipelined batch")
            .publishPercentileHistogram()
            .register(metrics);
    this.batchSize =
        DistributionSummary.builder("features.redis.batch.size")
            .description("entities per batch")
            .register(metrics);
    this.stale =
        Counter.builder("features.redis.write.stale")
            .description("writes not applied: the hash held a later state")
            .register(metrics);
    this.refused =
        Counter.builder("features.redis.write.refused")
            .description("partial writes not applied: the hash held no state or an older one")
            .register(metrics);
  }

  @Override
  public void write(List<FeatureWrite> batch) {
    writeFindingLost(batch);
  }

  /**
   * A partial write found its hash lost when it found no {@code _ts} there: a hash that held the
   * entity's state has the fields every write carries ({@code _v}, {@code _ts}, the counters); or
   * fewer {@code lifetime_events} than its base: an older copy, without the categories the writes
   * since carried. A hash of the profile alone, rewritten after Redis lost the user's, holds fields
   * but no state. A write without {@code _ts} (a profile's or an item's metadata alone) is never
   * refused: it has no state to leave out, and the entity's next state write finds the hash without
   * {@code _ts}.
   */
  @Override
  public Set<String> writeFindingLost(List<FeatureWrite> batch) {
    if (batch.isEmpty()) {
      return Set.of();
    }
    long t0 = System.nanoTime();
    Replies read = new Replies();
    try {
      List<FeatureWrite> again = read.all(batch, send(batch), true);
      if (!again.isEmpty()) {
        // a server that has not seen the script (a new or restarted node, a promoted replica):
        // give it to every server and write again the entities it refused, only those: the others
        // have been answered, and would be counted twice
        loadScript();
        read.all(again, send(again), false);
      }
    } catch (RuntimeException e) {
      readyForRetry(e);
      throw e;
    }
    latency.record(System.nanoTime() - t0, java.util.concurrent.TimeUnit.NANOSECONDS);
    batchSize.record(batch.size());
    stale.increment(read.stale);
    refused.increment(read.lost.size());
    return read.lost;
  }

  /**
   * What a batch's replies say. sync() keeps a command's error reply (OOM, READONLY, NOPERM,
   * WRONGTYPE, MOVED) as its response, and a cluster pipeline leaves a node's responses unset when
   * reading them failed: unless every reply is read, such a batch would count as written and its
   * entities be dropped.
   */
  private static final class Replies {
    Set<String> lost = Set.of(); // a set of its own only when Redis lost a hash
    long stale;

    /**
     * Reads the replies to {@code writes}; returns the writes refused for want of the script when
     * {@code noScriptAgain} (to be sent again), else fails on them as on any error.
     */
    List<FeatureWrite> all(
        List<FeatureWrite> writes, List<Response<Object>> replies, boolean noScriptAgain) {
      List<FeatureWrite> again = List.of();
      for (int i = 0; i < replies.size(); i++) {
        FeatureWrite w = writes.get(i);
        Object reply;
        try {
          reply = replies.get(i).get();
        } catch (JedisNoScriptException e) {
          if (!noScriptAgain) {
            throw new IllegalStateException("writing " + w.key() + " failed: " + e.getMessage(), e);
          }
          if (again.isEmpty()) {
            again = new ArrayList<>();
          }
          again.add(w);
          continue;
        } catch (RuntimeException e) {
          throw new IllegalStateException("writing " + w.key() + " failed: " + e.getMessage(), e);
        }
        long answer = reply instanceof Long l ? l : Long.MIN_VALUE;
        if (answer == -1) {
          stale++;
        } else if (answer == 1) {
          if (lost.isEmpty()) {
            lost = new HashSet<>();
          }
          lost.add(w.key());
        }
      }
      return again;
    }
  }

  /**
   * Readies the client for the caller's retry of a batch that failed in a way it would otherwise
   * fail again until the app restarted. A cluster's slot map, by which its pipeline routes, is
   * renewed after a redirection or a node out of reach ({@link
   * RedisConnections#topologyMayHaveChanged}: a failover, a reshard, a node's new address). A
   * standalone server's idle connections are dropped after {@code READONLY} or {@code MASTERDOWN}:
   * its address (a Kubernetes Service, a DNS name) now leads to the promoted replica, but the
   * pool's connections still lead to the demoted master, which keeps them open, and the retries,
   * 200 ms apart, reused one of them for ever: it was never idle long enough to be evicted.
   */
  private void readyForRetry(RuntimeException e) {
    try {
      if (jedis instanceof RedisClusterClient cluster) {
        if (RedisConnections.topologyMayHaveChanged(e)) {
          cluster.refreshClusterTopology();
        }
      } else if (jedis instanceof RedisClient standalone && answeredByAReplica(e)) {
        standalone.getPool().clear();
      }
    } catch (RuntimeException again) {
      e.addSuppressed(again); // the next retry tries again
    }
  }

  /**
   * A replica's refusal: {@code READONLY} or {@code MASTERDOWN} as the reply's code or, before
   * Redis 7, within a script's error ({@code ERR Error running script … -READONLY You can't write
   * …}).
   */
  private static final Pattern REPLICA_REFUSAL = Pattern.compile("(?:^|-)(?:READONLY|MASTERDOWN) ");

  private static boolean answeredByAReplica(Throwable e) {
    for (int depth = 0; e != null && depth < 10; depth++, e = e.getCause()) {
      if (e instanceof JedisDataException
          && e.getMessage() != null
          && REPLICA_REFUSAL.matcher(e.getMessage()).find()) {
        return true;
      }
    }
    return false;
  }

  private List<Response<Object>> send(List<FeatureWrite> batch) {
    List<Response<Object>> replies = new ArrayList<>(batch.size());
    try (AbstractPipeline p = jedis.pipelined()) {
      for (FeatureWrite w : batch) {
        replies.add(p.evalsha(sha, List.of(w.key()), arguments(w)));
      }
      p.sync();
    }
    return replies;
  }

  private List<String> arguments(FeatureWrite w) {
    List<String> args = new ArrayList<>(5 + 2 * w.fields().size());
    args.add(w.fields().getOrDefault("_ts", ""));
    args.add(ttlMillis);
    args.add(w.fields().getOrDefault(EVENTS, ""));
    args.add(w.partial() ? "1" : "0");
    args.add(w.baseEvents() == NO_BASE ? "" : Long.toString(w.baseEvents()));
    w.fields()
        .forEach(
            (k, v) -> {
              args.add(k);
              args.add(v);
            });
    return args;
  }

  /** Loads the script into the server, or into every node of the cluster (one call each). */
  private void loadScript() {
    if (jedis instanceof RedisClusterClient cluster) {
      for (Map.Entry<String, ConnectionPool> node : cluster.getClusterNodes().entrySet()) {
        try (Connection c = node.getValue().getResource()) {
          c.executeCommand(new CommandArguments(Protocol.Command.SCRIPT).add("LOAD").add(SCRIPT));
        } catch (RuntimeException e) {
          // a node that cannot take it (gone, a replica refusing it) refuses the write again,
          // and the batch is retried by the caller
          log.debug(
              "features: cannot load the write script on {}: {}", node.getKey(), e.toString());
        }
      }
    } else {
      jedis.scriptLoad(SCRIPT);
    }
  }

  static String sha1Hex(String script) {
    try {
      byte[] d = MessageDigest.getInstance("SHA-1").digest(script.getBytes(StandardCharsets.UTF_8));
      return HexFormat.of().formatHex(d);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("no SHA-1 in this JVM", e);
    }
  }

  @Override
  public void close() {
    jedis.close();
  }
}
