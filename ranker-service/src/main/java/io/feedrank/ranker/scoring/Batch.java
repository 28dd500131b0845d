package io.feedrank.ranker.scoring;

import io.feedrank.events.Device;
import io.feedrank.features.state.ItemState;
import io.feedrank.features.state.UserState;
import io.feedrank.features.vector.ServingFeatures;
import io.feedrank.features.vector.Vectorizer;
import io.feedrank.ranker.features.MalformedHashes;
import io.feedrank.ranker.features.Parsed;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.util.Arrays;
import java.util.function.Function;

/**
 * One request's candidates, vectorized into flat direct buffers that ONNX Runtime reads without a
 * copy. Buffers are reused per thread (a request thread builds and scores one batch at a time), so
 * a request allocates no tensors' worth of memory.
 *
 * <p>Rows are vectorized when first needed: all of them when a model reads the tensors ({@link
 * OnnxModel#run}), single rows for {@link #itemVector} / {@link #crossVector} before that, and a
 * {@link #subset} vectorizes only its own rows — a two-tower request with its item vectors cached
 * vectorizes no candidate at all.
 *
 * <p>A scorer may {@link #cover} candidates before the features are looked up (a two-tower model
 * whose item vectors it holds): those rows come without item features, and {@link #item} reads them
 * through the batch's resolver only when something asks for them (a popularity fallback, a sampled
 * log row).
 */
public final class Batch {
  private static final ThreadLocal<Batch> PER_THREAD = ThreadLocal.withInitial(Batch::new);
  private static final ThreadLocal<Batch> SUBSET = ThreadLocal.withInitial(Batch::new);
  private static final int MAX_ROWS = 1_000;

  /**
   * The item and cross groups of an unknown item for an unknown user, the same at any time: what a
   * row gets whose own groups cannot be computed ({@link #row}).
   */
  private static final float[] DEFAULT_ITEM = new float[Vectorizer.ITEM_WIDTH];

  private static final float[] DEFAULT_CROSS = new float[Vectorizer.CROSS_WIDTH];

  static {
    new ServingFeatures(0, new UserState(), null, 0, Device.UNKNOWN)
        .item(new ItemState(), null, DEFAULT_ITEM, 0, DEFAULT_CROSS, 0);
  }

  final FloatBuffer user = floats(MAX_ROWS * Vectorizer.USER_WIDTH);
  final FloatBuffer item = floats(MAX_ROWS * Vectorizer.ITEM_WIDTH);
  final FloatBuffer cross = floats(MAX_ROWS * Vectorizer.CROSS_WIDTH);
  final FloatBuffer context = floats(MAX_ROWS * Vectorizer.CONTEXT_WIDTH);
  final LongBuffer userIds = longs(MAX_ROWS);
  final LongBuffer itemIds = longs(MAX_ROWS);
  private final float[] itemRow = new float[Vectorizer.ITEM_WIDTH];
  private final float[] crossRow = new float[Vectorizer.CROSS_WIDTH];

  private final boolean[] covered = new boolean[MAX_ROWS];
  private float[] held = new float[0];

  ServingFeatures features;
  long[] ids;
  private long atMillis;
  Parsed.Item[] itemFeatures;
  private long[] fetchedNanos;
  private Function<long[], Parsed.Item[]> resolver;
  int rows;
  private int coveredRows;
  private boolean vectorized;
  private int userRows; // rows of the user and context groups filled since vectorized
  private long touched; // kept, so that vectorize's first loop is not dropped
  private Batch owner = this; // the request's batch: where a subset's rows are counted
  private int defaultedRows;

  private Batch() {}

  /**
   * This thread's batch for the candidates, without features yet (valid until the thread's next
   * call): what a scorer {@link #cover covers} before {@link #features} are looked up.
   */
  public static Batch begin(long[] itemIds, long atMillis) {
    if (itemIds.length > MAX_ROWS) {
      throw new IllegalArgumentException(
          "batch of " + itemIds.length + " rows; at most " + MAX_ROWS);
    }
    Batch b = PER_THREAD.get();
    if (b.coveredRows > 0) {
      Arrays.fill(b.covered, 0, b.rows, false);
    }
    b.coveredRows = 0;
    b.features = null;
    b.ids = itemIds;
    b.atMillis = atMillis;
    b.itemFeatures = null;
    b.fetchedNanos = null;
    b.resolver = null;
    b.rows = itemIds.length;
    b.vectorized = false;
    b.defaultedRows = 0;
    return b;
  }

  /**
   * The features: the user's, and each candidate's (null for a {@link #covered} row), with when
   * each was read from the store ({@code fetchedNanos}, {@link Long#MIN_VALUE} for defaults served
   * without a read; null: none known); {@code resolver} looks up the item features of covered rows
   * when they are needed after all.
   */
  public Batch features(
      ServingFeatures f,
      Parsed.Item[] items,
      long[] fetchedNanos,
      Function<long[], Parsed.Item[]> resolver) {
    this.features = f;
    this.itemFeatures = items;
    this.fetchedNanos = fetchedNanos;
    this.resolver = resolver;
    this.vectorized = false;
    return this;
  }

  /**
   * This thread's batch for the candidates (valid until the thread's next call); vectorized lazily.
   *
   * @param items each candidate's parsed features ({@link Parsed.Item#UNKNOWN} for an unknown item)
   */
  public static Batch of(ServingFeatures f, long[] itemIds, Parsed.Item[] items) {
    return begin(itemIds, f.atMillis()).features(f, items, null, null);
  }

  /** The request's time (epoch millis), as its features are read at. */
  public long atMillis() {
    return atMillis;
  }

  /** Marks row {@code i} as scored from what its scorer holds: its item features are not read. */
  public void cover(int i) {
    if (!covered[i]) {
      covered[i] = true;
      coveredRows++;
    }
  }

  public boolean covered(int i) {
    return covered[i];
  }

  /**
   * The covered flags by row (at least {@link #rows} long; read-only for the caller): what the
   * feature lookup skips.
   */
  public boolean[] coveredRowsMask() {
    return covered;
  }

  /** Rows {@link #cover covered} in this batch. */
  public int coveredRows() {
    return coveredRows;
  }

  /**
   * A scratch array of this thread of at least {@code length} floats, for a scorer's own use; what
   * a scorer writes there in {@link Scorer#cover} is still there in its {@link Scorer#score} of the
   * same batch, when it asks for the same length.
   */
  public float[] scratch(int length) {
    if (held.length < length) {
      held = new float[Math.max(length, 2 * held.length)];
    }
    return held;
  }

  /**
   * When row {@code i}'s item features were read from the store: {@link Long#MIN_VALUE} when not
   * known or served as defaults without a read.
   */
  public long fetchedNanos(int i) {
    return fetchedNanos == null ? Long.MIN_VALUE : fetchedNanos[i];
  }

  /** Looks up the item features of every covered row that has none yet, in one call. */
  public void resolveAll() {
    resolve(null, rows);
  }

  /**
   * Looks up, in one call, the item features of those of rows {@code which[0..n)} (null: rows 0 to
   * n) that are covered and have none yet: the sampled rows of a ranking log.
   */
  public void resolve(int[] which, int n) {
    if (coveredRows == 0 || itemFeatures == null) {
      return;
    }
    int m = 0;
    for (int k = 0; k < n; k++) {
      if (itemFeatures[which == null ? k : which[k]] == null) {
        m++;
      }
    }
    if (m == 0) {
      return;
    }
    long[] want = new long[m];
    int[] at = new int[m];
    m = 0;
    for (int k = 0; k < n; k++) {
      int i = which == null ? k : which[k];
      if (itemFeatures[i] == null) {
        want[m] = ids[i];
        at[m++] = i;
      }
    }
    Parsed.Item[] got = resolve(want);
    for (int k = 0; k < m; k++) {
      itemFeatures[at[k]] = got[k];
    }
  }

  private Parsed.Item[] resolve(long[] want) {
    if (resolver == null) {
      throw new IllegalStateException("covered rows without a resolver for their features");
    }
    return resolver.apply(want);
  }

  /** Fills the tensors' buffers with every row (once per batch). */
  void vectorize() {
    vectorize(false);
  }

  /**
   * Fills the tensors' buffers with every row, the user and context groups only in row 0 when
   * {@code userOnce} (a model taking them per request reads no other row of theirs). Once per
   * batch; a later call that needs every row of those groups fills the rest.
   */
  void vectorize(boolean userOnce) {
    if (!vectorized) {
      resolveAll();
      long t = 0;
      for (int i = 0; i < rows; i++) { // the rows' misses overlap here, not one after another below
        Parsed.Item x = item(i);
        t ^= ServingFeatures.touch(x.state(), x.metadata());
      }
      touched = t;
      item.clear();
      cross.clear();
      for (int i = 0; i < rows; i++) {
        row(i, itemRow, crossRow);
        item.put(itemRow);
        cross.put(crossRow);
      }
      item.flip();
      cross.flip();
      userRows = 0;
      vectorized = true;
    }
    int need = userOnce ? Math.min(1, rows) : rows;
    if (userRows < need) {
      float[] u = features.userVector();
      float[] c = features.contextVector();
      for (int i = userRows; i < need; i++) {
        user.put(i * Vectorizer.USER_WIDTH, u);
        context.put(i * Vectorizer.CONTEXT_WIDTH, c);
      }
      userRows = need;
    }
  }

  /**
   * Row {@code i}'s item and cross groups; default ones when they cannot be computed. The parse
   * refuses the hashes we know features cannot be computed from ({@link Parsed}); a state it let
   * through that still fails costs its row its features, said and counted like an unreadable hash
   * ({@link #defaultedRows}), not the request a 500 (the popularity fallback reads the same rows).
   */
  private void row(int i, float[] itemOut, float[] crossOut) {
    Parsed.Item x = item(i);
    try {
      features.item(x.state(), x.metadata(), itemOut, 0, crossOut, 0);
    } catch (RuntimeException e) {
      MalformedHashes.SHARED.cannotRead("item", ids[i], e);
      System.arraycopy(DEFAULT_ITEM, 0, itemOut, 0, DEFAULT_ITEM.length);
      System.arraycopy(DEFAULT_CROSS, 0, crossOut, 0, DEFAULT_CROSS.length);
      owner.defaultedRows++;
    }
  }

  /**
   * Rows of this request given default item and cross groups because theirs could not be computed
   * (in this batch or a {@link #subset} of it); a row read more than once counts each time.
   */
  public int defaultedRows() {
    return defaultedRows;
  }

  /**
   * Rows {@code idx[0..m)} of this batch as this thread's subset batch (valid until the thread's
   * next subset), e.g. the candidates whose item-tower vectors are not cached yet; vectorized.
   */
  public Batch subset(int[] idx, int m) {
    Batch s = SUBSET.get();
    s.features = features;
    s.owner = this;
    s.rows = m;
    s.ids = new long[m];
    s.itemFeatures = new Parsed.Item[m];
    for (int k = 0; k < m; k++) {
      s.ids[k] = ids[idx[k]];
      s.itemFeatures[k] = item(idx[k]);
    }
    s.vectorized = false;
    s.vectorize();
    return s;
  }

  /**
   * This thread's subset batch of one row for the user's features alone (a user tower reads nothing
   * of the candidate; its item inputs are defaults); vectorized.
   */
  public Batch userRow() {
    Batch s = SUBSET.get();
    s.features = features;
    s.owner = this;
    s.rows = 1;
    s.ids = new long[] {0};
    s.itemFeatures = new Parsed.Item[] {Parsed.Item.UNKNOWN};
    s.vectorized = false;
    s.vectorize();
    return s;
  }

  public int rows() {
    return rows;
  }

  public long[] itemIds() {
    return ids;
  }

  public ServingFeatures features() {
    return features;
  }

  /** Row {@code i}'s item features; a covered row's are looked up on first use. */
  public Parsed.Item item(int i) {
    Parsed.Item x = itemFeatures[i];
    if (x == null) {
      x = resolve(new long[] {ids[i]})[0];
      itemFeatures[i] = x;
    }
    return x;
  }

  /** The item group of row {@code i}, written into {@code out}. */
  public float[] itemVector(int i, float[] out) {
    if (vectorized) {
      item.get(i * Vectorizer.ITEM_WIDTH, out, 0, Vectorizer.ITEM_WIDTH);
    } else {
      row(i, out, crossRow);
    }
    return out;
  }

  /** The item and cross groups of row {@code i}, written into {@code item} and {@code cross}. */
  public void rowVectors(int i, float[] item, float[] cross) {
    if (vectorized) {
      itemVector(i, item);
      crossVector(i, cross);
    } else {
      row(i, item, cross);
    }
  }

  /** The cross group of row {@code i}, written into {@code out}. */
  public float[] crossVector(int i, float[] out) {
    if (vectorized) {
      cross.get(i * Vectorizer.CROSS_WIDTH, out, 0, Vectorizer.CROSS_WIDTH);
    } else {
      row(i, itemRow, out);
    }
    return out;
  }

  /** The embedding buckets of the user (every row) and the items, for a model's bucket counts. */
  void fillIds(int userBuckets, int itemBuckets) {
    userIds.clear();
    itemIds.clear();
    long u = Vectorizer.bucket(features.userId(), userBuckets);
    for (int i = 0; i < rows; i++) {
      userIds.put(u);
      itemIds.put(Vectorizer.bucket(ids[i], itemBuckets));
    }
    userIds.flip();
    itemIds.flip();
  }

  private static FloatBuffer floats(int n) {
    return ByteBuffer.allocateDirect(n * Float.BYTES)
        .order(ByteOrder.nativeOrder())
        .asFloatBuffer();
  }

  private static LongBuffer longs(int n) {
    return ByteBuffer.allocateDirect(n * Long.BYTES).order(ByteOrder.nativeOrder()).asLongBuffer();
  }
}
