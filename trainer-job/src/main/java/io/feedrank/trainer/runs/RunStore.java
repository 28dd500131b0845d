package io.feedrank.trainer.runs;

import java.util.List;
import java.util.Optional;

/** Where runs are recorded: one directory per run holding its {@code run.json} and artifacts. */
public interface RunStore {

  /** Writes (or rewrites) the run's {@code run.json}. */
  void save(RunRecord run);

  /** Every recorded run, newest first. */
  List<RunRecord> list();

  Optional<RunRecord> get(String runId);
}
