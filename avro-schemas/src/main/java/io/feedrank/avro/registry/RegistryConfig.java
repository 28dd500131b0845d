package io.feedrank.avro.registry;

import java.net.URI;
import java.time.Duration;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.stream.Collectors;

/**
 * How to reach a Confluent-API schema registry.
 *
 * @param urls one or more base URLs (e.g. {@code http://127.0.0.1:8081/apis/ccompat/v7}); tried in
 *     order on connection failures
 * @param basicAuthUserInfo {@code user:password} for HTTP basic auth, or null
 * @param maxRetries attempts after the first one, for connection failures, 5xx and 429
 * @param initialBackoff wait before the first retry; doubles up to {@code maxBackoff}
 * @param maxBackoff cap of the wait between retries
 * @param requestTimeout timeout of one HTTP request
 */
public record RegistryConfig(
    List<URI> urls,
    String basicAuthUserInfo,
    int maxRetries,
    Duration initialBackoff,
    Duration maxBackoff,
    Duration requestTimeout) {

  /** Comma-separated base URLs. */
  public static final String URL = "schema.registry.url";

  /** {@code user:password}. */
  public static final String BASIC_AUTH_USER_INFO = "basic.auth.user.info";

  public static final String MAX_RETRIES = "schema.registry.max.retries";
  public static final String RETRY_BACKOFF_MS = "schema.registry.retry.backoff.ms";
  public static final String RETRY_BACKOFF_MAX_MS = "schema.registry.retry.backoff.max.ms";
  public static final String REQUEST_TIMEOUT_MS = "schema.registry.request.timeout.ms";

  public RegistryConfig {
    Objects.requireNonNull(urls, "urls");
    if (urls.isEmpty()) {
      throw new IllegalArgumentException(URL + " must name at least one URL");
    }
    for (URI u : urls) {
      if (u.getRawUserInfo() != null) {
        throw credentials();
      }
      if (!"http".equals(u.getScheme()) && !"https".equals(u.getScheme())) {
        throw new IllegalArgumentException(URL + " must be http(s), got '" + u + "'");
      }
    }
    urls = List.copyOf(urls);
    if (basicAuthUserInfo != null && !basicAuthUserInfo.contains(":")) {
      throw new IllegalArgumentException(BASIC_AUTH_USER_INFO + " must be user:password");
    }
    if (maxRetries < 0 || maxRetries > 20) {
      throw new IllegalArgumentException(MAX_RETRIES + " must be within 0..20, got " + maxRetries);
    }
    requirePositive(initialBackoff, RETRY_BACKOFF_MS);
    requirePositive(maxBackoff, RETRY_BACKOFF_MAX_MS);
    if (initialBackoff.compareTo(maxBackoff) > 0) {
      throw new IllegalArgumentException(
          RETRY_BACKOFF_MS
              + " ("
              + initialBackoff.toMillis()
              + ") must not exceed "
              + RETRY_BACKOFF_MAX_MS
              + " ("
              + maxBackoff.toMillis()
              + ")");
    }
    requirePositive(requestTimeout, REQUEST_TIMEOUT_MS);
  }

  /** Defaults: 5 retries, 100 ms backoff doubling to 2 s, 10 s request timeout, no auth. */
  public static RegistryConfig of(String urls) {
    return new RegistryConfig(
        parseUrls(urls),
        null,
        5,
        Duration.ofMillis(100),
        Duration.ofSeconds(2),
        Duration.ofSeconds(10));
  }

  /**
   * Reads the keys above from a Kafka-style config map (values may be strings or numbers).
   *
   * @throws IllegalArgumentException naming the key when a value is missing or malformed
   */
  public static RegistryConfig fromMap(Map<String, ?> configs) {
    Object url = configs.get(URL);
    if (url == null || url.toString().isBlank()) {
      throw new IllegalArgumentException("missing config " + URL);
    }
    RegistryConfig d = of(url.toString());
    Object auth = configs.get(BASIC_AUTH_USER_INFO);
    return new RegistryConfig(
        d.urls(),
        auth == null || auth.toString().isBlank() ? null : auth.toString(),
        intValue(configs, MAX_RETRIES, d.maxRetries()),
        Duration.ofMillis(intValue(configs, RETRY_BACKOFF_MS, (int) d.initialBackoff().toMillis())),
        Duration.ofMillis(intValue(configs, RETRY_BACKOFF_MAX_MS, (int) d.maxBackoff().toMillis())),
        Duration.ofMillis(
            intValue(configs, REQUEST_TIMEOUT_MS, (int) d.requestTimeout().toMillis())));
  }

  /**
   * This config as the Kafka-style map {@link #fromMap} reads, every key set: what a service hands
   * its serdes, so that they reach the registry as the service does (its retries included).
   */
  public Map<String, String> toMap() {
    Map<String, String> m = new LinkedHashMap<>();
    m.put(URL, urls.stream().map(URI::toString).collect(Collectors.joining(",")));
    if (basicAuthUserInfo != null) {
      m.put(BASIC_AUTH_USER_INFO, basicAuthUserInfo);
    }
    m.put(MAX_RETRIES, Integer.toString(maxRetries));
    m.put(RETRY_BACKOFF_MS, Long.toString(initialBackoff.toMillis()));
    m.put(RETRY_BACKOFF_MAX_MS, Long.toString(maxBackoff.toMillis()));
    m.put(REQUEST_TIMEOUT_MS, Long.toString(requestTimeout.toMillis()));
    return m;
  }

  /** This config with basic auth. */
  public RegistryConfig withBasicAuth(String userInfo) {
    return new RegistryConfig(
        urls, userInfo, maxRetries, initialBackoff, maxBackoff, requestTimeout);
  }

  /** This config with another retry policy. */
  public RegistryConfig withRetries(int retries, Duration initial, Duration max) {
    return new RegistryConfig(urls, basicAuthUserInfo, retries, initial, max, requestTimeout);
  }

  @Override
  public String toString() {
    // never print the password
    return "RegistryConfig[urls=" + urls + ", basicAuth=" + (basicAuthUserInfo != null) + "]";
  }

  private static List<URI> parseUrls(String urls) {
    return Arrays.stream(urls.split(","))
        .map(String::trim)
        .filter(s -> !s.isEmpty())
        .map(RegistryConfig::parseUrl)
        .toList();
  }

  private static URI parseUrl(String url) {
    // before anything repeats the URL: the JDK's client sends no credentials from a URL, and the
    // URL is in every message and log line about the registry, so a password there would be
    // logged and the requests refused; whether or not the rest of the URL parses
    int authority = url.indexOf("://");
    int end = url.indexOf('/', authority < 0 ? 0 : authority + 3);
    String head = url.substring(0, end < 0 ? url.length() : end);
    if (head.indexOf('@') >= 0) {
      throw credentials();
    }
    String u = url;
    while (u.endsWith("/")) {
      u = u.substring(0, u.length() - 1);
    }
    try {
      URI uri = new URI(u);
      if (uri.getHost() == null) {
        throw new IllegalArgumentException(
            URL + " must be an http(s) URL with a host, got '" + url + "'");
      }
      return uri;
    } catch (java.net.URISyntaxException e) {
      throw new IllegalArgumentException(
          URL + " is not a valid URL: '" + url + "' (" + e.getReason() + ")", e);
    }
  }

  private static IllegalArgumentException credentials() {
    return new IllegalArgumentException(
        URL + " must not carry credentials (user:password@): give them as " + BASIC_AUTH_USER_INFO);
  }

  private static int intValue(Map<String, ?> configs, String key, int dflt) {
    Object v = configs.get(key);
    if (v == null) {
      return dflt;
    }
    try {
      // Long first, so an out-of-range value is refused rather than wrapped around
      long l =
          v instanceof Integer || v instanceof Long || v instanceof Short
              ? ((Number) v).longValue()
              : Long.parseLong(v.toString().trim());
      if (l < Integer.MIN_VALUE || l > Integer.MAX_VALUE) {
        throw new IllegalArgumentException(key + " is out of range: " + v);
      }
      return (int) l;
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(key + " must be an integer, got '" + v + "'", e);
    }
  }

  private static void requirePositive(Duration d, String key) {
    if (d == null || d.isNegative() || d.isZero()) {
      throw new IllegalArgumentException(key + " must be > 0, got " + d);
    }
  }
}
