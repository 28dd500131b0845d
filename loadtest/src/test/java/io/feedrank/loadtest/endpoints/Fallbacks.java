package io.feedrank.loadtest.endpoints;

import java.util.Locale;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;
import java.util.stream.Collectors;

/**
 * A run's rank requests, and those answered with a fallback ({@code "fallback": true}: ranked by
 * popularity, or scored on default features, instead of by the model on the request's features), by
 * {@code fallback_reason}. A ranker with no model, with Redis down or with a model that fails on
 * every request answers 200 with its cheap fallback: a run that counted those as successes measured
 * the fallback and passed.
 *
 * <p>One per JVM, {@link #OF_RUN}: Gatling makes the simulation, so the entry point resets it
 * before a run and reads it after. Warm-up requests count, as they do for the error bound.
 */
public final class Fallbacks {
  public static final Fallbacks OF_RUN = new Fallbacks();

  private final LongAdder requests = new LongAdder();
  private final Map<String, LongAdder> byReason = new ConcurrentHashMap<>();

  Fallbacks() {}

  public void reset() {
    requests.reset();
    byReason.clear();
  }

  /** One rank request: {@code reason} when it was answered with a fallback, else null. */
  void record(String reason) {
    requests.increment();
    if (reason != null) {
      byReason.computeIfAbsent(reason, r -> new LongAdder()).increment();
    }
  }

  public Summary summary() {
    SortedMap<String, Long> counts = new TreeMap<>();
    byReason.forEach((reason, n) -> counts.put(reason, n.sum()));
    return new Summary(requests.sum(), counts);
  }

  /** The rank requests of a run and its fallbacks by reason. */
  public record Summary(long requests, SortedMap<String, Long> byReason) {
    public long fallbacks() {
      return byReason.values().stream().mapToLong(Long::longValue).sum();
    }

    /** Fallbacks per hundred rank requests; 0 for none. */
    public double percent() {
      return requests == 0 ? 0 : 100.0 * fallbacks() / requests;
    }

    @Override
    public String toString() {
      if (fallbacks() == 0) {
        return "no fallback among " + requests + " rank requests";
      }
      return String.format(
          Locale.ROOT,
          "%d of %d rank requests (%.1f%%) answered with a fallback, not the model's ranking: %s",
          fallbacks(),
          requests,
          percent(),
          byReason.entrySet().stream()
              .map(e -> e.getKey() + " " + e.getValue())
              .collect(Collectors.joining(", ")));
    }
  }
}
