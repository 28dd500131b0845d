package io.feedrank.cli.bench;

import io.feedrank.simulator.SimulatedExamples;
import io.feedrank.simulator.SimulatorConfig;
import io.feedrank.trainer.data.Dataset;
import io.feedrank.trainer.data.Example;
import io.feedrank.trainer.data.Standardization;
import io.feedrank.trainer.data.TemporalSplit;
import io.feedrank.trainer.eval.Metrics;
import io.feedrank.trainer.train.Architecture;
import io.feedrank.trainer.train.Baselines;
import io.feedrank.trainer.train.Hyperparameters;
import io.feedrank.trainer.train.NetworkTrainer;
import io.feedrank.trainer.train.Torch;
import io.feedrank.trainer.train.TrainInputs;
import io.feedrank.trainer.train.TrainedNetwork;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code ./feedrank bench train}: point-in-time examples of the default simulator (generated in
 * memory with the streams app's maths; not timed as training), split in time, then per run each
 * architecture trained for exactly {@code --epochs} epochs on the {@code --train-examples} oldest
 * examples with the DESIGN hyper-parameters and 2 PyTorch threads: examples/s, wall time, and the
 * holdout metrics of the best epoch. The popularity baseline is measured on the same holdout.
 */
@Command(
    name = "train",
    mixinStandardHelpOptions = true,
    description = "Training throughput and holdout quality per architecture (DJL on PyTorch).")
final class TrainBenchmark implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Option(names = "--runs", defaultValue = "3", description = "runs (default ${DEFAULT-VALUE})")
  int runs;

  @Option(
      names = "--train-examples",
      defaultValue = "1000000",
      description = "examples in the training split (default ${DEFAULT-VALUE})")
  int trainExamples;

  @Option(names = "--epochs", defaultValue = "3", description = "epochs (default ${DEFAULT-VALUE})")
  int epochs;

  @Option(names = "--threads", defaultValue = "2", description = "PyTorch intra-op threads")
  int threads;

  @Option(names = "--out", description = "output directory (default: $FEEDRANK_HOME/target/bench)")
  Path out;

  @Override
  public Integer call() {
    BenchCommand.atLeastOne(
        spec,
        "--runs",
        runs,
        "--train-examples",
        trainExamples,
        "--epochs",
        epochs,
        "--threads",
        threads);
    PrintWriter w = spec.commandLine().getOut();
    Torch.configure(threads);
    BenchReport report = new BenchReport("train");
    int total = (int) Math.ceil(trainExamples / TemporalSplit.TRAIN_SHARE);
    long t0 = System.nanoTime();
    List<Example> examples = new ArrayList<>(total);
    new SimulatedExamples(SimulatorConfig.defaults(1, Instant.parse("2026-11-02T00:00:00Z")), total)
        .forEachRemaining(e -> examples.add(Example.of(e)));
    double genSeconds = (System.nanoTime() - t0) / 1e9;
    w.printf("%,d examples generated in %.1f s%n", total, genSeconds);
    w.flush();
    report.note("examples_generated", total);
    report.note("example_generation_s", genSeconds);
    Hyperparameters h = Hyperparameters.defaults().withEpochs(epochs, epochs);
    report.note("hyperparameters", h.toMap());
    report.note("threads", threads);
    TemporalSplit split = TemporalSplit.of(examples);
    Dataset train = Dataset.of(split.train(), h.userBuckets(), h.itemBuckets());
    Dataset validation = Dataset.of(split.validation(), h.userBuckets(), h.itemBuckets());
    Dataset test = Dataset.of(split.test(), h.userBuckets(), h.itemBuckets());
    examples.clear();
    report.note(
        "split", Map.of("train", train.size, "validation", validation.size, "test", test.size));
    Standardization std = Standardization.fit(train);
    TrainInputs trainIn = new TrainInputs(train, std);
    TrainInputs validationIn = new TrainInputs(validation, std);
    TrainInputs testIn = new TrainInputs(test, std);
    for (int run = 1; run <= runs; run++) {
      Map<String, Double> figures = new LinkedHashMap<>();
      figures.putAll(
          prefixed(
              "popularity",
              Metrics.evaluate(Baselines.popularity(test), test.label, test.userId).toMap()));
      for (Architecture a : Architecture.values()) {
        String key = a == Architecture.LOGISTIC ? "lr" : a.id;
        long ta = System.nanoTime();
        try (TrainedNetwork n =
            NetworkTrainer.train(a, h.withSeed(run), trainIn, validationIn, e -> {})) {
          double wall = (System.nanoTime() - ta) / 1e9;
          long seen = n.epochs().stream().mapToLong(NetworkTrainer.Epoch::examples).sum();
          long trainMillis = n.epochs().stream().mapToLong(NetworkTrainer.Epoch::millis).sum();
          figures.put(key + "_wall_s", wall);
          figures.put(key + "_examples_per_s", seen * 1000.0 / trainMillis);
          figures.put(key + "_epochs", (double) n.epochs().size());
          figures.put(key + "_best_epoch", (double) n.bestEpoch());
          Map<String, Double> m =
              Metrics.evaluate(n.predict(testIn), test.label, test.userId).toMap();
          figures.putAll(prefixed(key, m));
          w.printf(
              "run %d %s: %.0f s, %,.0f examples/s, AUC %.4f, log loss %.4f, P@10 %.4f, NDCG@10 %.4f%n",
              run,
              key,
              wall,
              figures.get(key + "_examples_per_s"),
              m.get("auc"),
              m.get("logloss"),
              m.get("p_at_10"),
              m.get("ndcg_at_10"));
          w.flush();
        }
      }
      report.addRun(figures);
    }
    w.println("medians: " + report.figures());
    w.println("written " + report.write(out != null ? out : BenchReport.defaultDir()));
    return 0;
  }

  private static Map<String, Double> prefixed(String prefix, Map<String, Double> m) {
    Map<String, Double> out = new LinkedHashMap<>();
    for (String k : List.of("auc", "logloss", "p_at_10", "ndcg_at_10", "recall_at_10", "ece")) {
      out.put(prefix + "_" + k, m.get(k));
    }
    return out;
  }
}
