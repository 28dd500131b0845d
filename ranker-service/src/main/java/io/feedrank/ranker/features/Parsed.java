package io.feedrank.ranker.features;

import io.feedrank.events.ItemMetadata;
import io.feedrank.events.UserProfile;
import io.feedrank.features.state.ItemState;
import io.feedrank.features.state.UserState;
import java.util.Map;

/**
 * Feature hashes parsed once, when they come from the store, so that the cache holds compact state
 * (a few arrays per entity) rather than maps of strings, and a request parses nothing. The parsed
 * state is never modified after construction and is shared between threads.
 */
public final class Parsed {

  /** A user's state and profile; {@code ts} is the hash's {@code _ts} ("" when unknown). */
  public record User(UserState state, UserProfile profile, String ts, boolean malformed) {
    public static final User UNKNOWN = new User(new UserState(), null, "", false);

    public static User of(long id, Map<String, String> hash) {
      if (hash == null || hash.isEmpty()) {
        return UNKNOWN;
      }
      try {
        return new User(
            UserState.fromHash(hash),
            UserState.profileFromHash(id, hash),
            hash.getOrDefault("_ts", ""),
            false);
      } catch (IllegalArgumentException e) {
        return new User(new UserState(), null, "", true);
      }
    }
  }

  /**
   * An item's state and metadata; {@code ts} is the hash's {@code _ts} ("" when unknown). Besides
   * the parsed state it has one slot for a value a scorer derives from it (the two-tower item
   * vector), so that the scorer finds it with the features instead of in a cache of its own: the
   * slot lives and is evicted with this entry, and a new read of the item's hash starts empty.
   */
  public static final class Item {
    public static final Item UNKNOWN = new Item(new ItemState(), null, "", false);

    private final ItemState state;
    private final ItemMetadata metadata;
    private final String ts;
    private final boolean malformed;
    private volatile Object derived;

    public Item(ItemState state, ItemMetadata metadata, String ts, boolean malformed) {
      this.state = state;
      this.metadata = metadata;
      this.ts = ts;
      this.malformed = malformed;
    }

    public static Item of(long id, Map<String, String> hash) {
      if (hash == null || hash.isEmpty()) {
        return UNKNOWN;
      }
      try {
        return new Item(
            ItemState.fromHash(hash),
            ItemState.metadataFromHash(id, hash),
            hash.getOrDefault("_ts", ""),
            false);
      } catch (IllegalArgumentException e) {
        return new Item(new ItemState(), null, "", true);
      }
    }

    public ItemState state() {
      return state;
    }

    public ItemMetadata metadata() {
      return metadata;
    }

    public String ts() {
      return ts;
    }

    public boolean malformed() {
      return malformed;
    }

    /**
     * What a scorer last derived from these features, or null. Shared between threads: the value
     * must be immutable and say itself whom and which item id it belongs to ({@link #UNKNOWN} and
     * malformed entries stand for many ids).
     */
    public Object derived() {
      return derived;
    }

    public void derived(Object value) {
      this.derived = value;
    }
  }

  private Parsed() {}
}
