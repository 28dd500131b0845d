package io.feedrank.drift.job;

/** A drift report as it flows through the job (written as the Avro {@code DriftReport}). */
public class Report {
  public long windowStart;
  public long windowEnd;
  public String modelName;
  public String referenceVersion;

  /**
   * The {@link ServingReference#sequence} of the registry record that made the reference
   * production: orders reports against different references. 0 for a reference the evaluator
   * restored from a checkpoint taken before sequences were kept: older than any record read since,
   * so it sorts first. Not written to {@code drift-reports}.
   */
  public long referenceSequence;

  public String feature;
  public String kind;
  public long n;

  /**
   * The window's sample size: its independent sampling units (n for a feature, the served responses
   * for the score), used for the KS p-value and the retrain rule's {@code min.sample}.
   */
  public long sampleSize;

  /** Rows of the reference profile the window was judged against (see {@link #referenceHour}). */
  public long referenceN;

  /**
   * The UTC hour of day of the reference's score profile that judged the window, whose {@link
   * #referenceN} and {@link #referenceMean} these are; null when the whole holdout's profile did.
   */
  public Integer referenceHour;

  public double psi;
  public Double ksStatistic;
  public Double ksPValue;
  public Double chi2Statistic;
  public Double chi2PValue;
  public Double mean;
  public Double referenceMean;
  public Double meanRelativeChange;
  public boolean drifted;
  public double psiThreshold;
  public double ksThreshold;
  public double pValueThreshold;

  /** Values of this feature dropped as late since its previous report. */
  public long lateEvents;

  public Report() {}
}
