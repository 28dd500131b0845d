package io.feedrank.drift.job;

/** An alert as it flows through the job (written as the Avro {@code Alert}). */
public class AlertEvent {
  public String alertId;
  public long time;
  public String severity;
  public String kind;
  public String message;
  public String feature;
  public String referenceVersion;

  public AlertEvent() {}
}
