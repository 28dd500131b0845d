package io.feedrank.features.examples;

import static org.assertj.core.api.Assertions.assertThat;

import io.feedrank.events.Device;
import io.feedrank.events.InteractionEvent;
import io.feedrank.events.ItemMetadata;
import io.feedrank.events.TrainingExample;
import io.feedrank.events.UserProfile;
import io.feedrank.features.FeatureSchema;
import io.feedrank.features.state.UserState;
import io.feedrank.features.vector.ServingFeatures;
import io.feedrank.features.vector.Vectorizer;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The user side of examples from a served feed: every impression of one ranking request gets the
 * user's state from before the request, as the ranker scored them, computed here with a plain
 * {@link UserState} that never saw the feed.
 */
class PointInTimeExamplesTest {
  static final long HOUR = 3_600_000L;
  static final long T0 = Instant.parse("2026-11-02T08:00:00Z").toEpochMilli();

  static InteractionEvent event(String id, long t, long item, boolean click, String request) {
    return event(7, id, t, item, click, request);
  }

  static InteractionEvent event(
      long user, String id, long t, long item, boolean click, String request) {
    return InteractionEvent.newBuilder()
        .setInteractionId(id)
        .setUserId(user)
        .setItemId(item)
        .setEventTime(Instant.ofEpochMilli(t))
        .setClick(click)
        .setLike(false)
        .setShare(false)
        .setDwellSeconds(click ? 30f : 1f)
        .setDevice(Device.MOBILE)
        .setRequestId(request)
        .setPosition(request == null ? null : (int) (item % 10))
        .build();
  }

  static List<Double> boxed(double[] values) {
    return Arrays.stream(values).boxed().toList();
  }

  @Test
  void theImpressionsOfOneFeedGetTheUsersFeaturesFromBeforeTheFeed() {
    PointInTimeExamples examples = new PointInTimeExamples();
    for (long item = 1; item <= 4; item++) {
      examples.item(
          ItemMetadata.newBuilder()
              .setItemId(item)
              .setCategory(item <= 2 ? "sports" : "news")
              .setCreatedAt(Instant.ofEpochMilli(T0 - 24 * HOUR))
              .setContentLength(100)
              .build());
    }
    // the user's history: two events of their own, hours before the feed
    List<InteractionEvent> history =
        List.of(
            event("h1", T0 - 5 * HOUR, 3, true, null), event("h2", T0 - 4 * HOUR, 1, false, null));
    // one served feed at T0: position 0 (sports) clicked, then a second sports item and a news one
    List<InteractionEvent> feed =
        List.of(
            event("f0", T0, 1, true, "req-1"),
            event("f1", T0 + 1, 2, false, "req-1"),
            event("f2", T0 + 2, 3, false, "req-1"));
    UserState before = new UserState();
    history.forEach(e -> before.add(e, e.getItemId() <= 2 ? "sports" : "news"));

    history.forEach(examples::next);
    List<TrainingExample> got = new ArrayList<>();
    feed.forEach(e -> got.add(examples.next(e)));
    for (int i = 0; i < feed.size(); i++) {
      long t = feed.get(i).getEventTime().toEpochMilli();
      String category = feed.get(i).getItemId() <= 2 ? "sports" : "news";
      assertThat(got.get(i).getUserFeatures())
          .as("user features of position %d", i)
          .containsExactlyElementsOf(boxed(before.features(t)));
      assertThat(got.get(i).getCrossFeatures())
          .as("cross features of position %d", i)
          .containsExactlyElementsOf(boxed(before.crossFeatures(category, t)));
    }

    // after the feed, an event of no request, and then another request, see the whole feed
    UserState after = UserState.fromBytes(before.toBytes());
    feed.forEach(e -> after.add(e, e.getItemId() <= 2 ? "sports" : "news"));
    InteractionEvent later = event("l1", T0 + HOUR, 4, false, null);
    assertThat(examples.next(later).getUserFeatures())
        .containsExactlyElementsOf(boxed(after.features(T0 + HOUR)));
    after.add(later, "news");
    InteractionEvent next = event("n0", T0 + 2 * HOUR, 2, false, "req-2");
    assertThat(examples.next(next).getUserFeatures())
        .containsExactlyElementsOf(boxed(after.features(T0 + 2 * HOUR)));
  }

  /**
   * An event more than the TTL after its user's and item's latest has what the ranker built from no
   * hashes (feature-spec's serving side over empty ones); one the TTL after them, to the
   * millisecond, keeps the history, and so does the event after an expired one.
   */
  @Test
  void anEventMoreThanTheTtlAfterItsEntitysLatestHasTheFeaturesOfNoHash() {
    long ttl = 24 * HOUR;
    PointInTimeExamples examples = new PointInTimeExamples(Duration.ofMillis(ttl));
    examples.profile(
        UserProfile.newBuilder()
            .setUserId(7)
            .setCountry("FR")
            .setPrimaryDevice(Device.MOBILE)
            .setCreatedAt(Instant.ofEpochMilli(T0 - 100 * 24 * HOUR))
            .build());
    examples.item(
        ItemMetadata.newBuilder()
            .setItemId(1)
            .setCategory("sports")
            .setCreatedAt(Instant.ofEpochMilli(T0 - 24 * HOUR))
            .setContentLength(100)
            .build());
    examples.next(event("a", T0, 1, true, null));
    TrainingExample atTtl = examples.next(event("b", T0 + ttl, 1, true, null));
    TrainingExample after = examples.next(event("c", T0 + 2 * ttl + 1, 1, false, null));
    TrainingExample next = examples.next(event("d", T0 + 2 * ttl + 2, 1, false, null));

    int lifetime = FeatureSchema.USER.indexOf("u_lifetime_events");
    assertThat(atTtl.getUserFeatures().get(lifetime)).isEqualTo(1.0);
    assertThat(next.getUserFeatures().get(lifetime)).isEqualTo(3.0);
    assertThat(next.getItemFeatures().get(FeatureSchema.ITEM.indexOf("i_lifetime_events")))
        .isEqualTo(3.0);
    long t = T0 + 2 * ttl + 1;
    ServingFeatures served = new ServingFeatures(7, Map.of(), t, Device.MOBILE);
    float[] item = new float[Vectorizer.ITEM_WIDTH];
    float[] cross = new float[Vectorizer.CROSS_WIDTH];
    served.item(1, Map.of(), item, 0, cross, 0);
    assertThat(vector(after.getUserFeatures(), Vectorizer.USER_WIDTH, Vectorizer::user))
        .containsExactly(served.userVector());
    assertThat(vector(after.getItemFeatures(), Vectorizer.ITEM_WIDTH, Vectorizer::item))
        .containsExactly(item);
    assertThat(vector(after.getCrossFeatures(), Vectorizer.CROSS_WIDTH, Vectorizer::cross))
        .containsExactly(cross);
  }

  interface Vectorize {
    void into(double[] raw, float[] out, int off);
  }

  static float[] vector(List<Double> raw, int width, Vectorize v) {
    float[] out = new float[width];
    v.into(raw.stream().mapToDouble(Double::doubleValue).toArray(), out, 0);
    return out;
  }

  static PointInTimeExamples withCatalog() {
    PointInTimeExamples examples = new PointInTimeExamples();
    for (long item = 1; item <= 4; item++) {
      examples.item(
          ItemMetadata.newBuilder()
              .setItemId(item)
              .setCategory(category(item))
              .setCreatedAt(Instant.ofEpochMilli(T0 - 24 * HOUR))
              .setContentLength(100)
              .build());
    }
    return examples;
  }

  static String category(long item) {
    return item <= 2 ? "sports" : "news";
  }

  /** The user's state after {@code events}, built here without any snapshot logic. */
  static UserState stateAfter(List<InteractionEvent> events) {
    UserState s = new UserState();
    events.forEach(e -> s.add(e, category(e.getItemId())));
    return s;
  }

  static final List<InteractionEvent> HISTORY =
      List.of(
          event("h1", T0 - 5 * HOUR, 3, true, null), event("h2", T0 - 4 * HOUR, 1, false, null));

  /**
   * Infinite scroll: page 2 (R2) is fetched while page 1's (R1) impressions are still being logged,
   * so R1's events and R2's interleave. R1's later impressions get the user's state from before R1,
   * which holds neither R1's click nor R2's impression.
   */
  @Test
  void interleavedRequestsOfOneUserEachGetTheStateFromBeforeTheirOwnRequest() {
    PointInTimeExamples examples = withCatalog();
    HISTORY.forEach(examples::next);
    UserState beforeR1 = stateAfter(HISTORY);

    examples.next(event("r1-0", T0, 1, true, "R1"));
    TrainingExample r2 = examples.next(event("r2-0", T0 + 1, 3, false, "R2"));
    TrainingExample r1 = examples.next(event("r1-1", T0 + 2, 2, false, "R1"));

    assertThat(r1.getUserFeatures()).containsExactlyElementsOf(boxed(beforeR1.features(T0 + 2)));
    assertThat(r1.getCrossFeatures())
        .containsExactlyElementsOf(boxed(beforeR1.crossFeatures("sports", T0 + 2)));
    // and R2, whose first event came after R1's first, has R1's first event in its state
    UserState beforeR2 =
        stateAfter(List.of(HISTORY.get(0), HISTORY.get(1), event("x", T0, 1, true, "R1")));
    assertThat(r2.getUserFeatures()).containsExactlyElementsOf(boxed(beforeR2.features(T0 + 1)));
  }

  /** An event of no request between a request's events neither uses nor drops its snapshot. */
  @Test
  void anEventWithoutARequestIdDoesNotChangeTheRequestsLaterExamples() {
    PointInTimeExamples examples = withCatalog();
    HISTORY.forEach(examples::next);
    UserState beforeR1 = stateAfter(HISTORY);

    examples.next(event("r1-0", T0, 1, true, "R1"));
    TrainingExample plain = examples.next(event("p", T0 + 1, 4, true, null));
    TrainingExample r1 = examples.next(event("r1-1", T0 + 2, 2, false, "R1"));

    assertThat(r1.getUserFeatures()).containsExactlyElementsOf(boxed(beforeR1.features(T0 + 2)));
    // the event of no request itself got the state as it was, with R1's first event in it
    UserState withR1 =
        stateAfter(List.of(HISTORY.get(0), HISTORY.get(1), event("x", T0, 1, true, "R1")));
    assertThat(plain.getUserFeatures()).containsExactlyElementsOf(boxed(withR1.features(T0 + 1)));
  }

  /**
   * A busy task sees far more users than an LRU of 2,048 held between a feed's first impression and
   * its click: every other user's requests in between leave this user's snapshot where it is.
   */
  @Test
  void otherUsersRequestsInBetweenDoNotEvictARequestsSnapshot() {
    PointInTimeExamples examples = withCatalog();
    HISTORY.forEach(examples::next);
    UserState beforeR1 = stateAfter(HISTORY);

    examples.next(event("r1-0", T0, 1, true, "R1"));
    for (long u = 1_000; u < 4_000; u++) {
      examples.next(event(u, "o-" + u, T0 + 1, 3, false, "other-" + u));
    }
    TrainingExample r1 = examples.next(event("r1-1", T0 + 2, 2, false, "R1"));

    assertThat(r1.getUserFeatures()).containsExactlyElementsOf(boxed(beforeR1.features(T0 + 2)));
  }
}
