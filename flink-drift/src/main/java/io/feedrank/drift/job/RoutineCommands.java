package io.feedrank.drift.job;

import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.streaming.api.functions.co.KeyedCoProcessFunction;
import org.apache.flink.util.Collector;

/**
 * Retrain commands that need no drift, per model (the key): {@code DATA_VOLUME} once the serving
 * version has seen {@code volumeThreshold} new examples (event time after its training range; one
 * command per stint of a version in production, its id {@code model/version/volume/<updated_at of
 * the record that made it production>}), and {@code SCHEDULE} every {@code periodMillis} of
 * processing time (0 turns either off). Input 1: one tick per training example (its event time);
 * input 2: the registry records of the model.
 *
 * <p>The schedule's boundaries are {@code first + k · periodMillis}, {@code first} one period after
 * the first record this key saw. Periods missed while the job was down (a restore from an older
 * checkpoint) are one {@code SCHEDULE} command, at the restore, not one per period; the next one is
 * at the first boundary after it.
 */
public final class RoutineCommands
    extends KeyedCoProcessFunction<String, Long, ServingReference, Command> {
  private final long volumeThreshold;
  private final long periodMillis;

  private transient ValueState<ServingReference> serving;
  private transient ValueState<Long> newExamples;
  private transient ValueState<Boolean> volumeSent;

  /**
   * The {@code updatedAt} of the record that made the serving version production: its stint's (null
   * in state of earlier builds, which then use the serving record's own).
   */
  private transient ValueState<Long> servingSince;

  private transient ValueState<Long> nextSchedule;

  public RoutineCommands(long volumeThreshold, long periodMillis) {
    this.volumeThreshold = volumeThreshold;
    this.periodMillis = periodMillis;
  }

  @Override
  public void open(OpenContext ctx) {
    serving =
        getRuntimeContext().getState(new ValueStateDescriptor<>("serving", ServingReference.class));
    newExamples =
        getRuntimeContext().getState(new ValueStateDescriptor<>("new-examples", Long.class));
    volumeSent =
        getRuntimeContext().getState(new ValueStateDescriptor<>("volume-sent", Boolean.class));
    servingSince =
        getRuntimeContext().getState(new ValueStateDescriptor<>("serving-since", Long.class));
    nextSchedule =
        getRuntimeContext().getState(new ValueStateDescriptor<>("next-schedule", Long.class));
  }

  @Override
  public void processElement1(Long eventTime, Context ctx, Collector<Command> out)
      throws Exception {
    schedule(ctx);
    ServingReference s = serving.value();
    if (volumeThreshold <= 0 || s == null || eventTime <= s.trainingTo) {
      return;
    }
    long n = (newExamples.value() == null ? 0 : newExamples.value()) + 1;
    newExamples.update(n);
    if (n >= volumeThreshold && !Boolean.TRUE.equals(volumeSent.value())) {
      volumeSent.update(true);
      // one per stint in production: a version rolled back to production later counts anew, and
      // its command then must not carry the id the trainer has run (and ignores) already
      long since = servingSince.value() == null ? s.updatedAt : servingSince.value();
      out.collect(
          command(
              ctx.getCurrentKey(),
              "DATA_VOLUME",
              s.version,
              eventTime,
              ctx.getCurrentKey() + "/" + s.version + "/volume/" + since,
              n
                  + " examples since the training range of "
                  + s.version
                  + " (threshold "
                  + volumeThreshold
                  + ")"));
    }
  }

  @Override
  public void processElement2(ServingReference v, Context ctx, Collector<Command> out)
      throws Exception {
    schedule(ctx);
    ServingReference s = serving.value();
    if (!"PRODUCTION".equals(v.stage) || (s != null && !v.after(s.sequence, s.updatedAt))) {
      return;
    }
    if (s == null || !s.version.equals(v.version)) {
      newExamples.clear();
      volumeSent.clear();
      servingSince.update(v.updatedAt);
    }
    serving.update(v);
  }

  private void schedule(Context ctx) throws Exception {
    if (periodMillis > 0 && nextSchedule.value() == null) {
      long at = ctx.timerService().currentProcessingTime() + periodMillis;
      nextSchedule.update(at);
      ctx.timerService().registerProcessingTimeTimer(at);
    }
  }

  @Override
  public void onTimer(long timestamp, OnTimerContext ctx, Collector<Command> out) throws Exception {
    ServingReference s = serving.value();
    String version = s == null ? "none" : s.version;
    out.collect(
        command(
            ctx.getCurrentKey(),
            "SCHEDULE",
            version,
            timestamp,
            ctx.getCurrentKey() + "/schedule/" + timestamp,
            "scheduled retrain every " + periodMillis + " ms"));
    long at = nextBoundary(timestamp, ctx.timerService().currentProcessingTime());
    nextSchedule.update(at);
    ctx.timerService().registerProcessingTimeTimer(at);
  }

  /**
   * The first boundary {@code timestamp + k · periodMillis} (k ≥ 1) after {@code now}: a timer that
   * fires late (restored from a checkpoint taken hours ago: Flink fires past timers at once) is one
   * command for the periods missed, and the schedule keeps its phase.
   */
  private long nextBoundary(long timestamp, long now) {
    long missed = now > timestamp ? (now - timestamp) / periodMillis : 0;
    return timestamp + (missed + 1) * periodMillis;
  }

  private static Command command(
      String model, String reason, String version, long at, String id, String message) {
    Command c = new Command();
    c.commandId = id;
    c.modelName = model;
    c.issuedAt = at;
    c.reason = reason;
    c.referenceVersion = version;
    c.message = message;
    Actions.command(c); // built only to be collected at once
    return c;
  }
}
