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

  /**
   * A user's state and profile; {@code ts} is the hash's {@code _ts} ("" when unknown), {@code
   * fingerprint} the {@link #fingerprint} of the hash it was parsed from.
   */
  public record User(
      UserState state, UserProfile profile, String ts, boolean malformed, long fingerprint) {
    public static final User UNKNOWN = new User(new UserState(), null, "", false, 0);

    public static User of(long id, Map<String, String> hash) {
      return parse(id, hash, Parsed.fingerprint(hash));
    }

    /**
     * {@code previous}, the same user's parsed features, when {@code hash} is the hash they were
     * parsed from (same fingerprint); else {@code hash} parsed.
     */
    public static User of(long id, Map<String, String> hash, User previous) {
      long f = Parsed.fingerprint(hash);
      return previous != null && previous != UNKNOWN && previous.fingerprint == f
          ? previous
          : parse(id, hash, f);
    }

    private static User parse(long id, Map<String, String> hash, long fingerprint) {
      if (hash == null || hash.isEmpty()) {
        return UNKNOWN;
      }
      try {
        return new User(
            UserState.fromHash(hash),
            UserState.profileFromHash(id, hash),
            hash.getOrDefault("_ts", ""),
            false,
            fingerprint);
      } catch (RuntimeException e) { // any hash it cannot read is malformed, not a failed request
        MalformedHashes.SHARED.cannotRead("user", id, e);
        return new User(new UserState(), null, "", true, fingerprint);
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
    public static final Item UNKNOWN = new Item(DEFAULT_STATE, null, "", false, 0);

    private final ItemState state;
    private final ItemMetadata metadata;
    private final String ts;
    private final boolean malformed;
    private final long fingerprint;

    public Item(
        ItemState state, ItemMetadata metadata, String ts, boolean malformed, long fingerprint) {
      this.state = state;
      this.metadata = metadata;
      this.ts = ts;
      this.malformed = malformed;
      this.fingerprint = fingerprint;
    }

    /**
     * The item's parsed hash; for an absent hash, default features in an entry of its own (not
     * {@link #UNKNOWN}, which stands for items whose features could not be read).
     */
    public static Item of(long id, Map<String, String> hash) {
      return parse(id, hash, Parsed.fingerprint(hash));
    }

    /**
     * {@code previous}, the same item's parsed features, when {@code hash} is the hash they were
     * parsed from (same fingerprint), else {@code hash} parsed: a background re-read of an
     * unchanged item neither parses nor allocates its state again.
     */
    public static Item of(long id, Map<String, String> hash, Item previous) {
      long f = Parsed.fingerprint(hash);
      return previous != null && previous != UNKNOWN && previous.fingerprint == f
          ? previous
          : parse(id, hash, f);
    }

    private static Item parse(long id, Map<String, String> hash, long fingerprint) {
      if (hash == null || hash.isEmpty()) {
        return new Item(DEFAULT_STATE, null, "", false, 0);
      }
      try {
        return new Item(
            ItemState.fromHash(hash),
            ItemState.metadataFromHash(id, hash),
            hash.getOrDefault("_ts", ""),
            false,
            fingerprint);
      } catch (RuntimeException e) { // any hash it cannot read is malformed, not a failed request
        MalformedHashes.SHARED.cannotRead("item", id, e);
        return new Item(new ItemState(), null, "", true, fingerprint);
      }
    }

    /** The {@link Parsed#fingerprint} of the hash these features were parsed from. */
    public long fingerprint() {
      return fingerprint;
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
  }

  /**
   * A 64-bit digest of a hash's fields and values, whatever their order; 0 for no hash. Equal
   * hashes have equal fingerprints, different ones with a chance of about 2^-64. It tells a re-read
   * hash that did not change from one that did, which {@code _ts} does not: an event older than the
   * entity's latest changes its counters without moving {@code _ts}.
   */
  public static long fingerprint(Map<String, String> hash) {
    if (hash == null || hash.isEmpty()) {
      return 0;
    }
    long sum = 0;
    for (Map.Entry<String, String> e : hash.entrySet()) {
      // FNV-1a over the field, then the value, each preceded by its length (so "ab","c" is not
      // "a","bc"); mixed per field so that summing the fields keeps their order out of it
      long h = fnv(fnv(0xcbf29ce484222325L, e.getKey()), e.getValue());
      sum += mix(h);
    }
    return sum == 0 ? 1 : sum;
  }

  private static long fnv(long h, String s) {
    h = (h ^ s.length()) * 0x100000001b3L;
    for (int i = 0; i < s.length(); i++) {
      h = (h ^ s.charAt(i)) * 0x100000001b3L;
    }
    return h;
  }

  /**
   * SplitMix64's finalizer: every input bit moves about half of the output bits (also {@link
   * Jitter}'s hash of an id).
   */
  static long mix(long z) {
    z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
    z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
    return z ^ (z >>> 31);
  }

  private Parsed() {}
}
