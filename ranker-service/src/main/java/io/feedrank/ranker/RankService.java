package io.feedrank.ranker;

import io.feedrank.events.RankingLog;
import io.feedrank.features.vector.ServingFeatures;
import io.feedrank.ranker.api.RankRequest;
import io.feedrank.ranker.features.CachingFeatureStore;
import io.feedrank.ranker.features.MalformedHashes;
import io.feedrank.ranker.features.Parsed;
import io.feedrank.ranker.logging.LineGate;
import io.feedrank.ranker.logging.RankingLogger;
import io.feedrank.ranker.models.ModelSlots;
import io.feedrank.ranker.models.ServingModel;
import io.feedrank.ranker.scoring.Batch;
import io.feedrank.ranker.scoring.ModelException;
import io.feedrank.ranker.scoring.PopularityScorer;
import io.feedrank.ranker.scoring.Scorer;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Ranks one request: features through the cache (one Redis round trip for what is missing), the
 * vectorizer, one batched model call, the ranking; falls back to stale or default features when
 * Redis fails and to popularity when no model can score, and says so. Logs what it served off the
 * request path.
 */
public final class RankService {
  /**
   * The lowest bucket of the request and inference latency histograms: Micrometer's default of 1 ms
   * would put most 100-candidate requests, about half a millisecond, in one bucket.
   */
  public static final Duration FINEST_BUCKET = Duration.ofNanos(50_000);

  private static final Logger log = LoggerFactory.getLogger(RankService.class);

  private final CachingFeatureStore features;
  private final ModelSlots models;
  private final RankingLogger<RankingLogs.Entry> logger;
  private final double logSampleRate;
  private final Scorer popularity = new PopularityScorer();
  private final MeterRegistry metrics;
  private final Timer inference;
  private final DistributionSummary candidates;
  private final Counter synthetic;
  private final Counter unserved;

  /** {@code ranker.fallbacks} by cause, then by the variant of the lease ({@link #variants}). */
  private final Map<String, Counter[]> fallbacks = new ConcurrentHashMap<>();

  static final String NO_MODEL = "no_model";
  static final String MODEL_ERROR = "model_error";

  /** Every {@code fallback_reason} a response can carry. */
  static final List<String> FALLBACK_CAUSES =
      List.of(
          NO_MODEL,
          MODEL_ERROR,
          CachingFeatureStore.REDIS_UNAVAILABLE,
          CachingFeatureStore.REDIS_CIRCUIT_OPEN,
          CachingFeatureStore.BAD_FEATURES);

  private final AtomicLong lastPredictionMillis = new AtomicLong(-1);

  /** Requests whose model failed since the last line that said so, and when the next is due. */
  private final AtomicLong modelFailures = new AtomicLong();

  private final LineGate modelFailureLines = new LineGate(Duration.ofMinutes(1));

  public RankService(
      CachingFeatureStore features,
      ModelSlots models,
      RankingLogger<RankingLogs.Entry> logger,
      double logSampleRate,
      MeterRegistry metrics) {
    this.features = features;
    this.models = models;
    this.logger = logger;
    this.logSampleRate = logSampleRate;
    this.metrics = metrics;
    this.inference =
        Timer.builder("ranker.inference.latency")
            .description(
                "the model scoring one request: building the rows it reads and its batched ONNX"
                    + " call (two-tower: cached item vectors, the towers for what is missing, dot"
                    + " products)")
            .publishPercentileHistogram()
            .minimumExpectedValue(FINEST_BUCKET)
            .register(metrics);
    this.candidates =
        DistributionSummary.builder("ranker.request.candidates")
            .publishPercentileHistogram()
            .minimumExpectedValue(1.0)
            .maximumExpectedValue((double) RankRequest.MAX_CANDIDATES)
            .register(metrics);
    // every cause and variant at 0 from the start, as ModelDirector does its refusals: a counter
    // first exported at 1 hides that fallback from increase() and the fallback-rate alert
    for (String cause : FALLBACK_CAUSES) {
      fallbacks.put(cause, variants(cause));
    }
    this.unserved =
        Counter.builder("ranker.ab.unserved")
            .description(
                "requests of users assigned to the staging share that no staging model served here"
                    + " (not loaded yet, or refused): served production, logged as assigned to"
                    + " staging")
            .register(metrics);
    this.synthetic =
        Counter.builder("ranker.requests.synthetic")
            .description(
                "rank requests marked synthetic (X-Feedrank-Synthetic: true), e.g. load tests")
            .register(metrics);
  }

  public RankResult rank(RankRequest req) {
    long t0 = System.nanoTime();
    candidates.record(req.itemIds().length);
    if (req.synthetic()) {
      synthetic.increment();
    }
    Batch batch = Batch.begin(req.itemIds(), req.atMillis());
    float[] scores = null;
    String reason;
    String modelName = "popularity";
    String version = "popularity";
    String variant = "fallback";
    // what the user was assigned and leased, whatever serves: the log keeps both
    ModelSlots.Lease lease = models.lease(req.userId());
    ServingModel leased = lease.model();
    if (lease.unserved()) {
      unserved.increment();
    }
    if (leased != null) {
      try (ModelSlots.Lease l = lease) {
        Scorer scorer = l.model().scorer();
        // a two-tower model holding fresh item vectors needs no item features for those rows
        reason = features(req, batch, scorer.cover(batch) > 0);
        try {
          long s0 = System.nanoTime();
          float[] s = scorer.score(batch);
          inference.record(System.nanoTime() - s0, TimeUnit.NANOSECONDS);
          requireFinite(s);
          scores = s;
          modelName = l.model().name();
          version = l.model().version();
          variant = l.variant().label();
        } catch (RuntimeException e) {
          modelFailed(l.model().version(), e);
          reason = MODEL_ERROR;
        }
      }
    } else {
      features(req, batch, false);
      reason = NO_MODEL;
    }
    if (scores == null) {
      batch.resolveAll(); // the covered rows' features, for popularity
      scores = popularity.score(batch);
    }
    if (reason == null && batch.defaultedRows() > 0) {
      reason = CachingFeatureStore.BAD_FEATURES;
    }
    if (reason != null) {
      fallbacks.computeIfAbsent(reason, this::variants)[lease.variant().ordinal()].increment();
    }
    int[] order = Ranking.order(scores, req.topK());
    long[] ids = new long[order.length];
    float[] ranked = new float[order.length];
    for (int k = 0; k < order.length; k++) {
      ids[k] = req.itemIds()[order[k]];
      ranked[k] = scores[order[k]];
    }
    double ms = (System.nanoTime() - t0) / 1e6;
    RankResult result =
        new RankResult(
            req.requestId(), req.userId(), modelName, version, variant, ids, ranked, ms, reason);
    lastPredictionMillis.set(System.currentTimeMillis());
    logger.offer(
        RankingLogs.entry(
            req,
            result,
            lease.assigned().label(),
            leased == null ? null : leased.name(),
            leased == null ? null : leased.version(),
            batch,
            logSampleRate));
    return result;
  }

  /**
   * The {@code ranker.fallbacks} counters of {@code cause}, one per variant of the lease (the slot
   * of the model that failed or served; production when none was loaded), in {@link
   * ModelSlots.Variant} order.
   */
  private Counter[] variants(String cause) {
    ModelSlots.Variant[] vs = ModelSlots.Variant.values();
    Counter[] out = new Counter[vs.length];
    for (ModelSlots.Variant v : vs) {
      out[v.ordinal()] =
          Counter.builder("ranker.fallbacks")
              .tag("cause", cause)
              .tag("variant", v.label())
              .register(metrics);
    }
    return out;
  }

  /**
   * Looks up the user's features and those of the candidates not covered, into the batch; the
   * covered rows' features are read through the cache if something needs them after all. Returns
   * the fallback reason of the lookup, or null.
   */
  private String features(RankRequest req, Batch batch, boolean someCovered) {
    long[] ids = req.itemIds();
    boolean[] skip = someCovered ? batch.coveredRowsMask() : null;
    CachingFeatureStore.Features f = features.get(req.userId(), ids, skip);
    String reason = f.fallbackReason();
    ServingFeatures sf = userFeatures(req, f.user());
    if (sf == null) {
      sf = userFeatures(req, Parsed.User.UNKNOWN);
      reason = reason == null ? CachingFeatureStore.BAD_FEATURES : reason;
    }
    batch.features(sf, f.items(), f.itemFetchedNanos(), someCovered ? features::items : null);
    return reason;
  }

  /**
   * The request's features of {@code user}, or null when they cannot be computed from the user's
   * state. The parse refuses the hashes we know features cannot be computed from ({@link Parsed});
   * a state it let through that still fails costs the user their features, said like an unreadable
   * hash, not the request a 500 (as a candidate's costs its row, {@link Batch}).
   */
  static ServingFeatures userFeatures(RankRequest req, Parsed.User user) {
    try {
      return new ServingFeatures(
          req.userId(), user.state(), user.profile(), req.atMillis(), req.device());
    } catch (RuntimeException e) {
      MalformedHashes.SHARED.cannotRead("user", req.userId(), e);
      return null;
    }
  }

  /**
   * Says that a model failed a request: the first at once, then at most one line a minute with how
   * many since and the last failure's stack trace. Every one is counted ({@code
   * ranker.fallbacks{cause="model_error"}}); a model failing every request wrote a line per request
   * (a thousand a second at load), none with its stack trace.
   */
  private void modelFailed(String version, RuntimeException e) {
    modelFailures.incrementAndGet();
    if (modelFailureLines.due(System.nanoTime(), false)) {
      log.warn(
          "ranker: {} request(s) ranked by popularity since the last such line, their model failing"
              + " (ranker.fallbacks{cause=\"model_error\"}); the last, model {}: {} (the next line"
              + " in a minute at the earliest)",
          modelFailures.getAndSet(0),
          version,
          e.toString(),
          e);
    }
  }

  /** Epoch millis of the last answered request, or −1. */
  public long lastPredictionMillis() {
    return lastPredictionMillis.get();
  }

  public static RankingLog toRecord(RankingLogs.Entry e) {
    return RankingLogs.toRecord(e);
  }

  /**
   * A model that returns NaN or an infinity (weights gone bad, an overflow) has failed: such a
   * score cannot be ranked, and JSON has no number for it.
   */
  private static void requireFinite(float[] scores) {
    for (int k = 0; k < scores.length; k++) {
      if (!Float.isFinite(scores[k])) {
        throw new ModelException("score " + scores[k] + " for row " + k + " is not finite");
      }
    }
  }
}
