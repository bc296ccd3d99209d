package dev.streamtools.impl;

import dev.streamtools.Message;

import java.util.Objects;
import java.util.function.BiFunction;

/**
 * Makes the {@link Message} of a received record whose fields are decoded when first read, through a
 * constructor {@code Message} keeps private: users build messages with {@link Message#builder()}; only
 * transports make them from a record. Internal: for the project's transports.
 */
public final class ReceivedMessages {

  private static BiFunction<String, WireFields, Message> factory;

  private ReceivedMessages() {
  }

  /**
   * @param queue the queue the message was received from
   * @param fields what the message's other fields are decoded from
   * @return the message
   */
  public static Message of(String queue, WireFields fields) {
    return Factory.INSTANCE.apply(queue, Objects.requireNonNull(fields, "fields"));
  }

  /**
   * Called once, by {@link Message}'s class initialisation.
   *
   * @param messageFactory the constructor
   */
  public static synchronized void install(BiFunction<String, WireFields, Message> messageFactory) {
    if (factory != null) {
      throw new IllegalStateException("the received-message factory is installed once, by Message");
    }
    factory = messageFactory;
  }

  // Initialised on first use, after Message's class initialisation has installed the factory.
  private static final class Factory {
    static final BiFunction<String, WireFields, Message> INSTANCE = installed();

    private static BiFunction<String, WireFields, Message> installed() {
      Message.builder();
      synchronized (ReceivedMessages.class) {
        return Objects.requireNonNull(factory, "Message did not install its factory");
      }
    }
  }
}
