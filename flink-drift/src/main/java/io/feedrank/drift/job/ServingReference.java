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
   * Where the record is in the registry topic (its offset + 1; 0 in state restored from a
   * checkpoint taken before it was kept, older than any record read since): the order in which
   * versions were made production, whatever the writers' clocks (the topic has one partition). The
   * retrain decider orders references by it; the evaluator, the routine commands and the CTR-drop
   * commands pick the production version by {@code updatedAt}.
   */
  public long sequence;

  /** End of the model's training range (event time), or 0 when unknown. */
  public long trainingTo;

  public byte[] profile;

  public ServingReference() {}
}
