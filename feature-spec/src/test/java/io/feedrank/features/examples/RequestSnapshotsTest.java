package io.feedrank.features.examples;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.feedrank.events.Device;
import io.feedrank.events.InteractionEvent;
import io.feedrank.features.state.UserState;
import java.io.UncheckedIOException;
import java.time.Instant;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/**
 * One user's request snapshots: which state an event gets, what is kept (the latest {@value
 * RequestSnapshots#REQUESTS} requests, an hour), what is counted as missed, and the store's bytes.
 * The expected states are plain {@link UserState}s built here from the events.
 */
class RequestSnapshotsTest {
  static final long MINUTE = 60_000L;
  static final long T0 = Instant.parse("2026-11-02T08:00:00Z").toEpochMilli();

  static InteractionEvent event(long t, String request) {
    return InteractionEvent.newBuilder()
        .setInteractionId("e-" + t)
        .setUserId(7)
        .setItemId(1)
        .setEventTime(Instant.ofEpochMilli(t))
        .setClick(true)
        .setLike(false)
        .setShare(false)
        .setDwellSeconds(10f)
        .setDevice(Device.MOBILE)
        .setRequestId(request)
        .setPosition(request == null ? null : 0)
        .build();
  }

  /** The user's state, and a snapshots value fed the same events as the app would. */
  final UserState state = new UserState();

  final RequestSnapshots snapshots = new RequestSnapshots();

  /** What {@link #snapshots} found for an event, its state copied before the event is added. */
  RequestSnapshots.Seen next(long t, String request) {
    InteractionEvent e = event(t, request);
    RequestSnapshots.Seen seen = snapshots.before(e, state);
    seen = new RequestSnapshots.Seen(copy(seen.state()), seen.changed(), seen.missed());
    state.add(e, "sports");
    return seen;
  }

  static UserState copy(UserState s) {
    return UserState.fromBytes(s.toBytes());
  }

  @Test
  void anEventOfARequestPastTheLatestFourIsCountedAsMissedAndGetsTheStateAsItIs() {
    next(T0, "R0");
    for (int i = 1; i <= RequestSnapshots.REQUESTS; i++) {
      next(T0 + i, "R" + i);
    }
    UserState now = copy(state);
    RequestSnapshots.Seen r0 = next(T0 + 10, "R0");
    assertThat(r0.missed()).isTrue();
    assertThat(r0.changed()).isFalse();
    assertThat(r0.state()).isEqualTo(now);
    // not started again: a later event of R0 is missed too
    assertThat(next(T0 + 11, "R0").missed()).isTrue();
  }

  @Test
  void theLatestFourRequestsKeepTheirSnapshots() {
    UserState[] before = new UserState[RequestSnapshots.REQUESTS + 1];
    for (int i = 0; i <= RequestSnapshots.REQUESTS; i++) {
      before[i] = copy(state);
      RequestSnapshots.Seen first = next(T0 + i, "R" + i);
      assertThat(first.changed()).isTrue();
      assertThat(first.state()).isEqualTo(before[i]);
    }
    for (int i = 1; i <= RequestSnapshots.REQUESTS; i++) {
      RequestSnapshots.Seen later = next(T0 + 100 + i, "R" + i);
      assertThat(later.missed()).isFalse();
      assertThat(later.changed()).isFalse();
      assertThat(later.state()).as("R%d", i).isEqualTo(before[i]);
    }
  }

  @Test
  void aSnapshotMoreThanAnHourOlderThanTheUsersNextEventOfARequestIsDropped() {
    UserState beforeR1 = copy(state);
    next(T0, "R1");
    UserState beforeR2 = copy(state);
    next(T0 + 30 * MINUTE, "R2");
    assertThat(next(T0 + 40 * MINUTE, "R1").state()).isEqualTo(beforeR1);

    UserState now = copy(state);
    RequestSnapshots.Seen late = next(T0 + RequestSnapshots.MAX_AGE_MILLIS + 1, "R1");
    assertThat(late.changed()).isTrue();
    assertThat(late.missed()).as("forgotten, so a request anew, not a miss").isFalse();
    assertThat(late.state()).isEqualTo(now);
    // R2, half an hour younger, stays
    assertThat(next(T0 + RequestSnapshots.MAX_AGE_MILLIS + 2, "R2").state()).isEqualTo(beforeR2);
  }

  @Test
  void anEventWithoutARequestIdNeitherUsesNorChangesTheSnapshots() {
    next(T0, "R1");
    byte[] stored = snapshots.toBytes();
    UserState now = copy(state);
    RequestSnapshots.Seen plain = next(T0 + 2 * RequestSnapshots.MAX_AGE_MILLIS, null);
    assertThat(plain.changed()).isFalse();
    assertThat(plain.state()).isEqualTo(now);
    assertThat(snapshots.toBytes()).isEqualTo(stored);
  }

  @Test
  void snapshotsReadBackFromTheirBytesGiveTheSameStates() {
    UserState beforeR1 = copy(state);
    next(T0, "R1");
    next(T0 + 1, "R2");
    RequestSnapshots read = RequestSnapshots.fromBytes(snapshots.toBytes());
    RequestSnapshots.Seen r1 = read.before(event(T0 + 2, "R1"), state);
    assertThat(r1.state()).isEqualTo(beforeR1);
    assertThat(r1.changed()).isFalse();
  }

  @Test
  void theSnapshotsOfALargeStateStayWithinTheirBytes() {
    // a state of some 150 KB, over half the bound: 1,000 categories of 100-character names
    for (int c = 0; c < 1_000; c++) {
      state.add(event(T0 - 10_000 + c, null), String.format("%0100d", c));
    }
    int stateBytes = state.toBytes().length;
    assertThat(stateBytes)
        .isBetween(RequestSnapshots.MAX_STATE_BYTES / 2, RequestSnapshots.MAX_STATE_BYTES);

    next(T0, "R0");
    next(T0 + 1, "R1");
    assertThat(snapshots.toBytes().length).isLessThan(stateBytes + 1_000);
    assertThat(next(T0 + 2, "R0").missed()).isTrue();
    assertThat(next(T0 + 3, "R1").missed()).isFalse();
  }

  @Test
  void truncatedBytesAreRefusedNamingTheValue() {
    next(T0, "R1");
    byte[] b = snapshots.toBytes();
    assertThatThrownBy(() -> RequestSnapshots.fromBytes(Arrays.copyOf(b, b.length - 3)))
        .isInstanceOf(UncheckedIOException.class)
        .hasMessageContaining("RequestSnapshots");
  }
}
