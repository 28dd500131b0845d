package io.feedrank.cli.bench;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import io.feedrank.events.InteractionEvent;
import io.feedrank.events.ItemMetadata;
import io.feedrank.events.UserProfile;
import io.feedrank.features.state.ItemState;
import io.feedrank.features.state.UserState;
import io.feedrank.features.vector.ModelInputs;
import io.feedrank.features.vector.ServingFeatures;
import io.feedrank.features.vector.Vectorizer;
import io.feedrank.models.onnx.OnnxExport;
import io.feedrank.ranker.api.RankRequest;
import io.feedrank.ranker.api.RequestParser;
import io.feedrank.ranker.features.CachingFeatureStore;
import io.feedrank.ranker.features.FeatureStore;
import io.feedrank.ranker.features.Parsed;
import io.feedrank.ranker.scoring.Batch;
import io.feedrank.ranker.scoring.OnnxModel;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.PrintWriter;
import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.function.Supplier;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code ./feedrank bench ranker-parts}: pieces of the ranker's request path in one JVM, each next
 * to what it replaced, measured alternately in the same run — small effects that the whole-service
 * benchmark cannot resolve on a shared two-core machine.
 *
 * <ul>
 *   <li>Feature lookups: {@link CachingFeatureStore#get} of the load generator's 100-candidate
 *       requests over 50,000 items, each with its own parsed features, against one Caffeine read
 *       per candidate of the same ids — what the lookup's reads alone cost before its table. Each
 *       request is preceded by a 4 MiB walk, standing for the model call that evicts the caches
 *       between two lookups.
 *   <li>Parsing: {@link RequestParser#parse} (the fast path for the common request) against {@link
 *       RequestParser#parseGeneral} (Jackson's tokens) on the load generator's bodies of 100 and
 *       1,000 candidates.
 *   <li>Request ids: {@link RequestParser#randomId} against {@link UUID#randomUUID}, on as many
 *       threads as the ranker has event loops by default (two per core).
 *   <li>The model call of a 100-candidate request, the deep MLP of {@code bench ranker}, in three
 *       parts: {@link OnnxModel#run} of a new batch (vectorizing its rows, the embedding buckets,
 *       the tensors, the call, the scores copied out); the same on a batch already vectorized; and
 *       the bare call of the same size on tensors built once, as {@code bench ranker} measures it.
 *       The differences are what vectorizing and the glue around the call cost. Each call is
 *       preceded by the 4 MiB walk; users have 40 events over 10 of the items' 20 categories.
 * </ul>
 */
@Command(
    name = "ranker-parts",
    mixinStandardHelpOptions = true,
    description =
        "Pieces of the ranker's request path in one JVM, each against what it replaced, in the"
            + " same run.")
final class RankerPartsBenchmark implements Callable<Integer> {
  private static final int ITEMS = 50_000;
  private static final int USERS = 10_000;
  private static final int CANDIDATES = 100;
  private static final int POLLUTION_BYTES = 4 << 20;

  @Spec CommandSpec spec;

  @Option(
      names = "--runs",
      defaultValue = "5",
      description = "runs; figures are medians (default ${DEFAULT-VALUE})")
  int runs;

  @Option(
      names = "--requests",
      defaultValue = "20000",
      description = "requests per measurement (default ${DEFAULT-VALUE})")
  int requests;

  @Option(names = "--out", description = "output directory (default: $FEEDRANK_HOME/target/bench)")
  Path out;

  private final byte[] pollution = new byte[POLLUTION_BYTES];
  private long sink;
  private OnnxModel mlp;
  private OrtSession bareSession;
  private Map<String, OnnxTensor> bareInputs;
  private Map<String, OnnxTensor> bareRowInputs;

  @Override
  public Integer call() throws Exception {
    BenchCommand.atLeastOne(spec, "--runs", runs, "--requests", requests);
    PrintWriter w = spec.commandLine().getOut();
    BenchReport report = new BenchReport("ranker-parts");
    report.note(
        "lookup",
        CANDIDATES
            + " candidates a request from the load generator's bodies over "
            + ITEMS
            + " items; a "
            + (POLLUTION_BYTES >> 20)
            + " MiB walk before each request");
    int threads = 2 * Runtime.getRuntime().availableProcessors();
    report.note("request_id_threads", threads);

    byte[] onnx =
        OnnxExport.mlp(RankerBenchmark.mlpWeights(new Random(1)), RankerBenchmark.meta("mlp"));
    mlp = OnnxModel.load(onnx, "score", 1);
    OrtEnvironment env = OrtEnvironment.getEnvironment();
    bareSession = RankerBenchmark.bareSession(env, onnx, 1);
    bareInputs = bareInputs(env, CANDIDATES, false);
    bareRowInputs = bareInputs(env, CANDIDATES, true);
    report.note(
        "model_call",
        "the deep MLP of bench ranker, 1 intra-op thread; the bare call on tensors of random values"
            + " built once");
    Map<Long, Map<String, String>> hashes = itemHashes();
    FeatureStore store = (userIds, itemIds) -> fetched(hashes, userIds, itemIds);
    try (CachingFeatureStore features =
        new CachingFeatureStore(
            store,
            200_000,
            new CachingFeatureStore.Ttls(
                Duration.ofSeconds(1),
                Duration.ofSeconds(5),
                Duration.ofSeconds(30),
                Duration.ofMinutes(10)),
            CachingFeatureStore.breakerConfig(50, Duration.ofMillis(50), Duration.ofSeconds(1)),
            new SimpleMeterRegistry(),
            System::nanoTime)) {
      RequestParser parser = new RequestParser(System::currentTimeMillis);
      List<RankRequest> bodies = requests(parser);
      Cache<Long, Parsed.Item> caffeine =
          Caffeine.newBuilder()
              .maximumSize(200_000)
              .expireAfterWrite(Duration.ofMinutes(10))
              .build();
      for (RankRequest r : bodies) { // every id read once: both hold the same items
        Parsed.Item[] items = features.get(r.userId(), r.itemIds()).items();
        for (int k = 0; k < items.length; k++) {
          caffeine.put(r.itemIds()[k], items[k]);
        }
      }
      List<Call> calls = new ArrayList<>();
      for (RankRequest r : bodies) {
        Map<String, String> user = userHash(r.userId());
        calls.add(
            new Call(
                r,
                UserState.fromHash(user),
                UserState.profileFromHash(r.userId(), user),
                features.get(r.userId(), r.itemIds()).items()));
      }
      for (int run = 0; run <= runs; run++) { // run 0 warms the JIT and is not reported
        Map<String, Double> f = new LinkedHashMap<>();
        f.put("lookup_c100_us", perRequestMicros(bodies, r -> lookup(features, r)));
        f.put("caffeine_reads_c100_us", perRequestMicros(bodies, r -> reads(caffeine, r)));
        f.put(
            "lookup_to_caffeine_reads_ratio",
            f.get("lookup_c100_us") / f.get("caffeine_reads_c100_us"));
        for (int c : new int[] {CANDIDATES, 1_000}) {
          String key = "parse_c" + c;
          f.put(key + "_us", parseMicros(parser, bodies(c), false));
          f.put(key + "_general_us", parseMicros(parser, bodies(c), true));
          f.put(key + "_to_general_ratio", f.get(key + "_us") / f.get(key + "_general_us"));
        }
        f.put("request_id_ns", idNanos(threads, RequestParser::randomId));
        f.put("uuid_random_ns", idNanos(threads, () -> UUID.randomUUID().toString()));
        f.put("request_id_to_uuid_random_ratio", f.get("request_id_ns") / f.get("uuid_random_ns"));
        modelCall(calls, f);
        if (run > 0) {
          report.addRun(f);
          w.printf("run %d: %s%n", run, f);
          w.flush();
        }
      }
    }
    bareInputs.values().forEach(OnnxTensor::close);
    bareRowInputs.values().forEach(OnnxTensor::close);
    bareSession.close();
    mlp.close();
    if (sink == 42) {
      w.print(""); // keeps the measured work observable to the JIT
    }
    Path file = report.write(out != null ? out : BenchReport.defaultDir());
    w.printf("medians: %s%nwritten %s%n", report.figures(), file);
    return 0;
  }

  /** A request with its user's and candidates' features, as the ranker has them from its cache. */
  private record Call(
      RankRequest request, UserState user, UserProfile profile, Parsed.Item[] items) {
    /** A request's own serving features, as the ranker builds them before the model call. */
    ServingFeatures serving() {
      return new ServingFeatures(
          request.userId(), user, profile, request.atMillis(), request.device());
    }
  }

  /**
   * The model call's three parts, alternating call by call over the requests: a new batch, a batch
   * already vectorized, the bare call; and the bare call fed every input row by row (the user's
   * side computed per candidate, as before {@link ModelInputs#META_PER_REQUEST}). Mean microseconds
   * of each, the walk before it not counted.
   */
  private void modelCall(List<Call> calls, Map<String, Double> f) throws OrtException {
    int n = Math.max(500, requests / 4);
    long whole = 0;
    long vectorized = 0;
    long bare = 0;
    long bareRows = 0;
    for (int q = 0; q < n; q++) {
      Call c = calls.get(q % calls.size());
      long[] ids = c.request().itemIds();
      ServingFeatures user = c.serving(); // its cross groups by category are filled in the call
      walk();
      long t0 = System.nanoTime();
      Batch b = Batch.of(user, ids, c.items());
      sink += Float.floatToRawIntBits(mlp.run(b, ids.length)[0]);
      whole += System.nanoTime() - t0;
      walk();
      t0 = System.nanoTime();
      sink += Float.floatToRawIntBits(mlp.run(b, ids.length)[0]); // rows already built
      vectorized += System.nanoTime() - t0;
      walk();
      t0 = System.nanoTime();
      try (OrtSession.Result r = bareSession.run(bareInputs)) {
        sink += r.size();
      }
      bare += System.nanoTime() - t0;
      walk();
      t0 = System.nanoTime();
      try (OrtSession.Result r = bareSession.run(bareRowInputs)) {
        sink += r.size();
      }
      bareRows += System.nanoTime() - t0;
    }
    f.put("model_call_c100_us", whole / 1e3 / n);
    f.put("model_call_vectorized_c100_us", vectorized / 1e3 / n);
    f.put("bare_call_c100_us", bare / 1e3 / n);
    f.put("vectorizing_c100_us", (whole - vectorized) / 1e3 / n);
    f.put("model_call_to_bare_ratio", whole / (double) bare);
    f.put("bare_call_every_row_c100_us", bareRows / 1e3 / n);
    f.put("bare_call_to_every_row_ratio", bare / (double) bareRows);
  }

  /** Dirties a line of every 64 bytes of a 4 MiB array: what a model call does to the caches. */
  private void walk() {
    for (int i = 0; i < pollution.length; i += 64) {
      pollution[i]++;
    }
  }

  /** A user's hash as the streams app writes it: 40 events over 10 of the 20 categories. */
  private static Map<String, String> userHash(long userId) {
    UserState s = new UserState();
    Instant t = Instant.parse("2026-11-01T00:00:00Z");
    for (int k = 0; k < 40; k++) {
      long item = 1 + (userId * 31 + k * 7L) % ITEMS;
      s.add(
          InteractionEvent.newBuilder()
              .setInteractionId("u" + userId + "-" + k)
              .setUserId(userId)
              .setItemId(item)
              .setEventTime(t.plusSeconds(3_600L * k))
              .setClick(k % 3 == 0)
              .setLike(false)
              .setShare(false)
              .setDwellSeconds(k % 60)
              .build(),
          "category-" + (userId + k) % 10 * 2);
    }
    return s.toHash();
  }

  private interface Request {
    void run(RankRequest r);
  }

  /** Mean microseconds of {@code what} per request, the cache walk before each not counted. */
  private double perRequestMicros(List<RankRequest> bodies, Request what) {
    long total = 0;
    for (int q = 0; q < requests; q++) {
      walk();
      RankRequest r = bodies.get(q % bodies.size());
      long t0 = System.nanoTime();
      what.run(r);
      total += System.nanoTime() - t0;
    }
    return total / 1e3 / requests;
  }

  /** Mean microseconds to parse one of {@code bodies}: the fast path first, or Jackson's alone. */
  private double parseMicros(RequestParser parser, List<byte[]> bodies, boolean general) {
    int n = Math.max(1_000, requests / 4);
    long t0 = System.nanoTime();
    for (int q = 0; q < n; q++) {
      byte[] body = bodies.get(q % bodies.size());
      RankRequest r = general ? parser.parseGeneral(body) : parser.parse(body);
      sink += r.itemIds().length;
    }
    return (System.nanoTime() - t0) / 1e3 / n;
  }

  private final Map<Integer, List<byte[]>> bodyBytes = new HashMap<>();

  /** The load generator's bodies of {@code candidates} ids, as bytes. */
  private List<byte[]> bodies(int candidates) {
    return bodyBytes.computeIfAbsent(
        candidates,
        c ->
            LoadGenerator.bodies(200, c, USERS, ITEMS, 11).stream()
                .map(b -> b.getBytes(StandardCharsets.UTF_8))
                .toList());
  }

  private void lookup(CachingFeatureStore features, RankRequest r) {
    sink += features.get(r.userId(), r.itemIds()).items().length;
  }

  private void reads(Cache<Long, Parsed.Item> caffeine, RankRequest r) {
    for (long id : r.itemIds()) {
      sink += caffeine.getIfPresent(id) == null ? 0 : 1;
    }
  }

  /** Wall nanoseconds per id of {@code threads} threads making ids together. */
  private static double idNanos(int threads, Supplier<String> ids) throws InterruptedException {
    int each = 100_000;
    Thread[] ts = new Thread[threads];
    long[] lengths = new long[threads];
    long t0 = System.nanoTime();
    for (int k = 0; k < threads; k++) {
      int slot = k;
      ts[k] =
          new Thread(
              () -> {
                long n = 0;
                for (int i = 0; i < each; i++) {
                  n += ids.get().length();
                }
                lengths[slot] = n;
              });
      ts[k].start();
    }
    for (Thread t : ts) {
      t.join();
    }
    return (System.nanoTime() - t0) / (double) ((long) each * threads);
  }

  /**
   * Random inputs of {@code rows} rows for every input of the bare session; one row for its
   * per-request inputs unless {@code everyRow} (every input fed row by row, as models before {@link
   * ModelInputs#META_PER_REQUEST} were).
   */
  private Map<String, OnnxTensor> bareInputs(OrtEnvironment env, int rows, boolean everyRow)
      throws OrtException {
    Set<String> once =
        everyRow
            ? Set.of()
            : ModelInputs.perRequestInputs(bareSession.getMetadata().getCustomMetadata());
    Random r = new Random(rows);
    Map<String, OnnxTensor> in = new HashMap<>();
    in.put(
        ModelInputs.USER,
        floats(env, r, ModelInputs.rowsFed(ModelInputs.USER, once, rows), Vectorizer.USER_WIDTH));
    in.put(ModelInputs.ITEM, floats(env, r, rows, Vectorizer.ITEM_WIDTH));
    in.put(ModelInputs.CROSS, floats(env, r, rows, Vectorizer.CROSS_WIDTH));
    int contextRows = ModelInputs.rowsFed(ModelInputs.CONTEXT, once, rows);
    in.put(ModelInputs.CONTEXT, floats(env, r, contextRows, Vectorizer.CONTEXT_WIDTH));
    int userIdRows = ModelInputs.rowsFed(ModelInputs.USER_ID, once, rows);
    in.put(ModelInputs.USER_ID, longs(env, r, userIdRows, RankerBenchmark.USER_BUCKETS));
    in.put(ModelInputs.ITEM_ID, longs(env, r, rows, RankerBenchmark.ITEM_BUCKETS));
    in.keySet().retainAll(bareSession.getInputNames());
    return in;
  }

  private static OnnxTensor floats(OrtEnvironment env, Random r, int rows, int width)
      throws OrtException {
    FloatBuffer b = RankerBenchmark.floats(rows * width);
    for (int i = 0; i < rows * width; i++) {
      b.put(i, (float) r.nextGaussian());
    }
    return OnnxTensor.createTensor(env, b, new long[] {rows, width});
  }

  private static OnnxTensor longs(OrtEnvironment env, Random r, int rows, int buckets)
      throws OrtException {
    LongBuffer b = RankerBenchmark.longs(rows);
    for (int i = 0; i < rows; i++) {
      b.put(i, r.nextInt(buckets));
    }
    return OnnxTensor.createTensor(env, b, new long[] {rows});
  }

  /** The load generator's 100-candidate bodies, parsed as the ranker parses them. */
  private static List<RankRequest> requests(RequestParser parser) {
    List<RankRequest> out = new ArrayList<>();
    for (String body : LoadGenerator.bodies(200, CANDIDATES, USERS, ITEMS, 7)) {
      out.add(parser.parse(body.getBytes(StandardCharsets.UTF_8)));
    }
    return out;
  }

  /** A hash per item, written as the streams app writes it: one event each, 20 categories. */
  private static Map<Long, Map<String, String>> itemHashes() {
    Map<Long, Map<String, String>> out = new HashMap<>();
    Instant t = Instant.parse("2026-11-01T00:00:00Z");
    for (long id = 1; id <= ITEMS; id++) {
      ItemState s = new ItemState();
      s.add(
          InteractionEvent.newBuilder()
              .setInteractionId("e" + id)
              .setUserId(id % USERS)
              .setItemId(id)
              .setEventTime(t.plusSeconds(id))
              .setClick(id % 7 == 0)
              .setLike(false)
              .setShare(false)
              .setDwellSeconds(id % 60)
              .build());
      ItemMetadata m =
          ItemMetadata.newBuilder()
              .setItemId(id)
              .setCategory("category-" + id % 20)
              .setCreatedAt(t)
              .setContentLength((int) (id % 2_000))
              .build();
      out.put(id, s.toHash(m));
    }
    return out;
  }

  @SuppressWarnings("unchecked")
  private static FeatureStore.Fetched fetched(
      Map<Long, Map<String, String>> hashes, long[] userIds, long[] itemIds) {
    Map<String, String>[] users = new Map[userIds.length];
    Arrays.fill(users, Map.of());
    Map<String, String>[] items = new Map[itemIds.length];
    for (int i = 0; i < itemIds.length; i++) {
      items[i] = hashes.getOrDefault(itemIds[i], Map.of());
    }
    return new FeatureStore.Fetched(users, items);
  }
}
