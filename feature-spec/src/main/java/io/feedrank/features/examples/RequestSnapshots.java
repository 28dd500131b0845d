package io.feedrank.features.examples;

import io.feedrank.events.InteractionEvent;
import io.feedrank.features.state.UserState;
import java.io.EOFException;
import java.io.UncheckedIOException;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * The user side of a training example as the ranker saw it: the ranker scored every candidate of a
 * request with the user's features as of the request, so the impressions of one served feed all get
 * the user's state from before the request's first event, not one that already holds the feed's
 * earlier impressions and clicks. Without this, position 1 of a feed whose position 0 was clicked
 * learned from a click a moment ago ({@code u_hours_since_last_seen} ≈ 0, one more click in the
 * hour, a category clicked a millisecond ago): values that never occur at serving, and a session's
 * click propensity leaking from one sibling into the next.
 *
 * <p>One user's snapshots: for each of the user's latest {@value #REQUESTS} requests ({@code
 * request_id}), the user's state as of the request's first event (its bytes; the older ones only
 * within {@link #MAX_STATE_BYTES}) and that event's time. A value of its own, kept per user in a
 * changelogged state store by the streams app and in a map by {@link PointInTimeExamples}, so the
 * same events give the same examples in both, across restarts and reprocessing. An event without a
 * request id neither uses nor changes it. A snapshot is dropped, when the user's next event of a
 * request comes, once its first event is more than {@link #MAX_AGE_MILLIS} older than that event.
 * The ids of the latest {@value #REMEMBERED} requests are kept beyond their snapshots, so that an
 * event of a request whose snapshot went is known as such ({@link Seen#missed}). Not thread-safe.
 */
public final class RequestSnapshots {
  /**
   * Requests with a snapshot per user: an infinite scroll fetches page 2, even 3, while the
   * impressions of page 1 are still being logged, and a click comes after those; a few cover it,
   * and each costs a copy of the user's state.
   */
  public static final int REQUESTS = 4;

  /** Requests whose id is kept per user, with or without a snapshot: some 50 bytes each. */
  public static final int REMEMBERED = 16;

  /**
   * How long after its first event a request's snapshot is kept, in event time: no feed's events
   * (impressions logged as the user scrolls, a click or a long dwell after) span an hour.
   */
  public static final long MAX_AGE_MILLIS = 3_600_000L;

  /**
   * The most bytes of state the snapshots of one user hold, the latest one whatever its size: a
   * quarter of the producer's default {@code max.request.size}, so the store's record of a user
   * whose state is large, and whose every snapshot is as large, can still be committed. Only a user
   * with hundreds of long-named categories reaches it.
   */
  public static final int MAX_STATE_BYTES = 256 * 1024;

  private static final byte CODEC_VERSION = 1;

  /**
   * What {@link #before} found for an event.
   *
   * @param state the state whose features the event gets (not to be changed)
   * @param changed whether the snapshots changed, so the store must be written
   * @param missed whether the event's request had been seen but its snapshot was no longer kept
   *     (past {@link #REQUESTS} later requests of the user, or {@link #MAX_STATE_BYTES}): the event
   *     got the state as it is
   */
  public record Seen(UserState state, boolean changed, boolean missed) {}

  /** One request: its snapshot's bytes, or null once dropped, and the snapshot read once. */
  private static final class Snapshot {
    final String requestId;
    final long firstEventMillis;
    byte[] state;
    UserState read;

    Snapshot(String requestId, long firstEventMillis, byte[] state) {
      this.requestId = requestId;
      this.firstEventMillis = firstEventMillis;
      this.state = state;
    }
  }

  /** Oldest first. */
  private final List<Snapshot> requests = new ArrayList<>();

  /**
   * The state whose features {@code e} gets: {@code current} (the user's state before {@code e}),
   * unless {@code e} continues a request an earlier event of the user started, then the state from
   * before that request. Takes a snapshot of {@code current} when {@code e} starts a request. Call
   * it before adding {@code e} to {@code current}.
   */
  public Seen before(InteractionEvent e, UserState current) {
    CharSequence request = e.getRequestId();
    if (request == null) {
      return new Seen(current, false, false);
    }
    long t = e.getEventTime().toEpochMilli();
    boolean changed = requests.removeIf(s -> s.firstEventMillis < t - MAX_AGE_MILLIS);
    String id = request.toString();
    for (int i = requests.size() - 1; i >= 0; i--) {
      Snapshot s = requests.get(i);
      if (s.requestId.equals(id)) {
        if (s.state == null) {
          return new Seen(current, changed, true);
        }
        if (s.read == null) {
          s.read = UserState.fromBytes(s.state);
        }
        return new Seen(s.read, changed, false);
      }
    }
    requests.add(new Snapshot(id, t, current.toBytes()));
    bound();
    return new Seen(current, true, false);
  }

  /**
   * Drops the snapshots past the latest {@link #REQUESTS} or the bytes, the ids past the rest; and
   * the older requests' snapshots as read, which only an interleaved event reads again: a user's
   * events mostly continue their latest request, and the store keeps thousands of users' values.
   */
  private void bound() {
    int kept = 0;
    long bytes = 0;
    for (int i = requests.size() - 1; i >= 0; i--) {
      Snapshot s = requests.get(i);
      s.read = null;
      if (s.state == null) {
        continue;
      }
      bytes += s.state.length;
      if (kept < REQUESTS && (kept == 0 || bytes <= MAX_STATE_BYTES)) {
        kept++;
      } else {
        s.state = null;
      }
    }
    if (requests.size() > REMEMBERED) {
      requests.subList(0, requests.size() - REMEMBERED).clear();
    }
  }

  // ---- state-store bytes: version, count, then per request its id, first event time, state ----

  public byte[] toBytes() {
    int size = 1 + 4;
    byte[][] ids = new byte[requests.size()][];
    for (int i = 0; i < ids.length; i++) {
      Snapshot s = requests.get(i);
      ids[i] = s.requestId.getBytes(StandardCharsets.UTF_8);
      size += 4 + ids[i].length + 8 + 4 + (s.state == null ? 0 : s.state.length);
    }
    ByteBuffer out = ByteBuffer.allocate(size);
    out.put(CODEC_VERSION);
    out.putInt(ids.length);
    for (int i = 0; i < ids.length; i++) {
      Snapshot s = requests.get(i);
      out.putInt(ids[i].length).put(ids[i]);
      out.putLong(s.firstEventMillis);
      if (s.state == null) {
        out.putInt(-1);
      } else {
        out.putInt(s.state.length).put(s.state);
      }
    }
    return out.array();
  }

  public static RequestSnapshots fromBytes(byte[] data) {
    try {
      ByteBuffer in = ByteBuffer.wrap(data);
      if (in.get() != CODEC_VERSION) {
        throw new IllegalArgumentException(
            "RequestSnapshots bytes of codec version " + data[0] + ", expected " + CODEC_VERSION);
      }
      RequestSnapshots r = new RequestSnapshots();
      int n = in.getInt();
      for (int i = 0; i < n; i++) {
        byte[] id = new byte[in.getInt()];
        in.get(id);
        long first = in.getLong();
        int length = in.getInt();
        byte[] state = null;
        if (length >= 0) {
          state = new byte[length];
          in.get(state);
        }
        r.requests.add(new Snapshot(new String(id, StandardCharsets.UTF_8), first, state));
      }
      return r;
    } catch (BufferUnderflowException | NegativeArraySizeException e) {
      throw new UncheckedIOException(
          "corrupt RequestSnapshots bytes",
          new EOFException("truncated: " + data.length + " bytes"));
    }
  }
}
