package io.feedrank.drift;

import io.feedrank.avro.ConfigMap;
import java.io.IOException;
import java.io.Reader;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.DescribeClusterOptions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What the snapshots in a local state directory ({@link LocalCheckpoints}) were taken with: {@code
 * model.name}, {@code window.ms} and the Kafka cluster's id, in {@code dir/}{@value #FILE}, written
 * at each start. A start that would restore a snapshot taken with other values is refused. The
 * restore went on quietly: the registry source from the old job's offset (it reads {@code
 * model-registry} from its beginning only when nothing is restored), so a model named otherwise
 * never saw its production record and every window waited; the old model's reference, streaks and
 * cooldown judged the new one; on a recreated Kafka cluster, whose registry offsets start again at
 * 0, the old production version's offset was newer than every new promotion.
 */
public final class StateDirConfig {
  private static final Logger log = LoggerFactory.getLogger(StateDirConfig.class);

  /** The file's name in the state directory. */
  public static final String FILE = "job.properties";

  /** The key of the Kafka cluster's id in {@link #FILE}. */
  public static final String KAFKA_CLUSTER_ID = "kafka.cluster.id";

  private StateDirConfig() {}

  /**
   * The values a restore must match: {@code c}'s {@code model.name}, {@code window.ms} and {@code
   * ctr.window.ms}, and {@code kafkaClusterId} (left out when null: a cluster that reports none). A
   * key stored by an earlier version without it ({@code ctr.window.ms}) is not compared.
   */
  public static Map<String, String> of(DriftConfig c, String kafkaClusterId) {
    Map<String, String> m = new LinkedHashMap<>();
    m.put("model.name", c.settings().modelName());
    m.put("window.ms", Long.toString(c.settings().window().toMillis()));
    // the online CTR's windows are a length of their own (window.ms by default)
    m.put("ctr.window.ms", Long.toString(c.ctrWindow().toMillis()));
    if (kafkaClusterId != null) {
      m.put(KAFKA_CLUSTER_ID, kafkaClusterId);
    }
    return m;
  }

  /**
   * Before a start on {@code dir}, which its caller holds ({@link StateDirLock}): when {@code dir}
   * holds a snapshot to restore ({@link LocalCheckpoints#newest}), compares the values stored
   * beside it with {@code current}, key by key (a key only one side has is not compared); then
   * stores {@code current} for the next start. A snapshot without the file, taken before it was
   * written, is restored with a WARN.
   *
   * @throws IllegalArgumentException naming each key that differs, both values and what to do
   * @throws UncheckedIOException when the file cannot be read or written
   */
  public static void check(Path dir, Map<String, String> current) {
    Path file = dir.resolve(FILE);
    Optional<Path> snapshot = LocalCheckpoints.newest(dir);
    if (snapshot.isPresent()) {
      if (Files.exists(file)) {
        refuseIfChanged(dir, read(file), current);
      } else {
        log.warn(
            "drift: restoring {} without checking that it was taken with model.name {}, window.ms"
                + " {} and this Kafka cluster: the state directory has no {}, as those of"
                + " earlier versions of the job; it has from now on",
            snapshot.get(),
            current.get("model.name"),
            current.get("window.ms"),
            FILE);
      }
    }
    write(file, current);
  }

  private static void refuseIfChanged(
      Path dir, Map<String, String> stored, Map<String, String> current) {
    List<String> changed = new ArrayList<>();
    current.forEach(
        (key, now) -> {
          String then = stored.get(key);
          if (then != null && !then.equals(now)) {
            changed.add(key + " '" + then + "' there, '" + now + "' here");
          }
        });
    if (changed.isEmpty()) {
      return;
    }
    throw new IllegalArgumentException(
        "the state directory "
            + dir
            + " holds snapshots of a drift job with other settings ("
            + String.join("; ", changed)
            + "). Restored, this job would go on from that one's windows, streaks, cooldown and"
            + " source offsets: model-registry past the records it needs, another model's or"
            + " window length's state, another Kafka cluster's offsets. Give it another"
            + " --state-dir (config key state.dir), or delete "
            + dir
            + " to start afresh (its windows, streaks and cooldown are lost)");
  }

  /**
   * The id of the Kafka cluster {@code c} reads from, within {@code timeout}: with the job's {@code
   * kafka.*} keys (credentials, TLS) as its sources have them.
   *
   * @throws IllegalStateException when the cluster does not answer in time
   */
  public static String kafkaClusterId(DriftConfig c, Duration timeout) {
    Map<String, Object> p = new HashMap<>(c.kafka());
    p.put(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, c.bootstrapServers());
    p.put(CommonClientConfigs.RECONNECT_BACKOFF_MAX_MS_CONFIG, ConfigMap.RECONNECT_BACKOFF_MAX_MS);
    Admin admin = Admin.create(p);
    try {
      return admin
          .describeCluster(new DescribeClusterOptions().timeoutMs((int) timeout.toMillis()))
          .clusterId()
          .get(timeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted reading the Kafka cluster's id", e);
    } catch (ExecutionException | TimeoutException e) {
      Throwable why = e instanceof ExecutionException ? e.getCause() : e;
      throw new IllegalStateException(
          "cannot read the id of the Kafka cluster at "
              + c.bootstrapServers()
              + " within "
              + timeout.toSeconds()
              + " s (the state directory's snapshots are checked against it): "
              + why,
          why);
    } finally {
      admin.close(Duration.ofSeconds(5)); // not the default, which waits out a pending call
    }
  }

  private static Map<String, String> read(Path file) {
    Properties p = new Properties();
    try (Reader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
      p.load(r);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + file, e);
    }
    Map<String, String> m = new HashMap<>();
    p.stringPropertyNames().forEach(k -> m.put(k, p.getProperty(k)));
    return m;
  }

  /** Through a file beside it, moved over it: a start killed midway leaves the old one whole. */
  private static void write(Path file, Map<String, String> values) {
    Properties p = new Properties();
    p.putAll(values);
    Path next = file.resolveSibling(FILE + ".next");
    try {
      Files.createDirectories(file.getParent());
      try (Writer w = Files.newBufferedWriter(next, StandardCharsets.UTF_8)) {
        p.store(w, "what the drift job's snapshots here were taken with; checked at each restore");
      }
      Files.move(next, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + file, e);
    }
  }
}
