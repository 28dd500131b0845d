package io.feedrank.drift.job;

import java.util.ArrayList;
import java.util.Map;
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
 */
abstract class LatestGauges<T> extends RichFilterFunction<T> implements CheckpointedFunction {
  private final String stateName;
  private final Class<T> type;
  private transient Map<String, T> latest;
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
    latest = new ConcurrentHashMap<>(); // read by the metric reporter's thread
    if (ctx.isRestored()) {
      TaskInfo task = getRuntimeContext().getTaskInfo();
      for (T e : saved.get()) {
        String k = key(e);
        if (routedHere(task, k)) {
          latest.put(k, e);
        }
      }
    }
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
      latest = new ConcurrentHashMap<>(); // not run as a checkpointed operator
    }
    latest.keySet().forEach(this::register);
  }

  @Override
  public boolean filter(T element) {
    String k = key(element);
    if (latest.put(k, element) == null) {
      register(k);
    }
    return false;
  }

  private void register(String key) {
    register(metrics(), () -> latest.get(key));
  }

  @Override
  public void snapshotState(FunctionSnapshotContext ctx) throws Exception {
    saved.update(new ArrayList<>(latest.values()));
  }
}
