package io.feedrank.features.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import redis.clients.jedis.HostAndPort;
import redis.clients.jedis.exceptions.JedisAskDataException;
import redis.clients.jedis.exceptions.JedisConnectionException;
import redis.clients.jedis.exceptions.JedisDataException;
import redis.clients.jedis.exceptions.JedisMovedDataException;

/** The redis.uri forms the README documents are read; any other is refused, naming the key. */
class RedisConnectionsTest {

  @Test
  void readsTheDocumentedForms() {
    RedisConnections.Endpoint plain = RedisConnections.parse("redis://127.0.0.1:6379");
    assertThat(plain.cluster()).isFalse();
    assertThat(plain.tls()).isFalse();
    assertThat(plain.nodes()).containsExactly(new HostAndPort("127.0.0.1", 6379));
    assertThat(plain.database()).isZero();
    assertThat(plain.password()).isNull();

    RedisConnections.Endpoint auth = RedisConnections.parse("rediss://app:s3cret@h:6380/");
    assertThat(auth.tls()).isTrue();
    assertThat(auth.user()).isEqualTo("app");
    assertThat(auth.password()).isEqualTo("s3cret");
    assertThat(auth.nodes()).containsExactly(new HostAndPort("h", 6380));

    RedisConnections.Endpoint noPort = RedisConnections.parse("redis://h");
    assertThat(noPort.nodes()).containsExactly(new HostAndPort("h", 6379));

    RedisConnections.Endpoint cluster = RedisConnections.parse("rediss-cluster://s3cret@a:1, b:2");
    assertThat(cluster.cluster()).isTrue();
    assertThat(cluster.tls()).isTrue();
    assertThat(cluster.user()).isNull();
    assertThat(cluster.password()).isEqualTo("s3cret");
    assertThat(cluster.nodes())
        .isEqualTo(List.of(new HostAndPort("a", 1), new HostAndPort("b", 2)));
    assertThat(RedisConnections.parse("redis-cluster://a:1/0").database()).isZero();

    assertThat(RedisConnections.parse("redis://[::1]:7000").nodes())
        .containsExactly(new HostAndPort("::1", 7000));
  }

  /** redis://127.0.0.1:6379/3 used database 0: the /3 was dropped. */
  @Test
  void aStandaloneUriKeepsTheDatabaseOfItsPath() {
    assertThat(RedisConnections.parse("redis://127.0.0.1:6379/3").database()).isEqualTo(3);
    assertThat(RedisConnections.parse("redis://u:p@h:1/15").database()).isEqualTo(15);
  }

  @Test
  void refusesAClusterDatabaseOtherThanZero() {
    assertThatThrownBy(() -> RedisConnections.parse("redis-cluster://a:1,b:2/3"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("redis.uri must be ")
        .hasMessageContaining("database 0 only")
        .hasMessageEndingWith(": redis-cluster://a:1,b:2/3");
  }

  /** Each was read as something else: http as Redis, "localhost" as host "calhost". */
  @Test
  void refusesWhatIsNotARedisUriNamingTheKeyWithThePasswordRedacted() {
    assertThatThrownBy(() -> RedisConnections.parse("http://h:1"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("redis.uri must be redis://")
        .hasMessageContaining("scheme 'http' is not a Redis one")
        .hasMessageEndingWith(": http://h:1");
    assertThatThrownBy(() -> RedisConnections.parse("localhost:6379"))
        .hasMessageStartingWith("redis.uri must be ")
        .hasMessageContaining("it has no scheme")
        .hasMessageEndingWith(": localhost:6379");
    assertThatThrownBy(() -> RedisConnections.parse("app:s3cret@localhost:6379"))
        .hasMessageStartingWith("redis.uri must be ")
        .hasMessageEndingWith(": app:***@localhost:6379")
        .hasMessageNotContaining("s3cret");
    assertThatThrownBy(() -> RedisConnections.parse("redis://app:s3cret@h:abc"))
        .hasMessageStartingWith("redis.uri must be ")
        .hasMessageContaining("port 'abc' is not a number within 1..65535")
        .hasMessageEndingWith(": redis://app:***@h:abc")
        .hasMessageNotContaining("s3cret")
        .hasMessageNotContaining("For input string");
    assertThatThrownBy(() -> RedisConnections.parse("redis://h:0"))
        .hasMessageContaining("port '0' is not a number within 1..65535");
    assertThatThrownBy(() -> RedisConnections.parse("redis://h:1/db3"))
        .hasMessageStartingWith("redis.uri must be ")
        .hasMessageContaining("path '/db3' is not a database number");
    assertThatThrownBy(() -> RedisConnections.parse("redis://h:1?protocol=3"))
        .hasMessageStartingWith("redis.uri must be ")
        .hasMessageContaining("no query");
    assertThatThrownBy(() -> RedisConnections.parse("redis://a:1,b:2"))
        .hasMessageStartingWith("redis.uri must be ")
        .hasMessageContaining("use redis-cluster:// for several");
    assertThatThrownBy(() -> RedisConnections.parse("redis-cluster://a:1,"))
        .hasMessageStartingWith("redis.uri must be ")
        .hasMessageContaining("'' is not host[:port]");
    assertThatThrownBy(() -> RedisConnections.parse("redis://"))
        .hasMessageStartingWith("redis.uri must be ");
  }

  @Test
  void connectRefusesABadUriBeforeMakingAClient() {
    assertThatThrownBy(() -> RedisConnections.connect("http://h:1", Duration.ofMillis(50)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("redis.uri must be ");
  }

  /** 4294967346 ms was cast to 50 ms; 2147483648 to a negative timeout. */
  @Test
  void connectRefusesATimeoutAnIntCannotHold() {
    assertThatThrownBy(
            () -> RedisConnections.connect("redis://h:1", Duration.ofMillis(4_294_967_346L)))
        .isInstanceOf(ArithmeticException.class);
  }

  /**
   * A redirection or a node out of reach, also under the writer's wrapping of a reply, says the
   * slot map may be old; Redis refusing a command does not.
   */
  @Test
  void aRedirectionOrAnUnreachableNodeSaysTheTopologyMayHaveChanged() {
    HostAndPort other = new HostAndPort("127.0.0.1", 7001);
    assertThat(
            RedisConnections.topologyMayHaveChanged(
                new IllegalStateException(
                    "writing fr:u:1 failed",
                    new JedisMovedDataException("MOVED 1 127.0.0.1:7001", other, 1))))
        .isTrue();
    assertThat(
            RedisConnections.topologyMayHaveChanged(
                new JedisAskDataException("ASK 1 127.0.0.1:7001", other, 1)))
        .isTrue();
    assertThat(
            RedisConnections.topologyMayHaveChanged(
                new JedisConnectionException("Failed to connect to 127.0.0.1:7001.")))
        .isTrue();
    assertThat(
            RedisConnections.topologyMayHaveChanged(
                new IllegalStateException(
                    "writing fr:u:1 failed",
                    new JedisDataException("WRONGTYPE Operation against a key"))))
        .isFalse();
    assertThat(RedisConnections.topologyMayHaveChanged(new IllegalStateException("no reply")))
        .isFalse();
  }

  @Test
  void redactsThePasswordOnly() {
    assertThat(RedisConnections.redacted("redis://app:s3cret@h:1/2"))
        .isEqualTo("redis://app:***@h:1/2");
    assertThat(RedisConnections.redacted("redis://s3cret@h:1")).isEqualTo("redis://***@h:1");
    assertThat(RedisConnections.redacted("s3cret@h:1")).isEqualTo("***@h:1");
    assertThat(RedisConnections.redacted("redis://h:1")).isEqualTo("redis://h:1");
  }
}
