package dev.streamtools.http.impl;

import dev.streamtools.Message;
import io.vertx.core.MultiMap;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.Json;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/** How a message travels over HTTP: the body as is, metadata in headers (see {@code HttpSettings}). */
public final class HttpWire {

  /** The content type tags of {@code SendOptions.headersTag}. */
  static final Map<String, String> CONTENT_TYPE_TAGS = Map.of(
    "JSON", Message.APPLICATION_JSON,
    "TEXT", Message.TEXT_PLAIN,
    "XML", "application/xml",
    "BINARY", Message.OCTET_STREAM);

  /**
   * Request headers that describe the exchange, not the message, or carry credentials: never turned into
   * message headers, never sent from message headers. Matched in any case.
   */
  private static final Set<String> NOT_MESSAGE_HEADERS = caseInsensitive(
    "host", "content-length", "content-type", "content-encoding", "transfer-encoding", "connection",
    "keep-alive", "proxy-connection", "te", "trailer", "upgrade", "expect", "user-agent", "accept",
    "accept-encoding", "accept-charset", "accept-language", "authorization", "proxy-authorization", "cookie",
    "http2-settings", "via", "forwarded", "x-forwarded-for", "x-forwarded-host", "x-forwarded-proto",
    HttpWireNames.MESSAGE_ID, HttpWireNames.CORRELATION_ID, HttpWireNames.MESSAGE_KEY,
    HttpWireNames.MESSAGE_TIMESTAMP);

  private HttpWire() {
  }

  /**
   * @param queue a queue name
   * @return its request path: {@code /} + the name, with every character outside RFC 3986's unreserved set
   *     and {@code /} percent-encoded (UTF-8)
   */
  public static String path(String queue) {
    StringBuilder sb = new StringBuilder(queue.length() + 1).append('/');
    for (byte b : queue.getBytes(StandardCharsets.UTF_8)) {
      char c = (char) (b & 0xff);
      if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
        || c == '-' || c == '.' || c == '_' || c == '~' || c == '/') {
        sb.append(c);
      } else {
        sb.append('%').append(Character.toUpperCase(Character.forDigit((b >> 4) & 0xf, 16)))
          .append(Character.toUpperCase(Character.forDigit(b & 0xf, 16)));
      }
    }
    return sb.toString();
  }

  /**
   * @param headersTag the send flag, or {@code null}
   * @param message the message
   * @return the request's content type
   * @throws IllegalArgumentException for an unknown tag
   */
  public static String contentType(String headersTag, Message message) {
    if (headersTag == null || headersTag.isBlank()) {
      return message.contentType() != null ? message.contentType() : Message.APPLICATION_JSON;
    }
    if (headersTag.indexOf('/') >= 0) {
      return headersTag.trim();
    }
    String ct = CONTENT_TYPE_TAGS.get(headersTag.trim().toUpperCase(Locale.ROOT));
    if (ct == null) {
      throw new IllegalArgumentException("unknown headersTag '" + headersTag + "'; known tags: BINARY, JSON, "
        + "TEXT, XML, or a literal content type such as application/cbor");
    }
    return ct;
  }

  /**
   * @param name a header name
   * @return {@code true} if a header of this name is part of the message (not the exchange)
   */
  public static boolean isMessageHeader(String name) {
    return !NOT_MESSAGE_HEADERS.contains(name) && !name.startsWith(":");
  }

  /**
   * Turns a GET producer's body into query parameters.
   *
   * @param body the message body
   * @return the parameters, names and values in body order
   * @throws IllegalArgumentException if the body is not empty and not a flat JSON object
   */
  public static List<Map.Entry<String, String>> queryParams(Buffer body) {
    List<Map.Entry<String, String>> params = new ArrayList<>();
    if (body.length() == 0) {
      return params;
    }
    Object decoded;
    try {
      decoded = Json.decodeValue(body);
    } catch (DecodeException e) {
      throw new IllegalArgumentException("a GET send needs a JSON object body (sent as query parameters), "
        + "but the body is not JSON: " + e.getMessage(), e);
    }
    if (!(decoded instanceof JsonObject)) {
      throw new IllegalArgumentException("a GET send needs a JSON object body (sent as query parameters), "
        + "not " + (decoded instanceof JsonArray ? "an array" : String.valueOf(decoded)));
    }
    for (Map.Entry<String, Object> e : (JsonObject) decoded) {
      Object v = e.getValue();
      if (v instanceof JsonArray) {
        for (Object item : (JsonArray) v) {
          params.add(Map.entry(e.getKey(), scalar(e.getKey(), item)));
        }
      } else if (v != null) {
        params.add(Map.entry(e.getKey(), scalar(e.getKey(), v)));
      }
    }
    return params;
  }

  private static String scalar(String name, Object v) {
    if (v instanceof String || v instanceof Number || v instanceof Boolean) {
      return v.toString();
    }
    throw new IllegalArgumentException("a GET send turns the JSON body into query parameters, so values must "
      + "be strings, numbers, booleans or arrays of those; field '" + name + "' is " + v);
  }

  /**
   * Rebuilds the message a request carries.
   *
   * @param request the request
   * @param queue the queue
   * @param body the body read, or {@code null} for GET routes: the body is then the query parameters as a JSON
   *     object
   * @return the message
   */
  public static Message message(HttpServerRequest request, String queue, Buffer body) {
    MultiMap h = request.headers();
    Message.Builder b = Message.builder()
      .queue(queue)
      .id(blankToNull(h.get(HttpWireNames.MESSAGE_ID)))
      .correlationId(blankToNull(h.get(HttpWireNames.CORRELATION_ID)))
      .key(h.get(HttpWireNames.MESSAGE_KEY));
    if (body == null) {
      b.body(queryBody(request.params())).contentType(Message.APPLICATION_JSON);
    } else {
      b.body(body).contentType(h.get(HttpHeaders.CONTENT_TYPE));
    }
    String ts = h.get(HttpWireNames.MESSAGE_TIMESTAMP);
    if (ts != null) {
      try {
        b.timestamp(Instant.ofEpochMilli(Long.parseLong(ts.trim())));
      } catch (NumberFormatException ignored) {
        // not ours: keep the receive time
      }
    }
    Set<String> seen = null;
    for (Map.Entry<String, String> header : h) {
      String name = header.getKey();
      if (!isMessageHeader(name)) {
        continue;
      }
      if (seen == null) {
        seen = new TreeSet<>(String.CASE_INSENSITIVE_ORDER);
      }
      if (seen.add(name)) { // a repeated header is joined where it first appears
        List<String> values = h.getAll(name);
        b.header(name, values.size() == 1 ? values.get(0) : String.join(", ", values));
      }
    }
    return b.build();
  }

  private static Buffer queryBody(MultiMap params) {
    JsonObject json = new JsonObject();
    for (String name : params.names()) {
      List<String> values = params.getAll(name);
      json.put(name, values.size() == 1 ? values.get(0) : new JsonArray(List.copyOf(values)));
    }
    return json.toBuffer();
  }

  private static String blankToNull(String s) {
    return s == null || s.isBlank() ? null : s.trim();
  }

  // looked up once per request header: a case-insensitive set spares lower-casing each name
  private static Set<String> caseInsensitive(String... names) {
    Set<String> set = new TreeSet<>(String.CASE_INSENSITIVE_ORDER);
    set.addAll(List.of(names));
    return Collections.unmodifiableSet(set);
  }
}
