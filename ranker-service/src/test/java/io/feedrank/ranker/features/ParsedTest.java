package io.feedrank.ranker.features;

import static org.assertj.core.api.Assertions.assertThat;

import io.feedrank.events.InteractionEvent;
import io.feedrank.features.state.ItemState;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

class ParsedTest {

  static InteractionEvent event(long itemId, long atMillis, boolean click) {
    return InteractionEvent.newBuilder()
        .setInteractionId("e" + atMillis)
        .setUserId(1)
        .setItemId(itemId)
        .setEventTime(Instant.ofEpochMilli(atMillis))
        .setClick(click)
        .setLike(false)
        .setShare(false)
        .setDwellSeconds(click ? 40f : 1f)
        .build();
  }

  @Test
  void theFingerprintIsTheHashsContentWhateverTheOrderOfItsFields() {
    Map<String, String> a = new LinkedHashMap<>();
    a.put("_ts", "10");
    a.put("views", "3.5");
    a.put("clicks", "1.0");
    List<String> keys = new ArrayList<>(a.keySet());
    Collections.reverse(keys);
    Map<String, String> b = new LinkedHashMap<>();
    keys.forEach(k -> b.put(k, a.get(k)));
    assertThat(List.copyOf(b.keySet())).isNotEqualTo(List.copyOf(a.keySet()));
    assertThat(Parsed.fingerprint(b)).isEqualTo(Parsed.fingerprint(a));

    Map<String, String> c = new HashMap<>(a);
    c.put("clicks", "1.5");
    assertThat(Parsed.fingerprint(c)).isNotEqualTo(Parsed.fingerprint(a));
    // the boundary between a field and its value counts
    assertThat(Parsed.fingerprint(Map.of("ab", "c")))
        .isNotEqualTo(Parsed.fingerprint(Map.of("a", "bc")));
    // a field's value is not another field's
    assertThat(Parsed.fingerprint(Map.of("x", "1", "y", "2")))
        .isNotEqualTo(Parsed.fingerprint(Map.of("x", "2", "y", "1")));
    assertThat(Parsed.fingerprint(Map.of())).isZero();
    assertThat(Parsed.fingerprint(null)).isZero();
  }

  /**
   * A user hash the state cannot be read from is malformed: default features and the {@code
   * bad_features} fallback, not a failed request. A field {@code c._ts} used to throw an index
   * exception out of the parse, which answered 500.
   */
  @Test
  void aHashThatCannotBeReadIsMalformedNotAFailure() {
    Map<String, String> h = new HashMap<>(new io.feedrank.features.state.UserState().toHash());
    assertThat(Parsed.User.of(7, h).malformed()).isFalse();
    h.put("c._ts", "1");
    Parsed.User u = Parsed.User.of(7, h);
    assertThat(u.malformed()).isTrue();
    assertThat(u.state()).isEqualTo(new io.feedrank.features.state.UserState());
  }

  /**
   * An item the catalog announced and no event has reached yet: its hash holds the metadata alone.
   * It is an unseen item with its metadata, not a malformed hash (which gave it defaults and
   * counted {@code bad_features}).
   */
  @Test
  void anItemHashOfMetadataAloneIsAnUnseenItemWithItsMetadata() {
    io.feedrank.events.ItemMetadata meta =
        io.feedrank.events.ItemMetadata.newBuilder()
            .setItemId(11)
            .setCategory("news")
            .setCreatedAt(Instant.parse("2026-12-01T00:00:00Z"))
            .setContentLength(450)
            .build();
    Map<String, String> h = new HashMap<>();
    h.put("_v", "1");
    h.put("category", "news");
    h.put("created_at", Long.toString(meta.getCreatedAt().toEpochMilli()));
    h.put("content_length", "450");
    Parsed.Item item = Parsed.Item.of(11, h);
    assertThat(item.malformed()).isFalse();
    assertThat(item.state()).isEqualTo(new ItemState());
    assertThat(item.metadata()).isEqualTo(meta);
  }

  /** 200,000 hashes that differ in one digit of one value: no two fingerprints are equal. */
  @Test
  void nearlyEqualHashesHaveDistinctFingerprints() {
    Random random = new Random(7);
    Set<Long> seen = new HashSet<>();
    for (int i = 0; i < 200_000; i++) {
      Map<String, String> h = new HashMap<>();
      h.put("_ts", "1763000000000");
      h.put("_v", "1");
      h.put("views", Integer.toString(i));
      h.put("ctr", "0.0" + (i % 10));
      h.put("category", "news");
      if (random.nextBoolean()) {
        h.put("dwell", "12.5");
      }
      seen.add(Parsed.fingerprint(h));
    }
    assertThat(seen).hasSize(200_000);
  }

  /**
   * A re-read of an unchanged hash keeps the parsed features; a hash changed by an event older than
   * the item's latest — its {@code _ts} does not move — is parsed again.
   */
  @Test
  void anUnchangedHashKeepsItsParsedFeaturesAndALateEventIsParsedAgain() {
    ItemState s = new ItemState();
    s.add(event(7, 10_000, false));
    s.add(event(7, 20_000, true));
    Map<String, String> first = s.toHash(null);
    Parsed.Item parsed = Parsed.Item.of(7, first);

    Parsed.Item again = Parsed.Item.of(7, new HashMap<>(first), parsed);
    assertThat(again).isSameAs(parsed);

    s.add(event(7, 15_000, true)); // late: before the latest event
    Map<String, String> late = s.toHash(null);
    assertThat(late.get("_ts")).isEqualTo(first.get("_ts"));
    assertThat(late).isNotEqualTo(first);
    Parsed.Item reparsed = Parsed.Item.of(7, late, parsed);
    assertThat(reparsed).isNotSameAs(parsed);
    assertThat(reparsed.state()).isEqualTo(ItemState.fromHash(late));
    assertThat(reparsed.state()).isNotEqualTo(parsed.state());

    // an absent item keeps its own default entry; the shared one is never handed out as kept
    Parsed.Item absent = Parsed.Item.of(8, Map.of());
    assertThat(Parsed.Item.of(8, Map.of(), absent)).isSameAs(absent);
    assertThat(Parsed.Item.of(8, Map.of(), Parsed.Item.UNKNOWN))
        .isNotSameAs(Parsed.Item.UNKNOWN)
        .matches(Parsed.Item::unknown);
    // an item that appeared is parsed
    assertThat(Parsed.Item.of(8, first, absent).state()).isEqualTo(ItemState.fromHash(first));
  }

  @Test
  void aUserIsKeptOnlyWhileItsHashIsTheSame() {
    Map<String, String> h = CachingFeatureStoreTest.userHash(5);
    Parsed.User u = Parsed.User.of(1, h);
    assertThat(Parsed.User.of(1, new HashMap<>(h), u)).isSameAs(u);
    Map<String, String> changed = new HashMap<>(h);
    changed.put("_ts", "6");
    assertThat(Parsed.User.of(1, changed, u))
        .isNotSameAs(u)
        .extracting(Parsed.User::ts)
        .isEqualTo("6");
    assertThat(Parsed.User.of(1, Map.of(), u)).isSameAs(Parsed.User.UNKNOWN);
  }
}
