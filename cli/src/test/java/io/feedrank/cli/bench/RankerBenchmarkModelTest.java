package io.feedrank.cli.bench;

import static org.assertj.core.api.Assertions.assertThat;

import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import io.feedrank.features.vector.ModelInputs;
import io.feedrank.features.vector.Vectorizer;
import io.feedrank.models.onnx.Dense;
import io.feedrank.models.onnx.MlpWeights;
import io.feedrank.models.onnx.OnnxExport;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The benchmark's deep MLP, of the DESIGN size or of the widths {@code --mlp-layers} names. */
class RankerBenchmarkModelTest {
  static final int INPUTS =
      Vectorizer.USER_WIDTH
          + Vectorizer.ITEM_WIDTH
          + Vectorizer.CROSS_WIDTH
          + Vectorizer.CONTEXT_WIDTH
          + 2 * RankerBenchmark.EMBEDDING_DIM;

  static List<int[]> shapes(MlpWeights w) {
    return w.hidden().stream().map(d -> new int[] {d.in(), d.out()}).toList();
  }

  @Test
  void theDefaultIsTheDesignSize() {
    MlpWeights w = RankerBenchmark.mlpWeights(new Random(1));
    assertThat(shapes(w))
        .containsExactly(new int[] {INPUTS, 512}, new int[] {512, 256}, new int[] {256, 128});
    assertThat(new int[] {w.output().in(), w.output().out()}).containsExactly(128, 1);
  }

  @Test
  void otherWidthsChainFromTheInputsToOneScore() {
    MlpWeights w = RankerBenchmark.mlpWeights(new Random(1), List.of(1024, 512, 256));
    assertThat(shapes(w))
        .containsExactly(new int[] {INPUTS, 1024}, new int[] {1024, 512}, new int[] {512, 256});
    Dense out = w.output();
    assertThat(new int[] {out.in(), out.out()}).containsExactly(256, 1);
    assertThat(w.hidden().get(0).weights()).hasSize(INPUTS * 1024);
  }

  /**
   * Bare scoring runs on as many intra-op threads as the ranker ({@code onnx.intra.op.threads}):
   * ONNX Runtime starts a pool of all but one of them (the caller runs the rest), native threads
   * named as the thread that made the session. The deep MLP's only output is the score the ranker
   * reads.
   */
  @Test
  void bareScoringRunsOnTheRankersIntraOpThreads() throws Exception {
    byte[] onnx =
        OnnxExport.mlp(RankerBenchmark.mlpWeights(new Random(1)), RankerBenchmark.meta("mlp"));
    OrtEnvironment env = OrtEnvironment.getEnvironment();
    for (int threads : new int[] {1, 3}) {
      Set<String> before = tasksNamedAsThisOne();
      try (OrtSession s = RankerBenchmark.bareSession(env, onnx, threads)) {
        Set<String> started = tasksNamedAsThisOne();
        started.removeAll(before);
        assertThat(started).as("threads started for %d intra-op", threads).hasSize(threads - 1);
        assertThat(s.getOutputNames()).containsExactly(ModelInputs.SCORE);
      }
    }
  }

  /** The ids of this process's threads whose name (Linux's comm) is this thread's. */
  private static Set<String> tasksNamedAsThisOne() throws IOException {
    String mine = Files.readString(Paths.get("/proc/thread-self/comm"));
    Set<String> ids = new HashSet<>();
    try (DirectoryStream<Path> tasks = Files.newDirectoryStream(Paths.get("/proc/self/task"))) {
      for (Path t : tasks) {
        try {
          if (Files.readString(t.resolve("comm")).equals(mine)) {
            ids.add(t.getFileName().toString());
          }
        } catch (IOException e) {
          // the thread ended meanwhile
        }
      }
    }
    return ids;
  }
}
