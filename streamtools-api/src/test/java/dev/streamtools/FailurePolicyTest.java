package dev.streamtools;

import org.junit.jupiter.api.Test;

import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class FailurePolicyTest {

  @Test
  void backoffGrowsByTheMultiplierUpToTheMaximum() {
    FailurePolicy p = FailurePolicy.defaults().backoff(Duration.ofMillis(100), 3.0, Duration.ofMillis(1000));
    assertThat(p.backoffAfter(1)).isEqualTo(Duration.ofMillis(100));
    assertThat(p.backoffAfter(2)).isEqualTo(Duration.ofMillis(300));
    assertThat(p.backoffAfter(3)).isEqualTo(Duration.ofMillis(900));
    assertThat(p.backoffAfter(4)).isEqualTo(Duration.ofMillis(1000));
  }

  @Test
  void settersCopyAndValidate() {
    FailurePolicy p = FailurePolicy.defaults().maxAttempts(5).deadLetterQueue("parking");
    assertThat(FailurePolicy.defaults().maxAttempts()).isEqualTo(3);
    assertThat(p.maxAttempts()).isEqualTo(5);
    assertThat(p.deadLetterQueueFor("orders")).isEqualTo("parking");
    assertThat(FailurePolicy.defaults().deadLetterQueueFor("orders")).isEqualTo("orders.dlq");
    assertThatThrownBy(() -> p.maxAttempts(0)).hasMessageContaining("maxAttempts");
    assertThatThrownBy(() -> p.backoff(Duration.ofMillis(1), 0.5, Duration.ofMillis(2))).hasMessageContaining("multiplier");
    assertThatThrownBy(() -> RouteOptions.defaults().maxInFlight(0)).hasMessageContaining("maxInFlight");
    assertThatThrownBy(() -> RouteOptions.defaults().method("PUT")).hasMessageContaining("POST or GET");
  }
}
