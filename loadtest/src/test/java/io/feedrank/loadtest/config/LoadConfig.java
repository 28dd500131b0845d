package io.feedrank.loadtest.config;

import io.feedrank.simulator.SimulatorConfig;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A load test's settings, from system properties (so the same simulation runs as a smoke test, a
 * benchmark or a soak): {@code target} [the ranker of the running {@code ./feedrank up}, else
 * http://localhost:8080: see {@link #target}; {@code http(s)://host[:port]}, trailing slashes
 * dropped], the API key from the environment's {@code FEEDRANK_API_KEY} or the file {@code
 * api.key.file} names [none: no header; never a property, which any user of the machine sees on the
 * command line], {@code candidates} [100; 10, 100 or 1000 in the benchmarks], {@code top.k} [10],
 * {@code rate} [requests/s, 100], {@code max.rate} [ramp's end, 1000: the default rate limit of a
 * ranker; at least {@code rate}], {@code duration} [seconds, 60], {@code ramp.duration} [seconds,
 * 120], {@code spike.factor} [10], {@code soak.duration} [seconds, 3600], {@code warmup} [seconds,
 * 10; 0 = none], {@code arrivals} [poisson; or uniform: see {@link Arrivals}], {@code
 * assert.p99.ms} [50; 0 = no p99 bound], {@code assert.error.percent} [0], {@code
 * assert.fallback.percent} [0: the rank requests answered with a fallback, warm-up included, that a
 * passing run may have; see {@code endpoints.Fallbacks}], {@code ranker.replicas} [1: the rankers
 * the target balances over, each with its rate limit: the pre-flight's bound on the peak rate],
 * {@code users} / {@code items} [1000 / 2000, the population of ./feedrank up and demo], {@code
 * seed} [1].
 *
 * <p>The warm-up runs before the measured load, in the same Gatling JVM, with arrivals rising from
 * a tenth of {@code rate} (at least 1/s) to {@code rate}. Its requests are reported under their own
 * name ({@link #WARM_UP_PREFIX}) and the p99 bound does not apply to them: a Gatling JVM starts
 * cold, and in the first seconds of a run at a few hundred requests/s its own start (connections,
 * class loading, the JIT) made every request take over 300 ms, whatever the ranker did.
 */
public record LoadConfig(
    String target,
    String apiKey,
    int candidates,
    int topK,
    double rate,
    double maxRate,
    Duration duration,
    Duration rampDuration,
    double spikeFactor,
    Duration soakDuration,
    Duration warmup,
    Arrivals arrivals,
    int p99Millis,
    double maxErrorPercent,
    double maxFallbackPercent,
    int rankerReplicas,
    int users,
    int items,
    long seed) {

  private static final Logger LOG = LoggerFactory.getLogger(LoadConfig.class);

  /** What the warm-up's requests are called in front of the measured request's name. */
  public static final String WARM_UP_PREFIX = "warm-up: ";

  /**
   * How arrivals are spaced. Real traffic's are independent of each other, so some come close
   * together: Poisson arrivals (Gatling's {@code randomized()}: exponential gaps at the profile's
   * rate) queue at times as production's do; evenly spaced ones never do, so they report a kinder
   * tail than production sees. Uniform is for counting arrivals exactly (the smoke test's
   * closed-form counts).
   */
  public enum Arrivals {
    POISSON,
    UNIFORM;

    static Arrivals of(String value) {
      for (Arrivals a : values()) {
        if (a.name().equalsIgnoreCase(value.trim())) {
          return a;
        }
      }
      throw new IllegalArgumentException(
          "arrivals must be poisson or uniform, got '" + value + "'");
    }
  }

  public static LoadConfig fromSystemProperties() {
    return new LoadConfig(
        target(System.getProperty("target"), System.getenv()),
        apiKey(System.getenv(), System.getProperty("api.key.file")),
        intOf("candidates", 100),
        intOf("top.k", 10),
        decimal("rate", 100),
        // the default rate limit of a ranker (rate.limit.per.second): 2000 ran into 429s halfway
        // through a default ramp against ./feedrank up
        decimal("max.rate", 1000),
        seconds("duration", 60),
        seconds("ramp.duration", 120),
        decimal("spike.factor", 10),
        seconds("soak.duration", 3600),
        seconds("warmup", 10),
        Arrivals.of(System.getProperty("arrivals", "poisson")),
        intOf("assert.p99.ms", 50),
        decimal("assert.error.percent", 0),
        decimal("assert.fallback.percent", 0),
        intOf("ranker.replicas", 1),
        intOf("users", SimulatorConfig.DEMO_USERS),
        intOf("items", SimulatorConfig.DEMO_ITEMS),
        whole("seed", 1));
  }

  /** The target when none is given and no {@code ./feedrank up} runs. */
  static final String DEFAULT_TARGET = "http://localhost:8080";

  /**
   * The ranker to load: {@code given} (the {@code target} property, {@code --target}), else the one
   * the running {@code ./feedrank up} of the checkout ({@code FEEDRANK_HOME}, set by the launcher)
   * announced as {@code ranker.url} in its {@code .feedrank/stack.properties}, else {@value
   * #DEFAULT_TARGET}; logged with where it came from. That up's ranker takes a random port when
   * 8080 is taken, and a default of 8080 then loaded whatever listened there.
   */
  static String target(String given, Map<String, String> env) {
    if (given != null) {
      LOG.info("loadtest: target {} (given)", given);
      return given;
    }
    Path state = Path.of(env.getOrDefault("FEEDRANK_HOME", "."), ".feedrank").toAbsolutePath();
    Optional<String> up = RunningUp.rankerUrl(state);
    if (up.isPresent()) {
      LOG.info(
          "loadtest: target {}, the ranker of the running ./feedrank up ({})",
          up.get(),
          state.resolve("stack.properties"));
      return up.get();
    }
    LOG.info("loadtest: target {} (no ./feedrank up runs from {})", DEFAULT_TARGET, state);
    return DEFAULT_TARGET;
  }

  /**
   * {@code target} as the base URL of the requests: {@code http(s)://host[:port]}, its trailing
   * slashes dropped. With one, every request went to {@code //v1/rank}, a 404 for the whole run; a
   * target without a scheme ({@code localhost:8080}) or with a path is refused, naming it.
   */
  static String normalisedTarget(String target) {
    String t = target.trim();
    while (t.endsWith("/")) {
      t = t.substring(0, t.length() - 1);
    }
    URI uri;
    try {
      uri = new URI(t);
    } catch (URISyntaxException e) {
      uri = null;
    }
    if (uri == null
        || uri.getScheme() == null
        || !List.of("http", "https").contains(uri.getScheme().toLowerCase(Locale.ROOT))
        || uri.getHost() == null
        || uri.getRawUserInfo() != null
        || !uri.getRawPath().isEmpty()
        || uri.getRawQuery() != null
        || uri.getRawFragment() != null) {
      throw new IllegalArgumentException(
          "target must be http://host[:port] or https://host[:port], got '" + target + "'");
    }
    return t;
  }

  /**
   * A property's whole number, or {@code dflt} when it is not set; a value that is not one ({@code
   * 5m}, {@code 20ms}) is refused naming the property, where {@link Long#getLong} would quietly
   * take the default.
   */
  static long whole(String name, long dflt) {
    String v = System.getProperty(name);
    if (v == null) {
      return dflt;
    }
    try {
      return Long.parseLong(v.trim());
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(name + " must be a whole number, got '" + v + "'");
    }
  }

  /** A property's finite number, or {@code dflt} when it is not set. */
  static double decimal(String name, double dflt) {
    String v = System.getProperty(name);
    if (v == null) {
      return dflt;
    }
    try {
      double d = Double.parseDouble(v.trim());
      if (Double.isFinite(d)) {
        return d;
      }
    } catch (NumberFormatException e) {
      // refused below
    }
    throw new IllegalArgumentException(name + " must be a number, got '" + v + "'");
  }

  private static int intOf(String name, int dflt) {
    long v = whole(name, dflt);
    if (v > Integer.MAX_VALUE || v < Integer.MIN_VALUE) {
      throw new IllegalArgumentException(name + " is out of range: " + v);
    }
    return (int) v;
  }

  /** Whole seconds: {@code 300}, not {@code 5m}. */
  private static Duration seconds(String name, long dflt) {
    return Duration.ofSeconds(whole(name, dflt));
  }

  /** The environment variable that holds the API key. */
  public static final String API_KEY_ENV = "FEEDRANK_API_KEY";

  /**
   * The API key: {@code FEEDRANK_API_KEY}, else the first line of {@code file}, else none. A key
   * given as the {@code api.key} property is refused: it would be on the command line.
   */
  static String apiKey(java.util.Map<String, String> env, String file) {
    if (System.getProperty("api.key") != null) {
      throw new IllegalArgumentException(
          "api.key is not read from a property, which every user of the machine sees on the"
              + " command line: set "
              + API_KEY_ENV
              + " or give api.key.file");
    }
    String key = env.get(API_KEY_ENV);
    if (key != null && !key.isBlank()) {
      return key.trim();
    }
    if (file == null || file.isBlank()) {
      return "";
    }
    try {
      return java.nio.file.Files.readAllLines(java.nio.file.Path.of(file)).stream()
          .map(String::trim)
          .filter(l -> !l.isEmpty())
          .findFirst()
          .orElseThrow(() -> new IllegalArgumentException("api.key.file " + file + " is empty"));
    } catch (java.io.IOException e) {
      throw new IllegalArgumentException("cannot read api.key.file " + file + ": " + e, e);
    }
  }

  public LoadConfig {
    target = normalisedTarget(target);
    if (candidates < 1 || candidates > 1_000) {
      throw new IllegalArgumentException("candidates must be within 1..1000, got " + candidates);
    }
    if (candidates > items / 2) {
      // the feeder draws distinct candidates from the items, at most half of them
      throw new IllegalArgumentException(
          "candidates must be at most half the items (" + items + "), got " + candidates);
    }
    if (topK < 1) {
      throw new IllegalArgumentException("top.k must be >= 1, got " + topK);
    }
    for (var d :
        java.util.Map.of(
                "duration", duration,
                "ramp.duration", rampDuration,
                "soak.duration", soakDuration)
            .entrySet()) {
      if (d.getValue().isNegative() || d.getValue().isZero()) {
        throw new IllegalArgumentException(
            d.getKey() + " must be > 0 seconds, got " + d.getValue().toSeconds());
      }
    }
    if (!(rate > 0)) {
      throw new IllegalArgumentException("rate must be > 0, got " + rate);
    }
    if (!(maxRate > 0)) {
      throw new IllegalArgumentException("max.rate must be > 0, got " + maxRate);
    }
    if (!(spikeFactor >= 1)) {
      throw new IllegalArgumentException("spike.factor must be >= 1, got " + spikeFactor);
    }
    if (!(maxErrorPercent >= 0 && maxErrorPercent <= 100)) {
      throw new IllegalArgumentException(
          "assert.error.percent must be within 0..100, got " + maxErrorPercent);
    }

    if (!(maxFallbackPercent >= 0 && maxFallbackPercent <= 100)) {
      throw new IllegalArgumentException(
          "assert.fallback.percent must be within 0..100, got " + maxFallbackPercent);
    }
    if (rankerReplicas < 1) {
      throw new IllegalArgumentException("ranker.replicas must be >= 1, got " + rankerReplicas);
    }
    if (users < 1 || items < 1) {
      throw new IllegalArgumentException(
          "users and items must be >= 1, got " + users + " and " + items);
    }
    if (p99Millis < 0) {
      throw new IllegalArgumentException(
          "assert.p99.ms must be >= 0 (0: no p99 bound), got " + p99Millis);
    }
    if (warmup.isNegative()) {
      throw new IllegalArgumentException("warmup must be >= 0 seconds, got " + warmup);
    }
  }

  /** The warm-up's first arrival rate: a tenth of {@code rate}, at least one request/s. */
  public double warmupStartRate() {
    return Math.min(rate, Math.max(1.0, rate / 10));
  }

  /**
   * The ramp's end, {@code max.rate}, refused below {@code rate}: a ramp from 2,500/s with the
   * default max.rate ramped down, which nobody asked for.
   */
  public double rampEndRate() {
    if (maxRate < rate) {
      throw new IllegalArgumentException(
          "max.rate must be >= rate for a ramp, got " + maxRate + " < " + rate);
    }
    return maxRate;
  }
}
