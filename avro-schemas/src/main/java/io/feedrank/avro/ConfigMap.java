package io.feedrank.avro;

import java.util.AbstractMap;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Function;

/**
 * A service's flat configuration map (a properties file overlaid with options) that remembers which
 * keys were asked for, so that a key nobody reads is refused instead of ignored: a misspelt {@code
 * api.keys.file} would otherwise start a ranker without authentication, and a misspelt limit would
 * leave its default in force unnoticed. A service's {@code from(Map)} reads every key it knows
 * through this map, then calls {@link #refuseUnread}.
 */
public final class ConfigMap extends AbstractMap<String, String> {
  private final Map<String, String> values;
  private final Set<String> read = new HashSet<>();

  public ConfigMap(Map<String, String> values) {
    this.values = values;
  }

  /** The prefix of the keys a service hands to its Kafka clients, and which it does not read. */
  public static final String KAFKA_PREFIX = "kafka.";

  /**
   * The {@code reconnect.backoff.max.ms} every service gives its Kafka clients unless a {@code
   * kafka.*} key sets it: the longest wait, in milliseconds, between two attempts to reach a broker
   * that does not answer. At Kafka's default, 1 s, every client wrote a NetworkClient WARN "could
   * not be established" about once a second per broker for as long as the brokers were away (a
   * Kafka Streams instance has five clients or more), which filled a container's log and pushed the
   * service's own first error lines out of it. The backoff still starts at {@code
   * reconnect.backoff.ms} (50 ms) and doubles, so a blip is retried as quickly as before; a broker
   * back after a long outage is found up to 10 s (and Kafka's 20% jitter) later.
   */
  public static final int RECONNECT_BACKOFF_MAX_MS = 10_000;

  /**
   * Reads a service's configuration: {@code reader} reads {@code values} through a {@link
   * ConfigMap}, then any key it did not read, other than {@code kafka.*}, is refused.
   *
   * @param service what reads the map, for the message ("the ranker")
   * @throws IllegalArgumentException naming a key that is unknown, or what {@code reader} refused
   */
  public static <T> T read(
      Map<String, String> values, String service, Function<Map<String, String>, T> reader) {
    ConfigMap p = new ConfigMap(values);
    T config = reader.apply(p);
    p.refuseUnread(service, KAFKA_PREFIX);
    return config;
  }

  /**
   * A whole number, or {@code dflt} when the key is missing or blank.
   *
   * @throws IllegalArgumentException naming the key when the value is not one
   */
  public static long longOf(Map<String, String> p, String key, long dflt) {
    String v = p.get(key);
    try {
      return v == null || v.isBlank() ? dflt : Long.parseLong(v.trim());
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(key + " must be an integer, got '" + v + "'", e);
    }
  }

  /**
   * As {@link #longOf(Map, String, long)}, within {@code lo..hi}.
   *
   * @throws IllegalArgumentException naming the key and the bounds
   */
  public static long longOf(Map<String, String> p, String key, long dflt, long lo, long hi) {
    long v = longOf(p, key, dflt);
    if (v < lo || v > hi) {
      throw new IllegalArgumentException(key + " must be within " + lo + ".." + hi + ", got " + v);
    }
    return v;
  }

  /** An int within {@code lo..hi}: a larger value is refused, naming the key, not cut. */
  public static int intOf(Map<String, String> p, String key, int dflt, int lo, int hi) {
    return (int) longOf(p, key, dflt, lo, hi);
  }

  /**
   * A number, or {@code dflt} when the key is missing or blank.
   *
   * @throws IllegalArgumentException naming the key when the value is not one
   */
  public static double doubleOf(Map<String, String> p, String key, double dflt) {
    String v = p.get(key);
    try {
      return v == null || v.isBlank() ? dflt : Double.parseDouble(v.trim());
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(key + " must be a number, got '" + v + "'", e);
    }
  }

  /** The {@code kafka.*} keys of {@code values}, without the prefix. */
  public static Map<String, String> kafkaKeys(Map<String, String> values) {
    Map<String, String> m = new java.util.HashMap<>();
    values.forEach(
        (k, v) -> {
          if (k.startsWith(KAFKA_PREFIX)) {
            m.put(k.substring(KAFKA_PREFIX.length()), v);
          }
        });
    return m;
  }

  /**
   * Keys every service sets itself from its own key of the same name: the Kafka bootstrap servers,
   * the schema registry client's and the serializer's.
   */
  public static final Set<String> OWN_KAFKA_KEYS =
      Set.of(
          "bootstrap.servers",
          "schema.registry.url",
          "basic.auth.user.info",
          "schema.registry.max.retries",
          "schema.registry.retry.backoff.ms",
          "schema.registry.retry.backoff.max.ms",
          "schema.registry.request.timeout.ms",
          "auto.register.schemas");

  /**
   * Refuses a {@code kafka.*} key that duplicates one of the service's own keys: {@code
   * kafka.bootstrap.servers} silently replaced the ranker's {@code bootstrap.servers}, and {@code
   * kafka.application.id} the streams app's {@code application.id}; elsewhere the service's own key
   * silently won. Either way one of the two was ignored.
   *
   * @param kafka the {@code kafka.*} keys without the prefix ({@link #kafkaKeys})
   * @param own the service's own key for each Kafka key it sets itself, besides {@link
   *     #OWN_KAFKA_KEYS} (each its own)
   * @param service what reads the map, for the message ("the ranker")
   * @throws IllegalArgumentException naming the {@code kafka.*} key and the service's key
   */
  public static void refuseKafkaDuplicates(
      Map<String, String> kafka, Map<String, String> own, String service) {
    for (String k : new TreeSet<>(kafka.keySet())) {
      String mine = own.containsKey(k) ? own.get(k) : OWN_KAFKA_KEYS.contains(k) ? k : null;
      if (mine != null) {
        throw new IllegalArgumentException(
            KAFKA_PREFIX
                + k
                + " duplicates "
                + mine
                + ", which "
                + service
                + " sets itself: give "
                + mine
                + " only");
      }
    }
  }

  /**
   * The value of {@code key} without leading or trailing whitespace, as numbers were already read:
   * a properties file keeps the spaces after a value, and {@code model.name=feed-ranker } matched
   * no model. {@code kafka.*} values are handed on as given ({@link #kafkaKeys}): Kafka trims its
   * own.
   */
  @Override
  public String get(Object key) {
    if (key instanceof String k) {
      read.add(k);
    }
    String v = values.get(key);
    return v == null ? null : v.trim();
  }

  @Override
  public boolean containsKey(Object key) {
    if (key instanceof String k) {
      read.add(k);
    }
    return values.containsKey(key);
  }

  @Override
  public Set<Entry<String, String>> entrySet() {
    return values.entrySet();
  }

  /**
   * Throws naming every key of the map that was not read and does not begin with one of {@code
   * passedOn} (keys handed on whole, such as {@code kafka.*}), with the read key each is nearest to
   * when one is within a few edits.
   *
   * @param service what reads the map, for the message ("the ranker")
   * @throws IllegalArgumentException when there is such a key
   */
  public void refuseUnread(String service, String... passedOn) {
    List<String> unknown = new ArrayList<>();
    for (String k : new TreeSet<>(values.keySet())) {
      if (read.contains(k) || startsWithAny(k, passedOn)) {
        continue;
      }
      String near = nearest(k);
      unknown.add(near == null ? k : k + " (did you mean " + near + "?)");
    }
    if (!unknown.isEmpty()) {
      throw new IllegalArgumentException(
          "unknown config "
              + (unknown.size() == 1 ? "key " : "keys ")
              + String.join(", ", unknown)
              + ": "
              + service
              + " reads no such key");
    }
  }

  private static boolean startsWithAny(String key, String[] prefixes) {
    for (String p : prefixes) {
      if (key.startsWith(p)) {
        return true;
      }
    }
    return false;
  }

  /** The read key fewest edits away, if it is at most a third of the key's length away. */
  private String nearest(String key) {
    String best = null;
    int bestDistance = Math.max(1, key.length() / 3) + 1;
    for (String k : new TreeSet<>(read)) {
      int d = distance(key, k);
      if (d < bestDistance) {
        best = k;
        bestDistance = d;
      }
    }
    return best;
  }

  /** Levenshtein distance: insertions, deletions and substitutions of one character. */
  static int distance(String a, String b) {
    int[] previous = new int[b.length() + 1];
    int[] current = new int[b.length() + 1];
    for (int j = 0; j <= b.length(); j++) {
      previous[j] = j;
    }
    for (int i = 1; i <= a.length(); i++) {
      current[0] = i;
      for (int j = 1; j <= b.length(); j++) {
        int substitute = previous[j - 1] + (a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1);
        current[j] = Math.min(substitute, Math.min(previous[j], current[j - 1]) + 1);
      }
      int[] t = previous;
      previous = current;
      current = t;
    }
    return previous[b.length()];
  }
}
