package io.feedrank.ranker;

/**
 * What {@code /v1/rank} answers: candidates ranked by score (ties keep the request's order), the
 * first {@code topK} of them.
 *
 * @param itemIds ranked item ids, best first
 * @param scores their scores, same order
 * @param variant production, staging or fallback
 * @param fallbackReason null, or why a fallback served (no_model, model_error, redis_unavailable,
 *     redis_circuit_open, bad_features)
 */
public record RankResult(
    String requestId,
    long userId,
    String modelName,
    String modelVersion,
    String variant,
    long[] itemIds,
    float[] scores,
    double latencyMs,
    String fallbackReason) {

  public boolean fallback() {
    return fallbackReason != null;
  }
}
