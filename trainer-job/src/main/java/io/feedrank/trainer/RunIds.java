package io.feedrank.trainer;

import ai.djl.engine.Engine;
import io.feedrank.features.FeatureSchema;
import io.feedrank.trainer.runs.RunRecord;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Locale;
import java.util.concurrent.ThreadLocalRandom;

/** Run ids, model versions, and the fields a run starts with. */
final class RunIds {
  private static final DateTimeFormatter STAMP =
      DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss", Locale.ROOT).withZone(ZoneOffset.UTC);

  private RunIds() {}

  /**
   * {@code run-20261123-061500-3fa2}: sortable by start time; two runs of one second share an id
   * once in 65,536, so a run claims its id in the store and draws again when it is taken.
   */
  static String newId(Instant now) {
    return "run-"
        + STAMP.format(now)
        + "-"
        + String.format("%04x", ThreadLocalRandom.current().nextInt(1 << 16));
  }

  /** The model version of an architecture trained in a run: {@code 20261123-061500-3fa2-mlp}. */
  static String version(String runId, String architecture) {
    return runId.substring("run-".length()) + "-" + architecture;
  }

  static RunRecord start(String id, TrainRequest request, TrainerConfig config, Instant now) {
    RunRecord r = new RunRecord();
    r.id = id;
    r.trigger = request.trigger();
    r.commandId = request.commandId();
    r.command = request.command() == null ? null : AvroJson.toMap(request.command());
    r.startedAt = now.toString();
    r.dataFrom = request.range().from().toString();
    r.dataTo = request.range().to().toString();
    r.params.putAll(config.hyper().toMap());
    r.params.put("architectures", request.architectures().stream().map(a -> a.id).toList());
    r.params.put("model_name", config.modelName());
    r.params.put("min_examples", config.minExamples());
    r.params.put("max_examples", config.maxExamples());
    r.params.put("promote_min_auc_gain", config.promoteMinAucGain());
    r.params.put("export_verify_rows", config.verifyRows());
    r.params.put("export_verify_tolerance", config.verifyTolerance());
    r.params.put("threads", config.threads());
    r.params.put("feature_schema_version", FeatureSchema.VERSION);
    r.environment.put(
        "java", System.getProperty("java.vm.name") + " " + System.getProperty("java.version"));
    r.environment.put(
        "os",
        System.getProperty("os.name")
            + " "
            + System.getProperty("os.version")
            + " "
            + System.getProperty("os.arch"));
    r.environment.put("cores", Integer.toString(Runtime.getRuntime().availableProcessors()));
    r.environment.put("max_heap_mib", Long.toString(Runtime.getRuntime().maxMemory() >> 20));
    r.environment.put("djl", Engine.getDjlVersion());
    r.environment.put("engine", "PyTorch " + Engine.getEngine("PyTorch").getVersion());
    r.environment.put("onnxruntime", ai.onnxruntime.OrtEnvironment.getEnvironment().getVersion());
    return r;
  }
}
