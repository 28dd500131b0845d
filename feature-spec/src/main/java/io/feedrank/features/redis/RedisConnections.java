package io.feedrank.features.redis;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import redis.clients.jedis.ConnectionPoolConfig;
import redis.clients.jedis.DefaultJedisClientConfig;
import redis.clients.jedis.HostAndPort;
import redis.clients.jedis.JedisClientConfig;
import redis.clients.jedis.RedisClient;
import redis.clients.jedis.RedisClusterClient;
import redis.clients.jedis.UnifiedJedis;
import redis.clients.jedis.exceptions.JedisConnectionException;
import redis.clients.jedis.exceptions.JedisRedirectionException;

/**
 * Redis connections of the feature store, shared by the writer (streams-features) and the reader
 * (ranker-service). {@code redis://[user:password@]host:port[/database]} is a standalone server,
 * {@code redis-cluster://[user:password@]h1:p1,h2:p2} a cluster (seed nodes); {@code rediss://} and
 * {@code rediss-cluster://} use TLS. Any other URI is refused ({@link #parse}).
 */
public final class RedisConnections {

  /** The configuration key of the URI, which every refusal of one names. */
  public static final String KEY = "redis.uri";

  private static final Set<String> SCHEMES =
      Set.of("redis", "rediss", "redis-cluster", "rediss-cluster");

  private static final String FORMS =
      "redis://[user:password@]host[:port][/database], rediss://… (TLS),"
          + " redis-cluster://[user:password@]h1:p1,h2:p2 or rediss-cluster://…";

  /**
   * {@code uri} fit for a log or an error message: its password, if any, replaced by {@code ***}
   * ({@code redis://user:***@host:6379}), also when the scheme is missing.
   */
  public static String redacted(String uri) {
    if (uri == null) {
      return null;
    }
    int scheme = uri.indexOf("://");
    int from = scheme < 0 ? 0 : scheme + 3;
    int at = uri.lastIndexOf('@');
    if (at < from) {
      return uri;
    }
    String userInfo = uri.substring(from, at);
    int colon = userInfo.indexOf(':');
    String user = colon >= 0 ? userInfo.substring(0, colon + 1) : "";
    return uri.substring(0, from) + user + "***" + uri.substring(at);
  }

  /**
   * A {@code redis.uri} taken apart: TLS or not, a cluster's seed nodes or a standalone server, the
   * credentials and, for a standalone server, the database number of its path ({@code /3}; 0 when
   * there is none).
   */
  public record Endpoint(
      boolean cluster,
      boolean tls,
      String user,
      String password,
      List<HostAndPort> nodes,
      int database) {
    public Endpoint {
      nodes = List.copyOf(nodes);
    }
  }

  /**
   * Parses a {@code redis.uri}: {@code redis://}, {@code rediss://} (TLS), {@code redis-cluster://}
   * or {@code rediss-cluster://}, optional {@code user:password@} or {@code password@}, then one
   * {@code host[:port]} (standalone; port 6379 when left out) or several comma-separated (cluster),
   * then for a standalone server an optional database number ({@code /3}). A cluster has database 0
   * only, so its URI takes no number other than 0. Anything else — another scheme, no scheme, a
   * port that is not 1..65535, a path that is not a database number, a query — is refused rather
   * than read as something else.
   *
   * @throws IllegalArgumentException naming {@code redis.uri}, with the URI, its password redacted
   */
  public static Endpoint parse(String uri) {
    if (uri == null || uri.isBlank()) {
      throw new IllegalArgumentException("missing config " + KEY);
    }
    int schemeEnd = uri.indexOf("://");
    String scheme = schemeEnd < 0 ? "" : uri.substring(0, schemeEnd).toLowerCase(Locale.ROOT);
    if (!SCHEMES.contains(scheme)) {
      throw refused(
          uri,
          schemeEnd < 0
              ? "it has no scheme"
              : "scheme '" + uri.substring(0, schemeEnd) + "' is not a Redis one");
    }
    boolean cluster = scheme.endsWith("-cluster");
    boolean tls = scheme.startsWith("rediss");
    String rest = uri.substring(schemeEnd + 3);
    String user = null;
    String password = null;
    int at = rest.lastIndexOf('@');
    if (at >= 0) {
      String userInfo = rest.substring(0, at);
      rest = rest.substring(at + 1);
      int colon = userInfo.indexOf(':');
      if (colon >= 0) {
        user = colon > 0 ? userInfo.substring(0, colon) : null;
        password = userInfo.substring(colon + 1);
      } else {
        password = userInfo;
      }
    }
    if (rest.contains("?") || rest.contains("#")) {
      throw refused(uri, "it takes no query or fragment");
    }
    int slash = rest.indexOf('/');
    String authority = slash < 0 ? rest : rest.substring(0, slash);
    String path = slash < 0 ? "" : rest.substring(slash + 1);
    int database = 0;
    if (!path.isEmpty()) {
      try {
        database = Integer.parseInt(path);
      } catch (NumberFormatException e) {
        database = -1;
      }
      if (database < 0) {
        throw refused(uri, "its path '/" + path + "' is not a database number");
      }
      if (cluster && database != 0) {
        throw refused(uri, "a Redis Cluster has database 0 only, not /" + path);
      }
    }
    List<HostAndPort> nodes = new ArrayList<>();
    for (String hp : authority.split(",", -1)) {
      nodes.add(node(uri, hp.trim()));
    }
    if (!cluster && nodes.size() != 1) {
      throw refused(
          uri, "a standalone redis:// URI names one host; use redis-cluster:// for several");
    }
    return new Endpoint(cluster, tls, user, password, nodes, database);
  }

  private static HostAndPort node(String uri, String hostPort) {
    String host = hostPort;
    String port = null;
    if (hostPort.startsWith("[")) { // an IPv6 address
      int close = hostPort.indexOf(']');
      if (close < 0) {
        throw refused(uri, "host '" + hostPort + "' has no closing ]");
      }
      host = hostPort.substring(1, close);
      String after = hostPort.substring(close + 1);
      if (!after.isEmpty()) {
        if (!after.startsWith(":")) {
          throw refused(uri, "host '" + hostPort + "' is not [address]:port");
        }
        port = after.substring(1);
      }
    } else {
      int colon = hostPort.lastIndexOf(':');
      if (colon >= 0) {
        host = hostPort.substring(0, colon);
        port = hostPort.substring(colon + 1);
      }
    }
    if (host.isEmpty() || host.contains(":") && !hostPort.startsWith("[")) {
      throw refused(uri, "'" + hostPort + "' is not host[:port]");
    }
    int p = 6379;
    if (port != null) {
      try {
        p = Integer.parseInt(port);
      } catch (NumberFormatException e) {
        p = -1;
      }
      if (p < 1 || p > 65535) {
        throw refused(uri, "port '" + port + "' is not a number within 1..65535");
      }
    }
    return new HostAndPort(host, p);
  }

  private static IllegalArgumentException refused(String uri, String why) {
    return new IllegalArgumentException(
        KEY + " must be " + FORMS + "; " + why + ": " + redacted(uri));
  }

  /**
   * How often a cluster client reads the slot map again ({@code CLUSTER SLOTS}, on a thread of its
   * own, from the seed nodes first). Both apps do their keyed I/O through pipelines, which route by
   * the map the client holds and, unlike single commands, neither follow a {@code MOVED} nor renew
   * the map: without this, after a failover, a reshard or a node's new address every batch with a
   * key in a moved slot failed until the app restarted. The apps renew it on such a failure too
   * ({@link #topologyMayHaveChanged}); this covers a renewal that found no node to ask, and drops
   * the pools of nodes that left the cluster. Jedis's thread for it is not a daemon: a cluster
   * client must be closed, as every one here is.
   */
  static final Duration TOPOLOGY_REFRESH = Duration.ofSeconds(10);

  /**
   * Whether {@code e}, or what lies under it, says a cluster client's slot map may be out of date,
   * to be renewed ({@link RedisClusterClient#refreshClusterTopology}) before the next attempt: a
   * redirection ({@code MOVED}: the slot has another owner; {@code ASK}: it is being moved) or a
   * node that could not be reached or read (gone, replaced by its replica, at a new address).
   * Another error reply ({@code OOM}, {@code NOPERM}, {@code WRONGTYPE}) is Redis answering: false.
   */
  public static boolean topologyMayHaveChanged(Throwable e) {
    for (int depth = 0; e != null && depth < 10; depth++, e = e.getCause()) {
      if (e instanceof JedisRedirectionException || e instanceof JedisConnectionException) {
        return true;
      }
    }
    return false;
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
   *
   * @throws IllegalArgumentException naming {@code redis.uri} when {@link #parse} refuses it
   * @throws ArithmeticException when {@code timeout} is more milliseconds than an int holds
   */
  public static UnifiedJedis connect(String uri, Duration timeout, int maxConnections) {
    Endpoint e = parse(uri);
    DefaultJedisClientConfig.Builder config =
        DefaultJedisClientConfig.builder()
            .timeoutMillis(Math.toIntExact(timeout.toMillis()))
            .serverDefaultProtocol()
            .ssl(e.tls());
    if (e.user() != null) {
      config.user(e.user());
    }
    if (e.password() != null) {
      config.password(e.password());
    }
    if (!e.cluster()) {
      config.database(e.database());
    }
    JedisClientConfig built = config.build();
    ConnectionPoolConfig pool = new ConnectionPoolConfig();
    pool.setMaxTotal(maxConnections);
    pool.setMaxIdle(maxConnections);
    pool.setMaxWait(timeout);
    if (e.cluster()) {
      return RedisClusterClient.builder()
          .nodes(new HashSet<>(e.nodes()))
          .clientConfig(built)
          .poolConfig(pool)
          .topologyRefreshPeriod(TOPOLOGY_REFRESH)
          .build();
    }
    return RedisClient.builder()
        .hostAndPort(e.nodes().get(0))
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
