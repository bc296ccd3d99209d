package dev.streamtools;

import io.vertx.core.Vertx;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Runs with only streamtools-api on the classpath: memory is the one transport present. */
class TransportsTest {

  @Test
  void memoryIsFoundWithServiceLoaderUnderItsNameAndAliases() {
    assertThat(Transports.PRODUCERS).containsKey(Transports.MEMORY);
    assertThat(Transports.CONSUMER_LOOPS).containsKey(Transports.MEMORY);
    assertThat(Transports.PRODUCERS.get("MEMORY").transport()).isEqualTo(Transports.MEMORY);
    assertThat(Transports.PRODUCERS.get("MemoryHandler").transport()).isEqualTo(Transports.MEMORY);
    assertThat(Transports.resolve(" Memory ")).isEqualTo(Transports.MEMORY);
  }

  @Test
  void anUnknownNameListsTheKnownOnesAndTheModuleThatAddsIt() {
    assertThatThrownBy(() -> Transports.PRODUCERS.get(Transports.KAFKA))
      .isInstanceOf(UnknownTransportException.class)
      .hasMessageContaining("unknown transport 'kafka'")
      .hasMessageContaining("streamtools-kafka")
      .hasMessageContaining("known transports: memory");
    assertThatThrownBy(() -> Transports.CONSUMER_LOOPS.get("KafkaHandler"))
      .hasMessageContaining("streamtools-kafka");
    assertThatThrownBy(() -> Transports.resolve("carrier-pigeon"))
      .isInstanceOf(UnknownTransportException.class)
      .hasMessageContaining("carrier-pigeon")
      .hasMessageContaining("known transports: memory");
  }

  @Test
  void theMapsAreUnmodifiable() {
    assertThatThrownBy(() -> Transports.PRODUCERS.remove(Transports.MEMORY))
      .isInstanceOf(UnsupportedOperationException.class);
    assertThatThrownBy(() -> Transports.CONSUMER_LOOPS.clear()).isInstanceOf(UnsupportedOperationException.class);
  }

  @Test
  void anEmptyQueueNameIsRefused() {
    Vertx vertx = Vertx.vertx();
    try {
      assertThatThrownBy(() -> Transports.PRODUCERS.get(Transports.MEMORY).create(vertx, " "))
        .isInstanceOf(ConfigException.class).hasMessageContaining("queue name");
    } finally {
      vertx.close();
    }
  }
}
