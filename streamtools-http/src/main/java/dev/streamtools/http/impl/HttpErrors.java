package dev.streamtools.http.impl;

import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.json.JsonObject;

import java.util.UUID;

/**
 * Error responses: always a JSON object {@code {"status": 500, "error": "...", "errorId": "...",
 * "messageId": "..."}}, never a stack trace. {@code errorId} is also logged, so an operator can find the
 * full cause from what a caller reports.
 */
public final class HttpErrors {

  private HttpErrors() {
  }

  /** @return a new id for one error, logged with its cause and returned to the caller */
  public static String newErrorId() {
    return UUID.randomUUID().toString();
  }

  /**
   * Ends {@code response} with a JSON error unless it is already ended or its connection closed.
   *
   * @param response the response
   * @param status the HTTP status
   * @param error what went wrong, for the caller
   * @param errorId the id the cause was logged with, or {@code null}
   * @param messageId the message concerned, or {@code null}
   * @return {@code true} if the response was written
   */
  public static boolean send(HttpServerResponse response, int status, String error, String errorId,
                             String messageId) {
    if (response.ended() || response.closed()) {
      return false;
    }
    JsonObject body = new JsonObject().put("status", status).put("error", error);
    if (errorId != null) {
      body.put("errorId", errorId);
    }
    if (messageId != null) {
      body.put("messageId", messageId);
      response.putHeader(HttpWireNames.MESSAGE_ID, messageId);
    }
    response.setStatusCode(status)
      .putHeader(HttpHeaders.CONTENT_TYPE, "application/json")
      .end(body.toBuffer());
    return true;
  }
}
