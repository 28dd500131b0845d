package io.feedrank.streams.topology;

import io.feedrank.events.DeadLetter;
import io.feedrank.events.InteractionEvent;

/**
 * The outcome of validating one input record: the event, or its dead letter and the key its record
 * gets (the input's key, cut as its {@code raw_key} is when the input was too large to keep whole).
 */
record Checked(InteractionEvent event, DeadLetter deadLetter, byte[] deadLetterKey) {
  static Checked ok(InteractionEvent e) {
    return new Checked(e, null, null);
  }

  static Checked dead(DeadLetter d, byte[] key) {
    return new Checked(null, d, key);
  }

  boolean valid() {
    return event != null;
  }
}
