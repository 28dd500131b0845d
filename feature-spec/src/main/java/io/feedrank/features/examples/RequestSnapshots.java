package io.feedrank.features.examples;

import io.feedrank.events.InteractionEvent;
import io.feedrank.features.state.UserState;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The user side of a training example as the ranker saw it: the ranker scored every candidate of a
 * request with the user's features as of the request, so the impressions of one served feed all get
 * the user's state from before the request's first event, not one that already holds the feed's
 * earlier impressions and clicks. Without this, position 1 of a feed whose position 0 was clicked
 * learned from a click a moment ago ({@code u_hours_since_last_seen} ≈ 0, one more click in the
 * hour, a category clicked a millisecond ago): values that never occur at serving, and a session's
 * click propensity leaking from one sibling into the next.
 *
 * <p>Per user, the state as of the first event of the user's latest request ({@code request_id}),
 * kept while the request's events follow; an event without a request id, or of another request,
 * uses the state as it is. Held in memory for the last {@value #USERS} users to start a request; a
 * request whose events are interleaved with so many others' that its snapshot went, or that spans a
 * restart of the app, gets the state as it is for the rest of its events, as before. Not
 * thread-safe.
 */
public final class RequestSnapshots {
  /** How many users' latest requests are held. */
  public static final int USERS = 2_048;

  private record Snapshot(String requestId, UserState state) {}

  private final Map<Long, Snapshot> byUser =
      new LinkedHashMap<>(256, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<Long, Snapshot> eldest) {
          return size() > USERS;
        }
      };

  /**
   * The state whose features {@code e} gets: {@code current} (the user's state before {@code e}),
   * unless {@code e} continues the request an earlier event of the user started, then the state
   * from before that request. Call it before adding {@code e} to {@code current}.
   */
  public UserState before(InteractionEvent e, UserState current) {
    CharSequence request = e.getRequestId();
    if (request == null) {
      byUser.remove(e.getUserId());
      return current;
    }
    Snapshot s = byUser.get(e.getUserId());
    String id = request.toString();
    if (s != null && s.requestId().equals(id)) {
      return s.state();
    }
    byUser.put(e.getUserId(), new Snapshot(id, UserState.fromBytes(current.toBytes())));
    return current;
  }
}
