package io.feedrank.drift.job;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;
import org.apache.flink.api.common.TaskInfo;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.functions.RichFilterFunction;
import org.apache.flink.api.common.state.ListState;
import org.apache.flink.api.common.state.ListStateDescriptor;
import org.apache.flink.metrics.MetricGroup;
import org.apache.flink.runtime.state.FunctionInitializationContext;
import org.apache.flink.runtime.state.FunctionSnapshotContext;
import org.apache.flink.runtime.state.KeyGroupRangeAssignment;
import org.apache.flink.streaming.api.checkpoint.CheckpointedFunction;
import org.apache.flink.streaming.api.operators.StreamingRuntimeContext;
import org.apache.flink.streaming.runtime.tasks.ProcessingTimeService;

/**
 * The latest element of each key, published as gauges that survive a restart; lets nothing through.
 * Runs on a stream keyed by {@link #key}. The latest elements are checkpointed as union list state,
 * and on a restore each subtask keeps those of the keys Flink routes to it (at the new parallelism,
 * too) and registers their gauges before any element arrives: without this, a restarted job's
 * gauges read nothing until the next window of each key, and an alert on them resolves in between.
 *
 * <p>A key whose latest window ends {@code expiryWindows} windows or more before the newest this
 * subtask has seen is expired: it is left out of the checkpoint, and its gauges, which Flink cannot
 * take back, read {@link #blank} (no sample, nothing drifted). A feature dropped from monitoring or
 * from the serving model's profile, or a replaced model version, once kept its last figures, and a
 * drift alert on them, for as long as the job ran and across restarts.
 *
 * <p>When no element arrives at all for {@code expiryWindows} window lengths of processing time (no
 * window closes: the traffic stopped, event time stands still, the task hangs), every key's gauges
 * read {@link #blank} until the next element: they once kept the last window's verdict, and a drift
 * alert on it fired for hours after its window. Checked when a gauge is read, so a task thread that
 * no longer runs expires too. The time of the last element is checkpointed, so a job restored after
 * a short failure shows its verdicts at once (an alert on them does not resolve while it restarts)
 * and one restored after a longer downtime does not show an old one. Stale keys stay in the
 * checkpoint: the window end they read is what tells that no window closes.
 */
abstract class LatestGauges<T> extends RichFilterFunction<T> implements CheckpointedFunction {
  private final String stateName;
  private final Class<T> type;
  private final int expiryWindows;
  private final long staleAfterMillis;
  private transient Map<String, T> latest;
  private transient Map<String, T> blanks;
  private transient Set<String> registered;
  private transient long newestEnd;
  private transient ListState<T> saved;
  private transient ListState<Long> savedArrival;
  private transient ProcessingTimeService clock;

  /** Processing time of the last element, epoch ms; null until one arrives or is restored. */
  private transient volatile Long lastArrivalMillis;

  /**
   * @param stateName the name of the checkpointed list
   * @param type the element's class (a Flink POJO)
   * @param window the length of the elements' windows
   * @param expiryWindows after how many windows a key's gauges, or all of them, expire (at least 1)
   */
  LatestGauges(String stateName, Class<T> type, Duration window, int expiryWindows) {
    if (expiryWindows < 1 || window.toMillis() < 1) {
      throw new IllegalArgumentException(
          "gauge.expiry.windows must be >= 1 and the window >= 1 ms, got "
              + expiryWindows
              + " and "
              + window.toMillis());
    }
    this.stateName = stateName;
    this.type = type;
    this.expiryWindows = expiryWindows;
    this.staleAfterMillis = Math.multiplyExact(window.toMillis(), (long) expiryWindows);
  }

  /** The key of an element: the same the stream is keyed by. */
  abstract String key(T element);

  /** Where the element's window starts, epoch ms (event time). */
  abstract long windowStart(T element);

  /** Where the element's window ends, epoch ms (event time). */
  abstract long windowEnd(T element);

  /** What the gauges of an expired key read instead of its last element: no sample. */
  abstract T blank(T last);

  /**
   * Registers the gauges of one key in {@code group}; they read {@code latest}, which holds an
   * element already.
   */
  abstract void register(MetricGroup group, Supplier<T> latest);

  /** Where the gauges go: the operator's metric group. */
  MetricGroup metrics() {
    return getRuntimeContext().getMetricGroup();
  }

  @Override
  public void initializeState(FunctionInitializationContext ctx) throws Exception {
    saved =
        ctx.getOperatorStateStore().getUnionListState(new ListStateDescriptor<>(stateName, type));
    savedArrival =
        ctx.getOperatorStateStore()
            .getUnionListState(new ListStateDescriptor<>(stateName + "-arrival", Long.class));
    initMaps();
    if (ctx.isRestored()) {
      TaskInfo task = getRuntimeContext().getTaskInfo();
      for (T e : saved.get()) {
        String k = key(e);
        if (routedHere(task, k)) {
          latest.put(k, e);
          newestEnd = Math.max(newestEnd, windowEnd(e));
        }
      }
      // the newest of every subtask's: all of them expire together (one subtask, in the job)
      for (Long t : savedArrival.get()) {
        if (lastArrivalMillis == null || t > lastArrivalMillis) {
          lastArrivalMillis = t;
        }
      }
    }
  }

  private void initMaps() {
    latest = new ConcurrentHashMap<>(); // read by the metric reporter's thread
    blanks = new ConcurrentHashMap<>();
    registered = new HashSet<>();
    newestEnd = Long.MIN_VALUE;
  }

  /** Whether a keyed stream delivers the elements of {@code key} to this subtask. */
  static boolean routedHere(TaskInfo task, Object key) {
    return KeyGroupRangeAssignment.assignKeyToParallelOperator(
            key, task.getMaxNumberOfParallelSubtasks(), task.getNumberOfParallelSubtasks())
        == task.getIndexOfThisSubtask();
  }

  @Override
  public void open(OpenContext ctx) {
    if (latest == null) {
      initMaps(); // not run as a checkpointed operator
    }
    clock = ((StreamingRuntimeContext) getRuntimeContext()).getProcessingTimeService();
    if (lastArrivalMillis == null && !latest.isEmpty()) {
      // restored from a checkpoint taken before the arrival was kept: as if it arrived now
      lastArrivalMillis = clock.getCurrentProcessingTime();
    }
    latest.keySet().forEach(this::register);
  }

  /** Whether no element has arrived for {@code expiryWindows} windows of processing time. */
  private boolean stale() {
    Long arrived = lastArrivalMillis;
    return arrived != null && clock.getCurrentProcessingTime() - arrived >= staleAfterMillis;
  }

  @Override
  public boolean filter(T element) {
    lastArrivalMillis = clock.getCurrentProcessingTime();
    String k = key(element);
    latest.put(k, element);
    blanks.remove(k);
    register(k);
    long end = windowEnd(element);
    if (end > newestEnd) {
      newestEnd = end;
      expire(expiryWindows * (end - windowStart(element)));
    }
    return false;
  }

  /** Expires the keys whose latest window ends {@code behind} ms or more before the newest. */
  private void expire(long behind) {
    if (behind <= 0) {
      return; // no window length to measure by
    }
    List<String> old = new ArrayList<>();
    latest.forEach(
        (k, e) -> {
          if (newestEnd - windowEnd(e) >= behind) {
            old.add(k);
          }
        });
    for (String k : old) {
      blanks.put(k, blank(latest.get(k)));
      latest.remove(k);
    }
  }

  /**
   * Registers the gauges of a key, read on the metric reporter's thread while the task thread moves
   * the key between {@code latest} and {@code blanks}. A move puts the key in its new map before it
   * takes it out of the old one, so it is always in one of them; but a read of {@code latest} just
   * before a report puts it there and of {@code blanks} just after the report took it out finds it
   * in neither, and the gauges then threw a NullPointerException into the reporter (Flink's
   * Prometheus reporter may fail that scrape with it). Such a read ran across a move, and reads
   * again.
   */
  private void register(String key) {
    if (registered.add(key)) {
      register(
          metrics(),
          () -> {
            while (true) {
              T e = latest.get(key);
              if (e != null) {
                return stale() ? blank(e) : e;
              }
              T b = expired(key);
              if (b != null) {
                return b;
              }
            }
          });
    }
  }

  /**
   * What the gauges of an expired key read, null when it is not expired. A method of its own so
   * that a test can run the task thread's work between a gauge's two look-ups.
   */
  T expired(String key) {
    return blanks.get(key);
  }

  @Override
  public void snapshotState(FunctionSnapshotContext ctx) throws Exception {
    saved.update(new ArrayList<>(latest.values()));
    Long arrived = lastArrivalMillis;
    savedArrival.update(arrived == null ? List.of() : List.of(arrived));
  }
}
