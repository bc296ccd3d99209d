package dev.streamtools.faults;

import io.vertx.core.json.JsonObject;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * HTTP/1.1 over a plain socket, byte for byte: the bad-input battery must send what a well-behaved client
 * library refuses to (control characters in headers, invalid UTF-8, bodies over the limit) and see exactly what
 * comes back, including a connection closed without an answer.
 */
final class RawHttp {

  /** What came back: status -1 when the connection closed (or timed out) without a status line. */
  record Response(int status, Map<String, String> headers, String body, String problem) {

    boolean jsonError() {
      try {
        JsonObject o = new JsonObject(body);
        return o.getInteger("status", -1) == status && o.getString("error") != null && !o.getString("error").isBlank();
      } catch (RuntimeException e) {
        return false;
      }
    }

    String describe() {
      if (status < 0) {
        return "no answer: " + problem;
      }
      String b = body.length() > 160 ? body.substring(0, 157) + "..." : body;
      return status + (b.isEmpty() ? "" : " " + b.replace('\n', ' '));
    }
  }

  private RawHttp() {
  }

  /**
   * @param port where the runner listens
   * @param method the method
   * @param path the path
   * @param headers raw header lines, each {@code Name: value} without CRLF (bytes are sent as given)
   * @param body the body, or {@code null} for none (no Content-Length)
   * @return the answer
   */
  static Response send(int port, String method, String path, byte[][] headers, byte[] body) {
    ByteArrayOutputStream req = new ByteArrayOutputStream();
    try {
      req.write((method + " " + path + " HTTP/1.1\r\nHost: 127.0.0.1:" + port + "\r\nConnection: close\r\n")
        .getBytes(StandardCharsets.ISO_8859_1));
      for (byte[] h : headers) {
        req.write(h);
        req.write(new byte[] {'\r', '\n'});
      }
      if (body != null) {
        req.write(("Content-Length: " + body.length + "\r\n").getBytes(StandardCharsets.ISO_8859_1));
      }
      req.write(new byte[] {'\r', '\n'});
      if (body != null) {
        req.write(body);
      }
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
    byte[] bytes = req.toByteArray();
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress("127.0.0.1", port), 5_000);
      s.setSoTimeout(15_000);
      OutputStream out = s.getOutputStream();
      // written from another thread: the server may answer (413, 431) and close before reading it all
      Thread writer = new Thread(() -> {
        try {
          out.write(bytes);
          out.flush();
        } catch (IOException e) {
          // the answer (or its absence) tells what happened
        }
      }, "raw-http-writer");
      writer.setDaemon(true);
      writer.start();
      byte[] answer = readAll(s.getInputStream());
      return parse(answer);
    } catch (SocketTimeoutException e) {
      return new Response(-1, Map.of(), "", "no answer within 15 s");
    } catch (IOException e) {
      return new Response(-1, Map.of(), "", e.toString());
    }
  }

  private static byte[] readAll(InputStream in) throws IOException {
    ByteArrayOutputStream b = new ByteArrayOutputStream();
    byte[] buf = new byte[8192];
    int n;
    try {
      while ((n = in.read(buf)) >= 0) {
        b.write(buf, 0, n);
      }
    } catch (IOException e) {
      if (b.size() == 0) {
        throw e;
      }
      // a reset after the answer (the server closing with unread request bytes) does not unsay the answer
    }
    return b.toByteArray();
  }

  private static Response parse(byte[] answer) {
    String text = new String(answer, StandardCharsets.ISO_8859_1);
    int end = text.indexOf("\r\n\r\n");
    if (!text.startsWith("HTTP/1.") || end < 0) {
      return new Response(-1, Map.of(), "", answer.length == 0 ? "connection closed without an answer"
        : "not an HTTP answer: " + text.substring(0, Math.min(80, text.length())));
    }
    String[] lines = text.substring(0, end).split("\r\n");
    int status = Integer.parseInt(lines[0].split(" ")[1]);
    Map<String, String> headers = new LinkedHashMap<>();
    for (int i = 1; i < lines.length; i++) {
      int c = lines[i].indexOf(':');
      if (c > 0) {
        headers.put(lines[i].substring(0, c).trim().toLowerCase(Locale.ROOT), lines[i].substring(c + 1).trim());
      }
    }
    String body = new String(answer, end + 4, answer.length - end - 4, StandardCharsets.UTF_8);
    return new Response(status, headers, body, null);
  }

  static byte[][] headers(String... lines) {
    byte[][] h = new byte[lines.length][];
    for (int i = 0; i < lines.length; i++) {
      h[i] = lines[i].getBytes(StandardCharsets.ISO_8859_1);
    }
    return h;
  }
}
