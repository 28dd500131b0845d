package io.feedrank.features.redis;

import java.time.Duration;
import java.util.HashSet;
import java.util.Set;
import redis.clients.jedis.ConnectionPoolConfig;
import redis.clients.jedis.DefaultJedisClientConfig;
import redis.clients.jedis.HostAndPort;
import redis.clients.jedis.JedisClientConfig;
import redis.clients.jedis.RedisClient;
import redis.clients.jedis.RedisClusterClient;
import redis.clients.jedis.UnifiedJedis;

/**
 * Redis connections of the feature store, shared by the writer (streams-features) and the reader
 * (ranker-service). {@code redis://[user:password@]host:port} is a standalone server, {@code
 * redis-cluster://[user:password@]h1:p1,h2:p2} a cluster (seed nodes); {@code rediss://} and {@code
 * rediss-cluster://} use TLS.
 */
public final class RedisConnections {

  /**
   * {@code uri} fit for a log or an error message: its password, if any, replaced by {@code ***}
   * ({@code redis://user:***@host:6379}).
   */
  public static String redacted(String uri) {
    int scheme = uri.indexOf("://");
    int at = uri.lastIndexOf('@');
    if (scheme < 0 || at < scheme) {
      return uri;
    }
    String userInfo = uri.substring(scheme + 3, at);
    int colon = userInfo.indexOf(':');
    String user = colon >= 0 ? userInfo.substring(0, colon + 1) : "";
    return uri.substring(0, scheme + 3) + user + "***" + uri.substring(at);
  }

  /**
   * A Jedis client for a standalone ({@code redis://}) or cluster ({@code redis-cluster://}) URI.
   */
  public static UnifiedJedis connect(String uri, Duration timeout) {
    return connect(uri, timeout, 8);
  }

  /**
   * A client whose pool (per node) holds up to {@code maxConnections}: as many as threads that call
   * it at once, so none waits for a connection. Borrowing waits at most {@code timeout} too.
   */
  public static UnifiedJedis connect(String uri, Duration timeout, int maxConnections) {
    boolean cluster = uri.startsWith("redis-cluster://") || uri.startsWith("rediss-cluster://");
    boolean tls = uri.startsWith("rediss");
    String rest = uri.substring(uri.indexOf("://") + 3);
    DefaultJedisClientConfig.Builder config =
        DefaultJedisClientConfig.builder()
            .timeoutMillis((int) timeout.toMillis())
            .serverDefaultProtocol()
            .ssl(tls);
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
      throw new IllegalArgumentException("redis URI names no host: " + redacted(uri));
    }
    JedisClientConfig built = config.build();
    ConnectionPoolConfig pool = new ConnectionPoolConfig();
    pool.setMaxTotal(maxConnections);
    pool.setMaxIdle(maxConnections);
    pool.setMaxWait(timeout);
    if (cluster) {
      return RedisClusterClient.builder().nodes(nodes).clientConfig(built).poolConfig(pool).build();
    }
    if (nodes.size() != 1) {
      throw new IllegalArgumentException(
          "a standalone redis:// URI names one host; use redis-cluster:// for several: "
              + redacted(uri));
    }
    return RedisClient.builder()
        .hostAndPort(nodes.iterator().next())
        .clientConfig(built)
        .poolConfig(pool)
        .build();
  }

  /** What every user's key starts with: {@link #userKey}. */
  public static final String USER_PREFIX = "fr:u:";

  /** What every item's key starts with: {@link #itemKey}. */
  public static final String ITEM_PREFIX = "fr:i:";

  /** {@code fr:u:{id}}: the hash of a user's features. */
  public static String userKey(long userId) {
    return USER_PREFIX + userId;
  }

  /** {@code fr:i:{id}}: the hash of an item's features. */
  public static String itemKey(long itemId) {
    return ITEM_PREFIX + itemId;
  }

  private RedisConnections() {}
}
