package dev.streamtools.http.impl;

/** The HTTP header names streamtools reads and writes. */
public final class HttpWireNames {

  /** The message id. */
  public static final String MESSAGE_ID = "X-Message-Id";
  /** The correlation (trace) id. */
  public static final String CORRELATION_ID = "X-Correlation-Id";
  /** The partitioning key. */
  public static final String MESSAGE_KEY = "X-Message-Key";
  /** When the producer created the message, epoch milliseconds. */
  public static final String MESSAGE_TIMESTAMP = "X-Message-Timestamp";

  private HttpWireNames() {
  }
}
