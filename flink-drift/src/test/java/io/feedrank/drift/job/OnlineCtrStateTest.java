package io.feedrank.drift.job;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.apache.flink.api.common.state.KeyedStateStore;
import org.apache.flink.streaming.api.windowing.windows.TimeWindow;
import org.apache.flink.util.Collector;
import org.apache.flink.util.OutputTag;
import org.junit.jupiter.api.Test;

/**
 * A window of online CTR restored from the state of a build before the fallback counts holds an
 * accumulator of two longs (impressions, clicks): Flink restores a {@code long[]} at the length it
 * was saved with. Such a window keeps counting and fires with no fallbacks rather than failing the
 * job on every restart from that state.
 */
class OnlineCtrStateTest {
  private final OnlineCtr.Count count = new OnlineCtr.Count();

  @Test
  void anAccumulatorOfAnEarlierBuildCountsOnAndFiresWithNoFallbacksBeforeIt() throws Exception {
    long[] restored = {5, 1}; // 5 impressions, 1 click, saved before the fallback counts
    long[] acc = count.add(attributed(true, true), restored);
    acc = count.add(attributed(false, false), acc);
    assertThat(acc).containsExactly(7, 2, 1, 1);
    assertThat(count.merge(new long[] {3, 2}, new long[] {4, 1, 2, 1})).containsExactly(7, 3, 2, 1);

    OnlineCtr.Window w = emit("v7|staging", new long[] {5, 1});
    assertThat(w.modelVersion).isEqualTo("v7");
    assertThat(w.variant).isEqualTo("staging");
    assertThat(w.impressions).isEqualTo(5);
    assertThat(w.clicks).isEqualTo(1);
    assertThat(w.fallbackImpressions).isZero();
    assertThat(w.fallbackClicks).isZero();
    assertThat(w.ctr).isEqualTo(0.2);
  }

  private static OnlineCtr.Attributed attributed(boolean fallback, boolean click) {
    OnlineCtr.Attributed a = new OnlineCtr.Attributed();
    a.key = "v7|staging";
    a.modelVersion = "v7";
    a.variant = "staging";
    a.fallback = fallback;
    a.click = click;
    return a;
  }

  private static OnlineCtr.Window emit(String key, long[] counts) throws Exception {
    OnlineCtr.Emit emit = new OnlineCtr.Emit();
    TimeWindow window = new TimeWindow(0, 60_000);
    OnlineCtr.Emit.Context context =
        emit.new Context() {
          @Override
          public TimeWindow window() {
            return window;
          }

          @Override
          public long currentProcessingTime() {
            return 0;
          }

          @Override
          public long currentWatermark() {
            return 60_000;
          }

          @Override
          public KeyedStateStore windowState() {
            throw new UnsupportedOperationException();
          }

          @Override
          public KeyedStateStore globalState() {
            throw new UnsupportedOperationException();
          }

          @Override
          public <X> void output(OutputTag<X> outputTag, X value) {
            throw new UnsupportedOperationException();
          }
        };
    List<OnlineCtr.Window> out = new ArrayList<>();
    emit.process(
        key,
        context,
        List.of(counts),
        new Collector<>() {
          @Override
          public void collect(OnlineCtr.Window record) {
            out.add(record);
          }

          @Override
          public void close() {}
        });
    assertThat(out).hasSize(1);
    return out.get(0);
  }
}
