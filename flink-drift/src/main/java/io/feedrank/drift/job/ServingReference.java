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

  /**
   * Where the record is in the registry topic (its offset + 1; 0 when unknown): the order in which
   * versions were made production, whatever the writers' clocks (the topic has one partition).
   */
  public long sequence;

  /** End of the model's training range (event time), or 0 when unknown. */
  public long trainingTo;

  public byte[] profile;

  public ServingReference() {}
}
