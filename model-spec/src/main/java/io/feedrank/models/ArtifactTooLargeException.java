package io.feedrank.models;

import java.io.IOException;
import java.net.URI;

/**
 * An artifact holds more bytes than a reader said it would take ({@link ArtifactStore#get(URI,
 * int)}): refused before or while it was read, never held whole.
 */
public final class ArtifactTooLargeException extends IOException {
  private final long sizeBytes;
  private final long readBytes;
  private final int maxBytes;

  /**
   * @param sizeBytes the artifact's size as its store gave it before the read
   * @param readBytes bytes read before the refusal: 0 when the size alone refused it, else more
   *     than {@code maxBytes} (the size understated what the file held)
   */
  ArtifactTooLargeException(URI uri, long sizeBytes, long readBytes, int maxBytes) {
    super(
        readBytes == 0
            ? "artifact " + uri + " is " + sizeBytes + " bytes, over the limit of " + maxBytes
            : "artifact "
                + uri
                + " holds more than "
                + maxBytes
                + " bytes, the limit, though its size said "
                + sizeBytes);
    this.sizeBytes = sizeBytes;
    this.readBytes = readBytes;
    this.maxBytes = maxBytes;
  }

  /** The size its store gave before the read (a file under /proc says 0 whatever it holds). */
  public long sizeBytes() {
    return sizeBytes;
  }

  /** Whether it was refused by its size alone, before a byte of it was read. */
  public boolean refusedBySize() {
    return readBytes == 0;
  }

  /** The limit it went over. */
  public int maxBytes() {
    return maxBytes;
  }
}
