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
    private static final ItemState DEFAULT_STATE = new ItemState();

    /**
     * Default features, for any item: what a request gets for an item it could not read. An item
     * read and found absent gets an entry of its own ({@link #of}), with these same features.
     */
    public static final Item UNKNOWN = new Item(DEFAULT_STATE, null, "", false);

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

    /**
     * The item's parsed hash; for an absent hash, default features in an entry of its own (not
     * {@link #UNKNOWN}): cold items are many, and each keeps its own {@link #derived} value.
     */
    public static Item of(long id, Map<String, String> hash) {
      if (hash == null || hash.isEmpty()) {
        return new Item(DEFAULT_STATE, null, "", false);
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

    /** Default features because the item has no hash (not because its hash was unreadable). */
    public boolean unknown() {
      return state == DEFAULT_STATE;
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
