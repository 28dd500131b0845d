package io.feedrank.ranker.api;

import io.feedrank.events.Device;

/**
 * A validated ranking request (DESIGN §6).
 *
 * @param requestId the client's request id, or one generated for it
 * @param itemIds 1 to {@value #MAX_CANDIDATES} distinct non-negative ids, in the client's order
 * @param atMillis the request's context time (the client's timestamp, else now), epoch millis
 * @param topK how many predictions to return (≤ the number of candidates)
 * @param synthetic the client marked the request synthetic (a load test): ranked like any other,
 *     its ranking log says so, and the drift job leaves it out
 */
public record RankRequest(
    String requestId,
    long userId,
    long[] itemIds,
    Device device,
    long atMillis,
    int topK,
    boolean synthetic) {
  public static final int MAX_CANDIDATES = 1_000;

  /** A request not marked synthetic. */
  public RankRequest(
      String requestId, long userId, long[] itemIds, Device device, long atMillis, int topK) {
    this(requestId, userId, itemIds, device, atMillis, topK, false);
  }

  /** This request, marked synthetic. */
  public RankRequest asSynthetic() {
    return synthetic
        ? this
        : new RankRequest(requestId, userId, itemIds, device, atMillis, topK, true);
  }
}
