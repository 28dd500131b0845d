package io.feedrank.streams.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.feedrank.streams.metrics.FeatureMetrics;
import io.feedrank.streams.redis.FeatureWriter.FeatureWrite;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.lang.Thread.State;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

class AsyncFeatureWriterTest {
  /** A store that merges fields like HSET, and can be made to fail. */
  static final class FakeStore implements FeatureWriter {
    final Map<String, Map<String, String>> hashes = new ConcurrentHashMap<>();
    final AtomicBoolean down = new AtomicBoolean();
    final AtomicInteger batches = new AtomicInteger();

    @Override
    public void write(List<FeatureWrite> batch) {
      if (down.get()) {
        throw new IllegalStateException("connection refused");
      }
      batches.incrementAndGet();
      batch.forEach(
          w -> hashes.computeIfAbsent(w.key(), k -> new ConcurrentHashMap<>()).putAll(w.fields()));
    }
  }

  static FeatureWrite write(String key, String field, String value) {
    return new FeatureWrite(key, Map.of(field, value), 0);
  }

  @Test
  void everyWriteLandsAndTheLatestValueOfAFieldWins() {
    FakeStore store = new FakeStore();
    SimpleMeterRegistry meters = new SimpleMeterRegistry();
    try (AsyncFeatureWriter w = new AsyncFeatureWriter(store, new FeatureMetrics(meters), 1_000)) {
      for (int i = 0; i < 5_000; i++) {
        w.write(
            List.of(
                write("fr:u:" + (i % 100), "clicks_1h", Integer.toString(i)),
                write("fr:u:" + (i % 100), "f" + (i % 7), "x")));
      }
      Awaitility.await()
          .atMost(Duration.ofSeconds(10))
          .until(() -> w.pending() == 0 && store.hashes.size() == 100);
    }
    for (int u = 0; u < 100; u++) {
      // the last value written for user u is 4900 + u
      assertThat(store.hashes.get("fr:u:" + u))
          .containsEntry("clicks_1h", Integer.toString(4900 + u))
          .containsKeys("f0", "f6");
    }
  }

  @Test
  void writesMadeWhileTheStoreIsDownArriveWhenItIsBackWithoutOverwritingNewerValues() {
    FakeStore store = new FakeStore();
    SimpleMeterRegistry meters = new SimpleMeterRegistry();
    try (AsyncFeatureWriter w = new AsyncFeatureWriter(store, new FeatureMetrics(meters), 10_000)) {
      store.down.set(true);
      w.write(
          List.of(
              write("fr:i:1", "clicks_1d", "1"),
              write("fr:i:1", "category", "news"),
              write("fr:i:2", "clicks_1d", "5")));
      Awaitility.await()
          .atMost(Duration.ofSeconds(10))
          .until(() -> meters.get("features.redis.write.failures").counter().count() >= 2);
      w.write(List.of(write("fr:i:1", "clicks_1d", "2"))); // newer than the failed one
      store.down.set(false);
      Awaitility.await()
          .atMost(Duration.ofSeconds(10))
          .until(() -> w.pending() == 0 && store.hashes.size() == 2);
    }
    Map<String, String> expected = new HashMap<>(Map.of("clicks_1d", "2", "category", "news"));
    assertThat(store.hashes.get("fr:i:1")).isEqualTo(expected);
    assertThat(store.hashes.get("fr:i:2")).containsEntry("clicks_1d", "5");
  }

  /**
   * While the store refuses, the writer retries once per backoff (200 ms), however often the stream
   * threads hand it writes: every submit used to wake its wait, so it retried at their flush rate,
   * and the failure count grew with it.
   */
  @Test
  void whileTheStoreRefusesTheWriterRetriesOncePerBackoffNotPerSubmit() throws Exception {
    FakeStore store = new FakeStore();
    store.down.set(true);
    SimpleMeterRegistry meters = new SimpleMeterRegistry();
    try (AsyncFeatureWriter w = new AsyncFeatureWriter(store, new FeatureMetrics(meters), 1_000)) {
      long start = System.nanoTime();
      // a submit every 5 ms for about 1 s, as 20 tasks flushing every 100 ms would
      AtomicInteger submitted = new AtomicInteger();
      java.util.concurrent.ScheduledExecutorService flusher =
          java.util.concurrent.Executors.newSingleThreadScheduledExecutor();
      try {
        flusher.scheduleAtFixedRate(
            () -> {
              int i = submitted.getAndIncrement();
              w.write(List.of(write("fr:u:" + (i % 10), "n", Integer.toString(i))));
            },
            0,
            5,
            java.util.concurrent.TimeUnit.MILLISECONDS);
        Awaitility.await().atMost(Duration.ofSeconds(20)).until(() -> submitted.get() >= 200);
      } finally {
        flusher.shutdownNow();
        flusher.awaitTermination(5, java.util.concurrent.TimeUnit.SECONDS);
      }
      double seconds = (System.nanoTime() - start) / 1e9;
      double failures = meters.counter("features.redis.write.failures").count();
      // once per 200 ms and the first attempt: ~6 in about a second; per submit it was ~200
      assertThat(failures).isGreaterThanOrEqualTo(2).isLessThanOrEqualTo(2 + seconds / 0.2 + 2);
      // and what was kept lands once the store takes it
      store.down.set(false);
      Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> store.hashes.size() == 10);
    }
  }

  /**
   * While the store is down, the writer holds at most {@code maxPending} entities and one batch, in
   * the queue and on their way together, and refuses a batch without room; what it took, and what
   * it refused and was submitted again, all lands once the store is back. Each failed attempt used
   * to put its writes back on top of what had been submitted meanwhile, up to another {@code
   * maxPending}: it grew by that much per retry, to every entity changed during the outage.
   */
  @Test
  void whileTheStoreIsDownTheWriterHoldsAtMostMaxPendingAndLosesNothing() {
    FakeStore store = new FakeStore();
    store.down.set(true);
    AtomicInteger largestBatch = new AtomicInteger();
    FeatureWriter counting =
        batch -> {
          largestBatch.accumulateAndGet(batch.size(), Math::max);
          store.write(batch);
        };
    Set<String> landed = ConcurrentHashMap.newKeySet();
    List<List<FeatureWrite>> refused = new ArrayList<>();
    int largestHeld = 0;
    try (AsyncFeatureWriter w =
        new AsyncFeatureWriter(counting, new FeatureMetrics(new SimpleMeterRegistry()), 100)) {
      for (int i = 0; i < 10_000; i += 10) {
        List<FeatureWrite> batch = new ArrayList<>();
        for (int k = i; k < i + 10; k++) {
          batch.add(write("fr:u:" + k, "n", "1"));
        }
        try {
          w.submit(batch, x -> landed.add(x.key()));
        } catch (IllegalStateException e) {
          refused.add(batch); // kept by the caller, as DirtyEntities keeps its entities pending
        }
        largestHeld = Math.max(largestHeld, w.pending());
      }
      assertThat(largestHeld).isLessThanOrEqualTo(110);
      assertThat(largestBatch.get()).isLessThanOrEqualTo(110);

      store.down.set(false);
      // submitted again at the caller's next flushes until taken
      for (List<FeatureWrite> batch : refused) {
        Awaitility.await()
            .atMost(Duration.ofSeconds(30))
            .pollDelay(Duration.ZERO)
            .pollInterval(Duration.ofMillis(10))
            .until(
                () -> {
                  try {
                    w.submit(batch, x -> landed.add(x.key()));
                    return true;
                  } catch (IllegalStateException e) {
                    return false;
                  }
                });
      }
      Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> landed.size() == 10_000);
    }
    assertThat(store.hashes).hasSize(10_000);
  }

  /**
   * A submit finding no room while the store is slow, not failing, waits for room a bounded time
   * ({@link AsyncFeatureWriter#MAX_WAIT_MILLIS}), then refuses the batch whole: a stream thread
   * waits inside an exactly-once transaction. A write on its way counts: the writer took the queue
   * for each attempt, so there was always room while one was slow.
   */
  @Test
  void aSubmitWithoutRoomWaitsABoundedTimeThenRefusesTheBatchWhole() throws Exception {
    FakeStore store = new FakeStore();
    HeldWriter held = new HeldWriter(store, true);
    ExecutorService streamThread = Executors.newSingleThreadExecutor();
    try (AsyncFeatureWriter w =
        new AsyncFeatureWriter(held, new FeatureMetrics(new SimpleMeterRegistry()), 10)) {
      for (int i = 0; i < 10; i++) {
        w.write(List.of(write("fr:u:" + i, "n", "0")));
      }
      held.awaitHeld();
      Future<?> submit =
          streamThread.submit(
              () ->
                  w.submit(
                      List.of(write("fr:u:10", "n", "0"), write("fr:u:11", "n", "0")), x -> {}));
      assertThatThrownBy(() -> submit.get(10, TimeUnit.SECONDS))
          .isInstanceOf(ExecutionException.class)
          .cause()
          .isInstanceOf(IllegalStateException.class)
          .hasMessageContaining("maxPending 10");
      assertThat(w.pending()).isEqualTo(10);
      held.release();
    } finally {
      streamThread.shutdownNow();
    }
    assertThat(store.hashes).hasSize(10).doesNotContainKeys("fr:u:10", "fr:u:11");
  }

  /**
   * A profile or catalog write (no callbacks) merged over a state write of the same key, as the
   * global tables' thread and a stream thread do while the writer is busy, keeps the state write's
   * callbacks: they used to be replaced by the profile's none, so the state write's landing, or its
   * refusal over a lost hash, was never heard of. A refused write is not reported landed. The merge
   * keeps the state write's base too, so it is still refused over an older copy of the hash.
   */
  @Test
  void aWriteWithoutCallbacksMergedOverOneWithThemKeepsTheirCallbacks() throws Exception {
    // the first batch holds the writer thread; Redis had lost user 1's hash, not user 2's
    HeldWriter held =
        new HeldWriter(
            new FeatureWriter() {
              @Override
              public void write(List<FeatureWrite> batch) {
                throw new UnsupportedOperationException();
              }

              @Override
              public Set<String> writeFindingLost(List<FeatureWrite> batch) {
                return Set.of("fr:u:1");
              }
            },
            true);
    List<FeatureWrite> landed = new CopyOnWriteArrayList<>();
    List<FeatureWrite> lost = new CopyOnWriteArrayList<>();
    Map<String, String> state = Map.of("_ts", "1000", "c.news._ts", "1000");
    try (AsyncFeatureWriter w =
        new AsyncFeatureWriter(held, new FeatureMetrics(new SimpleMeterRegistry()), 1_000)) {
      w.write(List.of(write("fr:i:9", "category", "news")));
      held.awaitHeld();
      // they wait behind the held batch: each profile, newer, is merged over its state write
      for (String user : List.of("fr:u:1", "fr:u:2")) {
        w.submit(List.of(new FeatureWrite(user, state, 1000, true, 3)), landed::add, lost::add);
        w.write(
            List.of(new FeatureWrite(user, Map.of("country", "FR"), FeatureWriter.NO_EVENT, true)));
      }
      held.release();
    } // close: what is pending is written, and whom to tell told, before it returns
    Map<String, String> both = Map.of("_ts", "1000", "c.news._ts", "1000", "country", "FR");
    FeatureWrite refused = new FeatureWrite("fr:u:1", both, 1000, true, 3);
    FeatureWrite written = new FeatureWrite("fr:u:2", both, 1000, true, 3);
    assertThat(held.written).containsExactly(write("fr:i:9", "category", "news"), refused, written);
    assertThat(landed).containsExactly(written);
    assertThat(lost).containsExactly(refused);
  }

  /**
   * An Error on the writer thread (here from the store, as an OutOfMemoryError would come) ends it:
   * said at ERROR with the Error, {@link AsyncFeatureWriter#failed} completes, and a stream thread
   * waiting for room, as every one did once the writer's queue was full, is refused instead. The
   * thread used to die with only a stack trace on stderr, and the waiting submits never returned:
   * the app stayed RUNNING, writing nothing.
   */
  @Test
  void anErrorEndsTheWriterThreadAndRefusesTheWritesWaitingForRoom() throws Exception {
    HeldWriter held =
        new HeldWriter(
            batch -> {
              throw new OutOfMemoryError("test");
            },
            true);
    Logger logger = (Logger) LoggerFactory.getLogger(AsyncFeatureWriter.class);
    ListAppender<ILoggingEvent> lines = new ListAppender<>();
    lines.start();
    logger.addAppender(lines);
    ExecutorService streamThread = Executors.newSingleThreadExecutor();
    try (AsyncFeatureWriter w =
        new AsyncFeatureWriter(held, new FeatureMetrics(new SimpleMeterRegistry()), 10)) {
      w.write(List.of(write("fr:u:0", "n", "0")));
      held.awaitHeld();
      for (int i = 1; i < 10; i++) {
        w.write(List.of(write("fr:u:" + i, "n", "0")));
      }
      // past maxPending, the held write counted: waits for it to be written
      AtomicReference<Thread> submitter = new AtomicReference<>();
      Future<?> waiting =
          streamThread.submit(
              () -> {
                submitter.set(Thread.currentThread());
                w.write(List.of(write("fr:u:11", "n", "0")));
              });
      Awaitility.await()
          .atMost(Duration.ofSeconds(10))
          .until(() -> submitter.get() != null && submitter.get().getState() == State.WAITING);
      assertThat(w.failed()).isNotDone();

      held.release(); // the store throws the Error
      assertThatThrownBy(() -> waiting.get(10, TimeUnit.SECONDS))
          .isInstanceOf(ExecutionException.class)
          .cause()
          .isInstanceOf(IllegalStateException.class)
          .cause()
          .isInstanceOf(OutOfMemoryError.class);
      assertThat(w.failed()).succeedsWithin(Duration.ofSeconds(10));
      // and a write after it is refused at once, with room or without
      assertThatThrownBy(() -> w.write(List.of(write("fr:u:12", "n", "0"))))
          .isInstanceOf(IllegalStateException.class)
          .hasCauseInstanceOf(OutOfMemoryError.class);
      Awaitility.await()
          .atMost(Duration.ofSeconds(10))
          .untilAsserted(
              () ->
                  assertThat(lines.list)
                      .anySatisfy(
                          e -> {
                            assertThat(e.getLevel()).isEqualTo(Level.ERROR);
                            assertThat(e.getThrowableProxy().getClassName())
                                .isEqualTo(OutOfMemoryError.class.getName());
                          }));
    } finally {
      streamThread.shutdownNow();
      logger.detachAppender(lines);
    }
  }

  @Test
  void closeWritesWhatIsPending() {
    FakeStore store = new FakeStore();
    AsyncFeatureWriter w =
        new AsyncFeatureWriter(store, new FeatureMetrics(new SimpleMeterRegistry()), 10_000);
    for (int i = 0; i < 2_000; i++) {
      w.write(List.of(write("fr:u:" + i, "_ts", "1")));
    }
    w.close();
    assertThat(store.hashes).hasSize(2_000);
  }
}
