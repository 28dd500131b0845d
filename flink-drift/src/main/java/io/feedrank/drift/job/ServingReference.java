package io.feedrank.drift.job;

/**
 * A model-registry record as the job needs it: which version is in which stage since when, and its
 * reference profile (Avro bytes of {@code ReferenceProfile}, parsed where used). A Flink POJO.
 */
public class ServingReference {
  public String modelName;
  public String version;
  public String stage;
  public long updatedAt;

  /** End of the model's training range (event time), or 0 when unknown. */
  public long trainingTo;

  public byte[] profile;

  public ServingReference() {}
}
