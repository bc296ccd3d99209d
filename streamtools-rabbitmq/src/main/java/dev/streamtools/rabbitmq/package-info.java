/**
 * The {@code rabbitmq} transport of streamtools: select it with {@code QUEUE_TYPE=rabbitmq} (or the seed's
 * {@code RMQIOHandler} / {@code RMQHandler}) and configure it with the settings named in
 * {@link dev.streamtools.rabbitmq.RabbitMqSettings}. It is found by {@link java.util.ServiceLoader}; users
 * reach it only through {@code Transports.PRODUCERS} and {@code Transports.CONSUMER_LOOPS}.
 *
 * <h2>Topology</h2>
 * {@code init()} (of a producer or a consumer loop) declares, if absent: the durable queue (classic, or
 * quorum with {@code RMQ_QUEUE_TYPE=quorum}) with broker-side dead-lettering to {@code <queue>.dlq}, the
 * durable {@code <queue>.dlq}, and, with {@code RMQ_EXCHANGE}, the durable exchange and the queue's binding.
 * A queue or exchange that exists already is used as it is. Everything is declared again after a reconnect.
 *
 * <h2>Producer</h2>
 * Each producer has its own connection and one confirm-mode channel. A send completes when the broker
 * confirms the persistent, {@code mandatory} message; confirms are pipelined up to {@code RMQ_CONFIRM_WINDOW}
 * unconfirmed messages. It fails with a {@code SendException} (naming transport, queue and message id) on a
 * negative confirm, on an unroutable message (returned by the broker), when the connection drops before the
 * confirm (the message may or may not be stored: resending can duplicate it, never lose it), and when
 * {@code RMQ_SEND_TIMEOUT_MS} passes. While disconnected, sends wait for the reconnect (bounded by the timeout
 * and {@code RMQ_MAX_PENDING_BYTES}). Thread safe; Futures complete on the producer's Vert.x context;
 * {@code close()} waits for the sends already made to complete or fail, then closes the connection.
 *
 * <h2>Consumer loop</h2>
 * Each loop has its own connection: prefetch = {@code maxInFlight}, manual acks sent only after the handler's
 * Future succeeded. A failed message is republished with its {@code x-attempt} count raised after the backoff
 * delay and the original acked only once the republish is confirmed; after the last attempt (or at once when
 * it cannot be decoded) it is published to the dead-letter queue with the reason in its {@code x-dead-letter-*}
 * headers, then acked. Loops on one queue compete for its messages. {@code close()} cancels the consumer,
 * waits up to the drain timeout for the handlers, acks what finished and closes the connection: every
 * unacknowledged message goes back to the queue.
 *
 * <h2>Lost connections</h2>
 * Reconnects with exponential backoff ({@code RMQ_RECONNECT_INITIAL_MS} doubling up to
 * {@code RMQ_RECONNECT_MAX_MS}, with jitter) until closed, declares the topology again and resumes consuming.
 * Deliveries of the lost connection are redelivered by the broker (at most a prefetch's worth of duplicates);
 * they are never acked on the new one. The first connection of an {@code init()} is not retried: a wrong
 * host or password fails it at once, with a message that names neither user nor password.
 */
package dev.streamtools.rabbitmq;
