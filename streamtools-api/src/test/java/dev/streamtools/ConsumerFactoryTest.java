package dev.streamtools;

import io.vertx.core.Future;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ConsumerFactoryTest {

  record Order(String id, int qty) {
  }

  @Test
  void routesBecomeInstancesAndHandlersInDeclarationOrder() {
    ConsumerFactory consumers = new ConsumerFactory("memory", 9000);
    consumers.route("b", m -> Future.succeededFuture())
      .route("a", Order.class, o -> Future.succeededFuture())
      .route("c", RouteOptions.defaults().maxInFlight(1), m -> Future.succeededFuture());

    assertThat(consumers.instances()).containsOnlyKeys("b", "a", "c");
    assertThat(consumers.instances().keySet()).containsExactly("b", "a", "c");
    assertThat(consumers.handlers().keySet()).containsExactly("b", "a", "c");
    assertThat(consumers.instances().get("a").transport()).isEqualTo("memory");
    assertThat(consumers.instances().get("a").config().getInteger("HTTP_PORT")).isEqualTo(9000);
    assertThat(consumers.handlers().get("c").options().maxInFlight()).isEqualTo(1);
  }

  @Test
  void aTypedRouteDecodesBeforeTheHandlerAndRefusesWhatDoesNotDecode() throws Exception {
    ConsumerFactory consumers = new ConsumerFactory("memory", 0);
    Order[] seen = new Order[1];
    consumers.route("orders", Order.class, o -> {
      seen[0] = o;
      return Future.succeededFuture();
    });
    MessageHandler handler = consumers.handlers().get("orders").handler();

    assertThat(handler.handle(Message.json(new Order("o-7", 2))).succeeded()).isTrue();
    assertThat(seen[0]).isEqualTo(new Order("o-7", 2));
    seen[0] = null;
    assertThatThrownBy(() -> handler.handle(Message.text("garbage"))).isInstanceOf(MessageDecodeException.class);
    assertThat(seen[0]).isNull();
  }

  @Test
  void mistakesAreReportedWhenTheyAreMade() {
    ConsumerFactory consumers = new ConsumerFactory("memory", 0);
    consumers.route("q", m -> Future.succeededFuture());
    assertThatThrownBy(() -> consumers.route("q", m -> Future.succeededFuture()))
      .hasMessageContaining("queue 'q' already has a route");
    assertThatThrownBy(() -> consumers.route("", m -> Future.succeededFuture())).isInstanceOf(ConfigException.class);
    assertThatThrownBy(() -> new ConsumerFactory("smoke-signals", 0)).isInstanceOf(UnknownTransportException.class);
    assertThatThrownBy(() -> new ConsumerFactory("memory", 70000)).hasMessageContaining("port");
  }
}
