package io.feedrank.ranker.logging;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.feedrank.events.Device;
import io.feedrank.events.RankingLog;
import io.feedrank.localstack.Ports;
import io.feedrank.ranker.RankResult;
import io.feedrank.ranker.RankingLogs;
import io.feedrank.ranker.api.RankRequest;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.MockProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.serialization.StringSerializer;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/**
 * The logger with Kafka down: a real producer whose bootstrap address has no broker blocks in
 * {@code send} waiting for metadata (up to {@code max.block.ms}, a minute here), as it does when
 * the cluster is unreachable. A request must never wait for that: {@code offer} returns at once,
 * and a full queue drops the entry and counts it.
 */
class RankingLoggerTest {
  static final int CAPACITY = 10;
  static final int OFFERED = 2_000;

  /** No bound on the queue's bytes, where a test is about its count or the producer. */
  static final long UNBOUNDED = Long.MAX_VALUE;

  /**
   * A real producer whose bootstrap address has no broker: each send blocks for metadata, up to a
   * minute.
   */
  static KafkaProducer<String, RankingLog> producerToNoBroker() {
    Map<String, Object> config =
        Map.of(
            ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, "127.0.0.1:" + Ports.freePort(),
            ProducerConfig.MAX_BLOCK_MS_CONFIG, 60_000,
            ProducerConfig.RECONNECT_BACKOFF_MAX_MS_CONFIG, 1_000);
    return new KafkaProducer<>(config, new StringSerializer(), (topic, r) -> new byte[0]);
  }

  @Test
  void withKafkaDownAFullQueueDropsAndCountsEveryEntryItCannotHoldAndNeverBlocks()
      throws Exception {
    KafkaProducer<String, RankingLog> producer = producerToNoBroker();
    SimpleMeterRegistry metrics = new SimpleMeterRegistry();
    ListAppender<ILoggingEvent> lines = capture();
    RankingLogger<RankingLog> logger =
        new RankingLogger<>(producer, "ranking-logs", CAPACITY, UNBOUNDED, r -> 0, r -> r, metrics);
    RankingLog entry = entry();
    try {
      // the logger thread takes a first entry and blocks sending it
      assertThat(logger.offer(entry)).isTrue();
      Awaitility.await()
          .atMost(Duration.ofSeconds(10))
          .until(() -> metrics.get("ranker.log.queue.size").gauge().value() == 0);

      int accepted =
          assertTimeoutPreemptively(
              Duration.ofSeconds(20), // a blocking offer would wait the producer's minute
              () -> {
                int a = 0;
                for (int i = 0; i < OFFERED; i++) {
                  a += logger.offer(entry) ? 1 : 0;
                }
                return a;
              });
      // the queue's capacity, and at most one drain (511) if the thread was between its poll
      // and its drain when the offers began
      assertThat(accepted).isBetween(CAPACITY, CAPACITY + 511);
      assertThat(metrics.get("ranker.log.drops").counter().count()).isEqualTo(OFFERED - accepted);
      assertThat(metrics.get("ranker.log.sent").counter().count()).isZero();
    } finally {
      producer.close(Duration.ZERO); // wakes the blocked send; later sends fail at once
      logger.close(Duration.ofSeconds(10));
      release(lines);
    }
    // every entry the logger took is accounted for as a failure, none is lost silently
    double drops = metrics.get("ranker.log.drops").counter().count();
    double taken = 1 + OFFERED - drops;
    assertThat(metrics.get("ranker.log.failures").counter().count()).isEqualTo(taken);
    // and every one is said in the log by the time close returns
    assertThat(said(lines, FAILED)).isEqualTo((long) taken);
    assertThat(said(lines, DROPPED)).isEqualTo((long) drops);
    assertThat(said(lines, NOT_WRITTEN)).isEqualTo(OFFERED + 1);
  }

  /**
   * Logs the producer cannot write are said in the log, the first at once with its reason, then at
   * most one line a minute: twenty failures in a few seconds are one line, and the other nineteen
   * one more when the logger closes; all twenty counted.
   */
  @Test
  void failedLogsAreSaidOnceAMinuteNotOncePerLog() throws Exception {
    Map<String, Object> config =
        Map.of(
            ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, "127.0.0.1:" + Ports.freePort(),
            ProducerConfig.MAX_BLOCK_MS_CONFIG, 100,
            ProducerConfig.RECONNECT_BACKOFF_MAX_MS_CONFIG, 1_000);
    KafkaProducer<String, RankingLog> producer =
        new KafkaProducer<>(config, new StringSerializer(), (topic, r) -> new byte[0]);
    SimpleMeterRegistry metrics = new SimpleMeterRegistry();
    Logger logger = (Logger) LoggerFactory.getLogger(RankingLogger.class);
    ListAppender<ILoggingEvent> logs = new ListAppender<>();
    logs.start();
    logger.addAppender(logs);
    RankingLogger<RankingLog> rankingLogger =
        new RankingLogger<>(producer, "ranking-logs", 100, UNBOUNDED, r -> 0, r -> r, metrics);
    try {
      for (int i = 0; i < 20; i++) {
        assertThat(rankingLogger.offer(entry())).isTrue();
      }
      Awaitility.await()
          .atMost(Duration.ofSeconds(30))
          .until(() -> metrics.get("ranker.log.failures").counter().count() == 20);
      assertThat(warnings(logs)).hasSize(1);
    } finally {
      rankingLogger.close(Duration.ofSeconds(10));
      producer.close(Duration.ZERO);
      logger.detachAppender(logs);
    }
    List<String> warnings = warnings(logs);
    assertThat(warnings).hasSize(2);
    assertThat(warnings.get(0))
        .startsWith("ranker: 1 ranking log(s) not written since the last such line: 1 failed")
        .contains("TimeoutException");
    assertThat(warnings.get(1))
        .startsWith("ranker: 19 ranking log(s) not written since the last such line: 19 failed")
        .contains("0 dropped");
  }

  /**
   * A line that is due is written whether or not a failure comes after it: failures over two
   * seconds, lines at most every three here, all said three seconds after the first without another
   * failure or a close (they used to wait for the next failure after the interval, and an outage
   * shorter than it said one of its failures).
   */
  @Test
  void failuresAreSaidOnceTheirLineIsDueWithoutAFailureAfterIt() throws Exception {
    Map<String, Object> config =
        Map.of(
            ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, "127.0.0.1:" + Ports.freePort(),
            ProducerConfig.MAX_BLOCK_MS_CONFIG, 100,
            ProducerConfig.RECONNECT_BACKOFF_MAX_MS_CONFIG, 1_000);
    KafkaProducer<String, RankingLog> producer =
        new KafkaProducer<>(config, new StringSerializer(), (topic, r) -> new byte[0]);
    SimpleMeterRegistry metrics = new SimpleMeterRegistry();
    ListAppender<ILoggingEvent> lines = capture();
    RankingLogger<RankingLog> rankingLogger =
        new RankingLogger<>(
            producer,
            "ranking-logs",
            100,
            UNBOUNDED,
            r -> 0,
            r -> r,
            metrics,
            Duration.ofSeconds(3));
    try {
      long start = System.nanoTime();
      for (int i = 0; i < 20; i++) {
        assertThat(rankingLogger.offer(entry())).isTrue();
      }
      Awaitility.await()
          .atMost(Duration.ofSeconds(30))
          .until(() -> metrics.get("ranker.log.failures").counter().count() == 20);
      long failingMillis = (System.nanoTime() - start) / 1_000_000;
      Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> said(lines, FAILED) == 20);
      // the first failure at once, then a line per 3 s gate while they go on, and the last said
      // when due: 2 when the 20 sends of 100 ms fail within 3 s, more on a machine so loaded that
      // they take longer (6 s and 3 lines seen), never one per failure
      assertThat(warnings(lines)).hasSizeBetween(2, (int) (2 + failingMillis / 3_000));
    } finally {
      rankingLogger.close(Duration.ofSeconds(10));
      producer.close(Duration.ZERO);
      release(lines);
    }
    assertThat(said(lines, FAILED)).isEqualTo(20);
  }

  /**
   * Closed while Kafka is away: the entry being sent fails when the producer closes, the entries
   * still queued are counted as lost, and all of it is counted when close returns (the thread used
   * to run on against a closed producer, counting, if at all, after the ranker had stopped).
   */
  @Test
  void closedWithKafkaDownEveryEntryIsAccountedForWhenCloseReturns() throws Exception {
    KafkaProducer<String, RankingLog> producer = producerToNoBroker();
    SimpleMeterRegistry metrics = new SimpleMeterRegistry();
    RankingLogger<RankingLog> logger =
        new RankingLogger<>(producer, "ranking-logs", CAPACITY, UNBOUNDED, r -> 0, r -> r, metrics);
    RankingLog entry = entry();
    // the logger thread takes a first entry and blocks sending it; five more wait in the queue
    assertThat(logger.offer(entry)).isTrue();
    Awaitility.await()
        .atMost(Duration.ofSeconds(10))
        .until(() -> metrics.get("ranker.log.queue.size").gauge().value() == 0);
    for (int i = 0; i < 5; i++) {
      assertThat(logger.offer(entry)).isTrue();
    }
    logger.close(Duration.ofMillis(200));
    assertThat(metrics.get("ranker.log.lost").counter().count()).isEqualTo(5);
    assertThat(metrics.get("ranker.log.failures").counter().count()).isEqualTo(1);
    assertThat(metrics.get("ranker.log.sent").counter().count()).isZero();
    assertThat(metrics.get("ranker.log.drops").counter().count()).isZero();
  }

  /**
   * Closed on an interrupted thread (the ranker's start cut short by Ctrl-C), the logger still
   * closes its producer: the wait for its thread, here busy with an entry, gives up at once, and
   * the producer, with its thread and connections, was left open after it.
   */
  @Test
  void closedOnAnInterruptedThreadTheLoggerStillClosesItsProducer() throws Exception {
    MockProducer<String, RankingLog> producer =
        new MockProducer<>(true, null, new StringSerializer(), (topic, r) -> new byte[0]);
    CountDownLatch building = new CountDownLatch(1);
    CountDownLatch built = new CountDownLatch(1);
    RankingLogger<RankingLog> logger =
        new RankingLogger<>(
            producer,
            "ranking-logs",
            CAPACITY,
            UNBOUNDED,
            r -> 0,
            r -> {
              building.countDown();
              awaitUninterruptibly(built);
              return r;
            },
            new SimpleMeterRegistry());
    assertThat(logger.offer(entry())).isTrue();
    assertThat(building.await(5, TimeUnit.SECONDS)).isTrue();
    Thread.currentThread().interrupt();
    try {
      assertThatThrownBy(() -> logger.close(Duration.ofSeconds(1)))
          .isInstanceOf(InterruptedException.class);
    } finally {
      Thread.interrupted();
      built.countDown();
    }
    assertThat(producer.closed()).isTrue();
  }

  /**
   * Holds the logger's thread as a send blocked on Kafka's metadata would, through any interrupt.
   */
  private static void awaitUninterruptibly(CountDownLatch latch) {
    while (latch.getCount() > 0) {
      try {
        latch.await();
      } catch (InterruptedException e) {
        // waits on
      }
    }
  }

  @Test
  void aDiscardingLoggerBuildsEveryRecordOnItsThreadAndHandsItOverSendingNothing()
      throws Exception {
    List<String> handed = new java.util.concurrent.CopyOnWriteArrayList<>();
    List<String> threads = new java.util.concurrent.CopyOnWriteArrayList<>();
    SimpleMeterRegistry metrics = new SimpleMeterRegistry();
    RankingLogger<String> logger =
        RankingLogger.discarding(
            r -> {
              handed.add(r.getRequestId().toString());
              threads.add(Thread.currentThread().getName());
            },
            100,
            UNBOUNDED,
            id -> 0,
            id -> {
              RankingLog r = entry();
              r.setRequestId(id);
              return r;
            },
            metrics);
    for (int i = 0; i < 50; i++) {
      assertThat(logger.offer("r" + i)).isTrue();
    }
    logger.close(Duration.ofSeconds(10)); // drains the queue first
    assertThat(handed).hasSize(50).startsWith("r0", "r1").endsWith("r49");
    assertThat(threads).containsOnly("ranker-ranking-logger");
    assertThat(metrics.get("ranker.log.sent").counter().count()).isZero();
    assertThat(metrics.get("ranker.log.failures").counter().count()).isZero();
  }

  /**
   * An Error building a record (here a StackOverflowError, for one entry of three) fails that log:
   * counted and said as a failure, and said at ERROR with its stack trace; the thread goes on with
   * the next. It used to end the thread: every later entry was dropped with the queue full, and no
   * line said why.
   */
  @Test
  void anErrorOnTheLoggersThreadFailsItsLogAndTheThreadGoesOn() throws Exception {
    List<String> handed = new java.util.concurrent.CopyOnWriteArrayList<>();
    SimpleMeterRegistry metrics = new SimpleMeterRegistry();
    ListAppender<ILoggingEvent> lines = capture();
    RankingLogger<String> logger =
        RankingLogger.discarding(
            r -> handed.add(r.getRequestId().toString()),
            100,
            UNBOUNDED,
            id -> 0,
            id -> {
              if (id.equals("deep")) {
                throw new StackOverflowError("test");
              }
              RankingLog r = entry();
              r.setRequestId(id);
              return r;
            },
            metrics);
    try {
      assertThat(logger.offer("r0")).isTrue();
      assertThat(logger.offer("deep")).isTrue();
      assertThat(logger.offer("r2")).isTrue();
      Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> handed.size() == 2);
      assertThat(handed).containsExactly("r0", "r2");
      assertThat(metrics.get("ranker.log.failures").counter().count()).isEqualTo(1);
      List<ILoggingEvent> errors;
      synchronized (lines) {
        errors = lines.list.stream().filter(e -> e.getLevel() == Level.ERROR).toList();
      }
      assertThat(errors).hasSize(1);
      assertThat(errors.get(0).getFormattedMessage())
          .startsWith("ranker: 1 fault(s) on the ranking logger's thread");
      assertThat(errors.get(0).getThrowableProxy().getClassName())
          .isEqualTo(StackOverflowError.class.getName());
      // and it goes on taking entries
      assertThat(logger.offer("r3")).isTrue();
      Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> handed.size() == 3);
    } finally {
      logger.close(Duration.ofSeconds(10));
      release(lines);
    }
    assertThat(said(lines, FAILED)).isEqualTo(1);
  }

  @Test
  void aSteadyStreamOfEntriesIsTakenInGatheredDrainsNotAWakeUpPerEntry() throws Exception {
    int n = 2_000;
    RankingLog record = entry();
    AtomicInteger handed = new AtomicInteger();
    // entries taken out of order or skipped, checked at the end (an AssertionError on the
    // logger's thread would end it, and the test would only time out)
    java.util.List<String> outOfOrder = new java.util.concurrent.CopyOnWriteArrayList<>();
    SimpleMeterRegistry metrics = new SimpleMeterRegistry();
    RankingLogger<Integer> logger =
        RankingLogger.discarding(
            r -> handed.incrementAndGet(),
            n,
            UNBOUNDED,
            i -> 0,
            i -> {
              if (i != handed.get()) {
                outOfOrder.add(i + " after " + handed.get() + " handed");
              }
              return record;
            },
            metrics);
    try {
      long t0 = System.nanoTime();
      for (int i = 0; i < n; i++) {
        // one entry every 200 µs, as requests bring them; a logger that waits on its queue is
        // woken by the next offer and finds that one entry: about n drains
        long due = t0 + i * 200_000L;
        while (System.nanoTime() < due) {
          Thread.onSpinWait();
        }
        assertThat(logger.offer(i)).isTrue();
      }
      Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> handed.get() == n);
      assertThat(outOfOrder).as("in order, none skipped").isEmpty();
      long elapsed = System.nanoTime() - t0;
      // each drain is followed by a gather of GATHER_NANOS: at most one drain per gather over
      // the stream's span, and the first one
      assertThat(logger.drains()).isLessThanOrEqualTo(elapsed / RankingLogger.GATHER_NANOS + 2);
    } finally {
      logger.close(Duration.ofSeconds(10));
    }
  }

  /**
   * Ranking entries of 1,000 candidates with the logger's thread held in its hand-over (as in a
   * send with Kafka away): the queue takes them only while the bytes they are estimated to hold,
   * the one held included, stay within its bound, far below its count of 10,000; every offer past
   * that returns at once, dropped, counted and said with the bytes as the reason; once the thread
   * has handed them over the bytes are free and entries are taken again. 10,000 entries of 1,000
   * candidates held some 200 MB of the ranker's 1.5 GB heap through an outage.
   */
  @Test
  void entriesPastTheQueuesBytesAreDroppedAndCountedUntilItDrains() throws Exception {
    RankingLogs.Entry entry = rankingEntry(1_000);
    // what the JVM lays out for its arrays, each a 16-byte header and 8-byte aligned: the
    // request's 1,000 ids, the result's 1,000 ids and scores, the empty sampled ids and vectors
    long arrays = 2 * (16 + 8 * 1_000) + (16 + 4 * 1_000) + 16 + 16;
    long perEntry = entry.estimatedBytes();
    assertThat(perEntry).isBetween(arrays, arrays + 1_024); // the objects and the request id
    long maxBytes = 10 * perEntry + perEntry / 2; // room for ten and a half
    int fits = (int) (maxBytes / perEntry); // ten, the one held by the thread included
    int offered = 100;

    SimpleMeterRegistry metrics = new SimpleMeterRegistry();
    ListAppender<ILoggingEvent> lines = capture();
    CountDownLatch holding = new CountDownLatch(1);
    CountDownLatch letGo = new CountDownLatch(1);
    AtomicInteger handed = new AtomicInteger();
    RankingLog record = entry();
    RankingLogger<RankingLogs.Entry> logger =
        RankingLogger.discarding(
            r -> {
              holding.countDown();
              try {
                letGo.await(30, TimeUnit.SECONDS);
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
              }
              handed.incrementAndGet();
            },
            10_000,
            maxBytes,
            RankingLogs.Entry::estimatedBytes,
            e -> record,
            metrics);
    try {
      assertThat(logger.offer(entry)).isTrue();
      assertThat(holding.await(10, TimeUnit.SECONDS)).as("the thread holds the first").isTrue();
      int accepted =
          assertTimeoutPreemptively(
              Duration.ofSeconds(20),
              () -> {
                int a = 0;
                for (int i = 0; i < offered; i++) {
                  a += logger.offer(entry) ? 1 : 0;
                }
                return a;
              });
      assertThat(accepted).isEqualTo(fits - 1);
      assertThat(metrics.get("ranker.log.drops").counter().count()).isEqualTo(offered - (fits - 1));
      assertThat(logger.heldBytes()).isEqualTo(fits * perEntry).isLessThanOrEqualTo(maxBytes);
      assertThat(metrics.get("ranker.log.queue.bytes").gauge().value())
          .isEqualTo((double) (fits * perEntry));
      assertThat(metrics.get("ranker.log.queue.size").gauge().value()).isEqualTo(fits - 1);

      letGo.countDown();
      Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> handed.get() == fits);
      Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> logger.heldBytes() == 0);
      assertThat(metrics.get("ranker.log.queue.bytes").gauge().value()).isZero();
      // drained, the queue takes as many again
      for (int i = 0; i < fits; i++) {
        assertThat(logger.offer(entry)).isTrue();
      }
      Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> handed.get() == 2 * fits);
    } finally {
      letGo.countDown();
      logger.close(Duration.ofSeconds(10));
      release(lines);
    }
    long drops = offered - (fits - 1L);
    assertThat(metrics.get("ranker.log.drops").counter().count()).isEqualTo(drops);
    assertThat(said(lines, DROPPED)).isEqualTo(drops);
    assertThat(said(lines, FULL_BY_BYTES)).as("the bytes said as the reason").isEqualTo(drops);
  }

  /** A ranking entry of {@code candidates} candidates, all of them returned, none sampled. */
  static RankingLogs.Entry rankingEntry(int candidates) {
    long[] ids = new long[candidates];
    float[] scores = new float[candidates];
    for (int i = 0; i < candidates; i++) {
      ids[i] = i;
      scores[i] = 1f / (i + 1);
    }
    RankRequest req = new RankRequest("r-1", 1, ids, Device.MOBILE, 0L, candidates);
    RankResult result =
        new RankResult("r-1", 1, "m", "v", "production", ids.clone(), scores, 1.0, null);
    return new RankingLogs.Entry(req, result, "production", "m", "v", new long[0], new float[0][]);
  }

  static final Pattern NOT_WRITTEN =
      Pattern.compile("^ranker: (\\d+) ranking log\\(s\\) not written");
  static final Pattern FAILED = Pattern.compile(": (\\d+) failed in the producer");
  static final Pattern DROPPED = Pattern.compile(", (\\d+) dropped with the queue full");
  static final Pattern FULL_BY_BYTES = Pattern.compile(", (\\d+) of them full by its bytes");

  /** The logger's lines from now on, until {@link #release}. */
  static ListAppender<ILoggingEvent> capture() {
    ListAppender<ILoggingEvent> lines = new ListAppender<>();
    lines.start();
    ((Logger) LoggerFactory.getLogger(RankingLogger.class)).addAppender(lines);
    return lines;
  }

  static void release(ListAppender<ILoggingEvent> lines) {
    ((Logger) LoggerFactory.getLogger(RankingLogger.class)).detachAppender(lines);
  }

  static List<String> warnings(ListAppender<ILoggingEvent> lines) {
    List<ILoggingEvent> events;
    synchronized (lines) { // as the appender appends
      events = List.copyOf(lines.list);
    }
    return events.stream()
        .filter(e -> e.getLevel() == Level.WARN)
        .map(ILoggingEvent::getFormattedMessage)
        .toList();
  }

  /** The sum of the counts {@code count} finds in the WARN lines. */
  static long said(ListAppender<ILoggingEvent> lines, Pattern count) {
    long sum = 0;
    for (String line : warnings(lines)) {
      Matcher m = count.matcher(line);
      if (m.find()) {
        sum += Long.parseLong(m.group(1));
      }
    }
    return sum;
  }

  static RankingLog entry() {
    return RankingLog.newBuilder()
        .setRequestId("r")
        .setTimestamp(Instant.parse("2026-12-04T00:00:00Z"))
        .setUserId(1)
        .setModelName("m")
        .setModelVersion("v")
        .setVariant("production")
        .setItems(List.of())
        .setLatencyMs(0.5)
        .setFeatureSchemaVersion(1)
        .build();
  }
}
