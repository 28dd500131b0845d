package io.feedrank.drift.job;

import org.apache.flink.api.common.eventtime.SerializableTimestampAssigner;
import org.apache.flink.api.common.eventtime.Watermark;
import org.apache.flink.api.common.eventtime.WatermarkGenerator;
import org.apache.flink.api.common.eventtime.WatermarkOutput;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;

/**
 * A watermark after every record, at its time: in a test, anything older than what came before it
 * is late, whatever the timing of the job's threads.
 */
final class WatermarkEveryRecord<T> implements WatermarkGenerator<T> {
  static <T> WatermarkStrategy<T> strategy(SerializableTimestampAssigner<T> time) {
    return WatermarkStrategy.<T>forGenerator(c -> new WatermarkEveryRecord<>())
        .withTimestampAssigner(time);
  }

  @Override
  public void onEvent(T record, long ts, WatermarkOutput out) {
    out.emitWatermark(new Watermark(ts - 1));
  }

  @Override
  public void onPeriodicEmit(WatermarkOutput out) {}
}
