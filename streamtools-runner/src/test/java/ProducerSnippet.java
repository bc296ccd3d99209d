import dev.streamtools.Message;
import dev.streamtools.Producer;
import dev.streamtools.Transports;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;

/** The producer snippet of design.md section 2, verbatim inside a method ("// ..." stands for this wrapper). */
public final class ProducerSnippet {

  private ProducerSnippet() {
  }

  /** @return the snippet's Vert.x instance, for the caller to close */
  static Vertx run() {
// ...
Vertx vertx = Vertx.vertx();
Producer producer = Transports.PRODUCERS.get(Transports.queueType()).create(vertx, "queue_1");
producer.init()                                               // the seed's a_init()
    .compose(v -> producer.send(Message.json(new JsonObject().put("id", 42))))
    .onSuccess(v -> System.out.println("accepted by the transport"));
    return vertx;
  }
}
