package io.feedrank.trainer.registry;

import static org.assertj.core.api.Assertions.assertThat;

import io.feedrank.events.ModelStage;
import io.feedrank.events.ModelVersion;
import io.feedrank.features.FeatureSchema;
import io.feedrank.models.FileArtifactStore;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** How much of production's artifact the trainer reads before it compares a candidate with it. */
class ProductionEvaluatorTest {
  /**
   * An artifact over {@code model.artifact.max.bytes} is refused by its size, before a byte of it
   * is read, and the candidate is incomparable (rejected, not tried again): it was read whole,
   * however large, as any file a registry record names in the store may be.
   */
  @Test
  void anArtifactOverTheBoundIsNotReadAndTheCandidateIsIncomparable(@TempDir Path dir)
      throws Exception {
    FileArtifactStore store = new FileArtifactStore(dir);
    Path file = Files.createDirectories(dir.resolve("run-1")).resolve("model.onnx");
    int bound = 1 << 20;
    long size = bound + 1L;
    try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
      f.setLength(size); // sparse: no block of it written
    }
    ModelVersion production =
        ModelVersion.newBuilder(
                PromotionTest.version("p1", ModelStage.PRODUCTION, null, PromotionTest.T0))
            .setArtifactUri(file.toUri().toString())
            .setFeatureSchemaVersion(FeatureSchema.VERSION)
            .build();

    var score =
        new ProductionEvaluator(store, ProductionEvaluator.DEFAULT_MIN_CLICKS, bound)
            .score(production, List.of(), new float[0]);

    assertThat(score.incomparable())
        .contains(
            "is " + size + " bytes, over the limit of " + bound + " (model.artifact.max.bytes)");
    assertThat(score.unscorable()).isNull();
  }
}
