package io.feedrank.drift.job;

import java.util.ArrayList;
import java.util.List;

/** A retrain command as it flows through the job (written as the Avro {@code RetrainCommand}). */
public class Command {
  public String commandId;
  public String modelName;
  public long issuedAt;

  /** FEATURE_DRIFT, PREDICTION_DRIFT, PERFORMANCE_DROP, DATA_VOLUME or SCHEDULE. */
  public String reason;

  public String referenceVersion;
  public String message;

  /**
   * Declared as {@code List} so that Flink serializes it itself (an {@code ArrayList} field fell
   * back to Kryo); a mutable {@code ArrayList}.
   */
  public List<Evidence> evidence = new ArrayList<>();

  public Command() {}

  /** Why: one drifted feature, its latest window. */
  public static class Evidence {
    public String feature;
    public String kind;
    public long windowStart;
    public long windowEnd;
    public long n;
    public long sampleSize;
    public double psi;
    public Double ksStatistic;
    public Double ksPValue;
    public Double chi2PValue;
    public int consecutiveWindows;

    public Evidence() {}
  }
}
