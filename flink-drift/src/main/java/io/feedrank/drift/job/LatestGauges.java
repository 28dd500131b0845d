package io.feedrank.drift.job;

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

/**
 * The latest element of each key, published as gauges that survive a restart; lets nothing through.
 * Runs on a stream keyed by {@link #key}. The latest elements are checkpointed as union list state,
 * and on a restore each subtask keeps those of the keys Flink routes to it (at the new parallelism,
 * too) and registers their gauges before any element arrives: without this, a restarted job's
 * gauges read nothing until the next window of each key, and an alert on them resolves in between.
 *
 * <p>A key whose latest window ends {@value #EXPIRE_WINDOWS} windows or more before the newest this
 * subtask has seen is expired: it is left out of the checkpoint, and its gauges, which Flink cannot
 * take back, read {@link #blank} (no sample, nothing drifted). A feature dropped from monitoring or
 * from the serving model's profile, or a replaced model version, once kept its last figures, and a
 * drift alert on them, for as long as the job ran and across restarts.
 */
abstract class LatestGauges<T> extends RichFilterFunction<T> implements CheckpointedFunction {
  static final int EXPIRE_WINDOWS = 3;

  private final String stateName;
  private final Class<T> type;
  private transient Map<String, T> latest;
  private transient Map<String, T> blanks;
  private transient Set<String> registered;
  private transient long newestEnd;
  private transient ListState<T> saved;

  /**
   * @param stateName the name of the checkpointed list
   * @param type the element's class (a Flink POJO)
   */
  LatestGauges(String stateName, Class<T> type) {
    this.stateName = stateName;
    this.type = type;
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
    latest.keySet().forEach(this::register);
  }

  @Override
  public boolean filter(T element) {
    String k = key(element);
    latest.put(k, element);
    blanks.remove(k);
    register(k);
    long end = windowEnd(element);
    if (end > newestEnd) {
      newestEnd = end;
      expire(EXPIRE_WINDOWS * (end - windowStart(element)));
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

  private void register(String key) {
    if (registered.add(key)) {
      register(
          metrics(),
          () -> {
            T e = latest.get(key);
            return e != null ? e : blanks.get(key);
          });
    }
  }

  @Override
  public void snapshotState(FunctionSnapshotContext ctx) throws Exception {
    saved.update(new ArrayList<>(latest.values()));
  }
}
