package dev.streamtools;

import io.vertx.core.Future;

/**
 * A producer and a consumer loop made from the same queue attributes, as {@link HandlerFactory} builds
 * them from one entry of a queues config. The two may use different transports.
 */
public final class HandleMsgs {

  private final String key;
  private final String name;
  private final Producer producer;
  private final ConsumerLoop consumerLoop;

  HandleMsgs(String key, String name, Producer producer, ConsumerLoop consumerLoop) {
    this.key = key;
    this.name = name;
    this.producer = producer;
    this.consumerLoop = consumerLoop;
  }

  /** @return the entry's key in the queues config */
  public String key() {
    return key;
  }

  /** @return the queue name both sides use */
  public String name() {
    return name;
  }

  /** @return the producer for the queue */
  public Producer producer() {
    return producer;
  }

  /** @return the consumer loop for the queue; start it with a handler */
  public ConsumerLoop consumerLoop() {
    return consumerLoop;
  }

  /**
   * Initialises both sides.
   *
   * @return a Future completed when both can be used
   */
  public Future<Void> init() {
    return Future.all(producer.init(), consumerLoop.init()).mapEmpty();
  }

  /**
   * Closes the consumer loop (draining it) and then the producer; idempotent.
   *
   * @return a Future completed when both are closed
   */
  public Future<Void> close() {
    return consumerLoop.close().eventually(producer::close);
  }
}
