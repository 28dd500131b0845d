package io.feedrank.drift.job;

/**
 * A model-registry record as the job needs it: which version is in which stage since when, and its
 * reference profile. A Flink POJO.
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
   * evaluator, too, measures against the newest of the PRODUCTION versions it holds by this order
   * (there is one, but for the moment between a promotion's or a rollback's two records).
   */
  public long sequence;

  /** End of the model's training range (event time), or 0 when unknown. */
  public long trainingTo;

  /**
   * The reference profile as {@link ProfileBytes} (with its writer's schema, so that a restore into
   * a build with another schema reads it), parsed where used; single-object encoded in state of
   * earlier builds, which the evaluator rewrites when it restores it.
   */
  public byte[] profile;

  public ServingReference() {}

  /**
   * Whether this record comes after one of {@code sequence} and {@code updatedAt}: by their place
   * in the topic when both are known, else by their writers' clocks.
   */
  public boolean after(long sequence, long updatedAt) {
    return this.sequence != 0 && sequence != 0
        ? this.sequence > sequence
        : this.updatedAt > updatedAt;
  }
}
