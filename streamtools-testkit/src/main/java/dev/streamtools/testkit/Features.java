package dev.streamtools.testkit;

/**
 * What a transport promises, so the {@link TransportConformanceSuite} runs the tests that apply to it
 * (as Watermill's universal Pub/Sub suite does).
 *
 * @param persistent messages survive the consumer: a message sent while no consumer runs, or left
 *     unacked by a closed one, is delivered to the next consumer
 * @param orderedPerQueue with {@code maxInFlight} 1 and one consumer, messages arrive in send order
 *     (Kafka: per key / partition)
 * @param deadLetterQueue dead letters can be consumed from {@code <queue>.dlq} with a consumer loop of the
 *     same transport; without it (HTTP), the failure is the sender's error response instead
 * @param synchronousOutcome a send completes only after the handler's outcome (HTTP): a failing handler
 *     fails the send
 * @param competingConsumers two loops on one queue share its messages
 * @param restartableBroker the broker can be restarted by the test: the suite restarts it once under a running
 *     producer and loop ({@link TransportConformanceSuite#restartBroker()}, which the subclass then overrides)
 */
public record Features(boolean persistent, boolean orderedPerQueue, boolean deadLetterQueue,
                       boolean synchronousOutcome, boolean competingConsumers, boolean restartableBroker) {
}
