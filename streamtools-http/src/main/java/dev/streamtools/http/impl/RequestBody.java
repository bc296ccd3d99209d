package dev.streamtools.http.impl;

import io.vertx.core.Handler;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpVersion;

/**
 * Reads a request body into memory, up to a limit, in the event-loop turn its bytes arrive in. A declared
 * {@code Content-Length} over the limit is refused before any byte is read; a chunked body as soon as it
 * passes the limit (the rest is read and dropped). Answers {@code Expect: 100-continue} as vertx-web's
 * {@code BodyHandler} does.
 */
final class RequestBody implements Handler<Buffer> {

  /** Why a body was not read: the status and the error to answer with. */
  record Refusal(int status, String error) {
  }

  private final long limit;
  private final long declared;
  private final Handler<Buffer> onBody;
  private final Handler<Refusal> onRefusal;
  private Buffer body;
  private boolean copied;
  private long received;
  private boolean refused;

  private RequestBody(long limit, long declared, Handler<Buffer> onBody, Handler<Refusal> onRefusal) {
    this.limit = limit;
    this.declared = declared;
    this.onBody = onBody;
    this.onRefusal = onRefusal;
  }

  /**
   * Reads the body of a request whose handlers are not set yet; call it in the turn the request arrived in.
   *
   * @param request the request
   * @param limit the largest body accepted, in bytes
   * @param onBody gets the body (empty when there is none) once it is complete
   * @param onRefusal gets why the body is refused, at most once; {@code onBody} is then never called
   */
  static void read(HttpServerRequest request, long limit, Handler<Buffer> onBody, Handler<Refusal> onRefusal) {
    long declared = -1;
    String contentLength = request.getHeader(HttpHeaders.CONTENT_LENGTH);
    if (contentLength != null) {
      try {
        declared = Long.parseLong(contentLength.trim());
      } catch (NumberFormatException e) {
        onRefusal.handle(new Refusal(400, "Content-Length is not a number: " + contentLength));
        return;
      }
      if (declared > limit) {
        onRefusal.handle(tooLarge(limit));
        return;
      }
    }
    String expect = request.getHeader(HttpHeaders.EXPECT);
    if (expect != null) {
      if (!expect.equalsIgnoreCase("100-continue")) {
        onRefusal.handle(new Refusal(417, "unsupported expectation: " + expect));
        return;
      }
      // RFC 9110 section 10.1.1: an HTTP/1.0 client's expectation is ignored
      if (request.version() != HttpVersion.HTTP_1_0) {
        request.response().writeContinue();
      }
    }
    if (request.isEnded()) {
      onBody.handle(Buffer.buffer());
      return;
    }
    RequestBody reader = new RequestBody(limit, declared, onBody, onRefusal);
    request.handler(reader).endHandler(reader::end);
  }

  private static Refusal tooLarge(long limit) {
    return new Refusal(413, "request body is larger than the limit of " + limit + " bytes");
  }

  @Override
  public void handle(Buffer chunk) {
    if (refused) {
      return;
    }
    received += chunk.length();
    if (received > limit) {
      refused = true;
      body = null;
      onRefusal.handle(tooLarge(limit));
      return;
    }
    if (body == null) {
      body = chunk; // the usual single-chunk body: Vert.x hands each chunk over as a buffer of its own
    } else {
      if (!copied) {
        long capacity = Math.max(declared, Math.min(limit, 2 * received));
        body = Buffer.buffer((int) Math.min(Integer.MAX_VALUE - 8, capacity)).appendBuffer(body);
        copied = true;
      }
      body.appendBuffer(chunk);
    }
  }

  private void end(Void v) {
    if (!refused) {
      onBody.handle(body != null ? body : Buffer.buffer());
    }
  }
}
