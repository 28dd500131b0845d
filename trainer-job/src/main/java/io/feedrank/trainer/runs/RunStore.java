package io.feedrank.trainer.runs;

import java.util.List;
import java.util.Optional;

/** Where runs are recorded: one directory per run holding its {@code run.json} and artifacts. */
public interface RunStore {

  /**
   * Makes a new run's place in the store, atomically: false, and nothing changed, when a run of
   * {@code runId} is there already. A run's id is claimed so before its first save, which would
   * otherwise overwrite the other run's record and files.
   */
  boolean create(String runId);

  /** Writes (or rewrites) the run's {@code run.json}. */
  void save(RunRecord run);

  /** Every recorded run, newest first. */
  List<RunRecord> list();

  Optional<RunRecord> get(String runId);
}
