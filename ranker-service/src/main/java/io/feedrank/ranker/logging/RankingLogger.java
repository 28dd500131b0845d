package io.feedrank.ranker.logging;

import io.feedrank.events.RankingLog;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.ToLongFunction;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Logs what was served to {@code ranking-logs} off the request path: {@link #offer} puts an entry
 * into a bounded queue and returns at once — a full queue drops the entry and counts it, it never
 * blocks a request — and one thread builds the Avro records and hands them to the producer.
 *
 * <p>The queue is bounded twice: by its count of entries and by an estimate of the bytes they hold
 * ({@code bytesOf}, summed from the offer until the entry's record is handed over, so the batch
 * being sent counts too). A ranking entry of 1,000 candidates holds some 20 KB: 10,000 of them
 * queued through a Kafka outage pinned about 200 MB of the ranker's 1.5 GB heap, promoted to the
 * old generation at the second collection ({@code -XX:MaxTenuringThreshold=1}), where the bytes'
 * bound holds it to {@code maxBytes}. Either bound reached, the entry is dropped and counted alike.
 *
 * <p>Every entry offered is sent ({@code ranker.log.sent}), dropped ({@code ranker.log.drops}),
 * failed ({@code ranker.log.failures}) or, at stop, lost ({@code ranker.log.lost}); the drops and
 * failures are said in WARN lines, the first at once and then at most one a minute with the counts
 * since, the last of them by the time {@link #close} returns.
 *
 * <p>An {@link Error} on the logger's thread (a record too deep for its stack, a class that cannot
 * be loaded) fails the entry it came from, or what the thread had taken when it came from
 * elsewhere, and is said at ERROR with its stack trace (at most once a minute); the thread goes on.
 * It used to end the thread, and every entry after it was dropped with the queue full, the reason
 * said by no line. An OutOfMemoryError of the heap ends the JVM first ({@code
 * -XX:+ExitOnOutOfMemoryError}).
 *
 * @param <E> the queued entry; {@code toRecord} turns it into the log record on the logger thread
 */
public final class RankingLogger<E> implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(RankingLogger.class);

  /**
   * How long the logger thread lets entries gather after a drain while they keep coming: under load
   * it wakes at most every 5 ms, not once per request or two (the ranker's producer then lingers up
   * to 100 ms before it sends anyway).
   */
  static final long GATHER_NANOS = TimeUnit.MILLISECONDS.toNanos(5);

  private static final int MAX_DRAIN = 512;

  private final BlockingQueue<E> queue;
  private final long maxBytes;
  private final ToLongFunction<E> bytesOf;

  /** The estimated bytes of the entries queued or being handed over: at most {@code maxBytes}. */
  private final AtomicLong heldBytes = new AtomicLong();

  private final Producer<String, RankingLog> producer; // null: records are handed to discard
  private final Consumer<RankingLog> discard;
  private final String topic;
  private final Function<E, RankingLog> toRecord;
  private final Counter sent;
  private final Counter dropped;
  private final Counter failed;
  private final Counter lost;
  private final Thread thread;
  private volatile long drains; // written by the logger thread only
  private volatile boolean running = true;

  /** Failures and drops not yet said in the log, and the last failure's reason. */
  private final AtomicLong unreportedFailures = new AtomicLong();

  private final AtomicLong unreportedDrops = new AtomicLong();
  private final AtomicLong unreportedByteDrops = new AtomicLong(); // of the drops, at maxBytes
  private volatile String lastFailure = "";

  /** How often at most a line says them (the first at once). */
  static final Duration REPORT_EVERY = Duration.ofMinutes(1);

  private final LineGate lines;

  /** The same for the ERROR lines of {@link #fault}, with their count since the last. */
  private final LineGate faultLines;

  private final AtomicLong unreportedFaults = new AtomicLong();

  /**
   * @param capacity the most entries queued
   * @param maxBytes the most bytes the entries queued or being handed over hold, as {@code bytesOf}
   *     estimates them
   * @param bytesOf an entry's estimated bytes: cheap (it runs on the request thread), the same each
   *     time it is asked of an entry, and not negative
   */
  public RankingLogger(
      Producer<String, RankingLog> producer,
      String topic,
      int capacity,
      long maxBytes,
      ToLongFunction<E> bytesOf,
      Function<E, RankingLog> toRecord,
      MeterRegistry metrics) {
    this(producer, null, topic, capacity, maxBytes, bytesOf, toRecord, metrics, REPORT_EVERY);
  }

  /** A logger that says its drops and failures at most once per {@code reportEvery}. */
  RankingLogger(
      Producer<String, RankingLog> producer,
      String topic,
      int capacity,
      long maxBytes,
      ToLongFunction<E> bytesOf,
      Function<E, RankingLog> toRecord,
      MeterRegistry metrics,
      Duration reportEvery) {
    this(producer, null, topic, capacity, maxBytes, bytesOf, toRecord, metrics, reportEvery);
  }

  /**
   * A logger that sends nothing: each record is built on the logger's thread, as by a sending one,
   * and handed to {@code discard} (the ranker's warm-up serializes it). Being of the same class as
   * the service's logger, it leaves the request path's call to {@link #offer} with one receiver
   * class, so the JIT's code for it stays valid when the service's requests come.
   */
  public static <E> RankingLogger<E> discarding(
      Consumer<RankingLog> discard,
      int capacity,
      long maxBytes,
      ToLongFunction<E> bytesOf,
      Function<E, RankingLog> toRecord,
      MeterRegistry metrics) {
    return new RankingLogger<>(
        null, discard, null, capacity, maxBytes, bytesOf, toRecord, metrics, REPORT_EVERY);
  }

  private RankingLogger(
      Producer<String, RankingLog> producer,
      Consumer<RankingLog> discard,
      String topic,
      int capacity,
      long maxBytes,
      ToLongFunction<E> bytesOf,
      Function<E, RankingLog> toRecord,
      MeterRegistry metrics,
      Duration reportEvery) {
    if (maxBytes < 1) {
      throw new IllegalArgumentException("maxBytes must be at least 1, got " + maxBytes);
    }
    this.queue = new ArrayBlockingQueue<>(capacity);
    this.maxBytes = maxBytes;
    this.bytesOf = bytesOf;
    this.lines = new LineGate(reportEvery);
    this.faultLines = new LineGate(reportEvery);
    this.producer = producer;
    this.discard = discard;
    this.topic = topic;
    this.toRecord = toRecord;
    this.sent = Counter.builder("ranker.log.sent").register(metrics);
    this.dropped =
        Counter.builder("ranker.log.drops")
            .description("queue full: its entries or its estimated bytes")
            .register(metrics);
    this.failed =
        Counter.builder("ranker.log.failures").description("producer errors").register(metrics);
    this.lost =
        Counter.builder("ranker.log.lost")
            .description("entries still queued when the ranker stopped, past its wait to send them")
            .register(metrics);
    metrics.gaugeCollectionSize("ranker.log.queue.size", List.of(), queue);
    Gauge.builder("ranker.log.queue.bytes", heldBytes, AtomicLong::get)
        .description("estimated bytes of the entries queued or being handed over")
        .baseUnit("bytes")
        .register(metrics);
    this.thread = new Thread(this::run, "ranker-ranking-logger");
    this.thread.setDaemon(true);
    this.thread.start();
  }

  /**
   * Queues an entry; false (and counted) when the queue is full, by its count or by the bytes its
   * entries would hold with this one. Never blocks, nor writes a line: the logger's thread says the
   * drops. The bytes are reserved before the entry is queued, so offers at once may drop an entry
   * that would have fitted alone, but never hold more than the bound.
   */
  public boolean offer(E entry) {
    long bytes = bytesOf.applyAsLong(entry);
    if (heldBytes.addAndGet(bytes) > maxBytes) {
      heldBytes.addAndGet(-bytes);
      drop();
      unreportedByteDrops.incrementAndGet(); // after the drop: a line never says more of these
      return false;
    }
    if (queue.offer(entry)) {
      return true;
    }
    heldBytes.addAndGet(-bytes);
    return drop();
  }

  private boolean drop() {
    dropped.increment();
    unreportedDrops.incrementAndGet();
    return false;
  }

  private void run() {
    // what was taken from the queue and not yet handed over: an entry leaves it before it is sent
    ArrayDeque<E> batch = new ArrayDeque<>();
    while (running || !queue.isEmpty()) {
      try {
        E first = queue.poll(100, TimeUnit.MILLISECONDS);
        // while entries keep coming, gather them (GATHER_NANOS) instead of waiting on the queue,
        // where each offer would wake this thread: a system call on the request's thread
        while (first != null) {
          batch.add(first);
          queue.drainTo(batch, MAX_DRAIN - 1);
          boolean full = batch.size() == MAX_DRAIN; // behind: drain again at once
          for (E e; (e = batch.poll()) != null; ) {
            try {
              send(e);
            } finally {
              heldBytes.addAndGet(-bytesOf.applyAsLong(e)); // handed over, or failed
            }
          }
          drains++;
          report(false);
          if (!running) {
            break;
          }
          if (!full) {
            LockSupport.parkNanos(GATHER_NANOS);
          }
          first = queue.poll();
        }
        // what came since the last line, once it is due, whether anything fails after it or not
        report(false);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      } catch (RuntimeException | Error e) {
        // not an entry's (send takes those): what was taken fails with it, the thread goes on
        for (E left; (left = batch.poll()) != null; ) {
          heldBytes.addAndGet(-bytesOf.applyAsLong(left));
          failed(e);
        }
        fault(e);
      }
    }
  }

  /**
   * Says what the logger's thread should not have met, with its stack trace: the first at once,
   * then at most one line a minute with how many since. The logs it failed are counted and said as
   * failures besides.
   */
  private void fault(Throwable e) {
    unreportedFaults.incrementAndGet();
    if (faultLines.due(System.nanoTime(), false)) {
      log.error(
          "ranker: {} fault(s) on the ranking logger's thread since the last such line, the last"
              + " below; their logs count as failed (ranker.log.failures), the thread goes on (the"
              + " next line in a minute at the earliest)",
          unreportedFaults.getAndSet(0),
          e);
    }
  }

  /** The estimated bytes of the entries queued or being handed over (for tests). */
  long heldBytes() {
    return heldBytes.get();
  }

  /** How many times the logger thread has taken entries from its queue (for tests). */
  long drains() {
    return drains;
  }

  private void send(E entry) {
    try {
      RankingLog r = toRecord.apply(entry);
      if (producer == null) {
        discard.accept(r);
        return;
      }
      producer.send(
          new ProducerRecord<>(topic, r.getRequestId().toString(), r),
          (md, ex) -> {
            if (ex == null) {
              sent.increment();
            } else {
              failed(ex);
            }
          });
    } catch (RuntimeException ex) {
      failed(ex);
    } catch (Error ex) {
      failed(ex);
      fault(ex);
    }
  }

  /** Counts a log the producer could not write, and says so ({@link #report}). */
  private void failed(Throwable ex) {
    failed.increment();
    lastFailure = ex.toString();
    unreportedFailures.incrementAndGet();
    report(false);
  }

  /**
   * Says the failures and drops not said yet: the first at once, then at most one line a minute
   * with how many since the last (Kafka away for an hour at 1,000 requests a second would otherwise
   * be millions of lines, or, at the debug level, none). Called on each failure, by the logger's
   * thread at least every 100 ms (a line due is written even if nothing fails after it: the counts
   * of an outage shorter than a minute used to wait for a failure a minute later, and were never
   * said if none came), and by {@link #close} with {@code force}.
   */
  private void report(boolean force) {
    if (unreportedFailures.get() == 0 && unreportedDrops.get() == 0) {
      return;
    }
    if (lines.due(System.nanoTime(), force)) {
      long failures = unreportedFailures.getAndSet(0);
      long byteDrops = unreportedByteDrops.getAndSet(0); // before the drops: never more than them
      long drops = unreportedDrops.getAndSet(0);
      log.warn(
          "ranker: {} ranking log(s) not written since the last such line: {} failed in the"
              + " producer (ranker.log.failures){}, {} dropped with the queue full"
              + " (ranker.log.drops), {} of them full by its bytes (log.buffer.max.bytes, {}){}",
          failures + drops,
          failures,
          failures == 0 ? "" : ", the last with " + lastFailure,
          drops,
          byteDrops,
          maxBytes,
          force ? " (at stop)" : "; the next line in a minute at the earliest");
    }
  }

  /**
   * Sends what is queued (bounded by {@code timeout}), then closes the producer. What is still
   * queued after the wait (Kafka slow or away, each send blocking up to {@code max.block.ms}) is
   * counted as lost ({@code ranker.log.lost}) and said in one line, and the entries being sent fail
   * once the producer closes ({@code ranker.log.failures}): every entry taken is accounted for when
   * this returns, not by a thread still running against a closed producer, and the failures and
   * drops not said yet are said in a last line, due or not.
   */
  public void close(Duration timeout) throws InterruptedException {
    running = false;
    List<E> left = new ArrayList<>();
    try {
      thread.join(timeout.toMillis());
      if (thread.isAlive()) {
        queue.drainTo(left);
        lost.increment(left.size());
        for (E e : left) {
          heldBytes.addAndGet(-bytesOf.applyAsLong(e));
        }
      }
    } finally {
      // an interrupted wait too: the producer's thread and connections must not outlive the close
      if (producer != null) {
        producer.close(timeout);
      }
    }
    // a send that was blocked now fails, and so do the rest of its batch, each at once
    thread.join(CLOSED_JOIN_MILLIS);
    if (!left.isEmpty() || thread.isAlive()) {
      log.warn(
          "ranker: {} ranking logs still queued at stop were not sent (ranker.log.lost); those"
              + " being sent when the wait ended count as failures",
          left.size());
    }
    report(true); // the failures and drops since the last line, due or not
  }

  /** The wait for the logger's thread once the producer is closed under it. */
  private static final long CLOSED_JOIN_MILLIS = 1_000;

  @Override
  public void close() throws InterruptedException {
    close(Duration.ofSeconds(5));
  }
}
