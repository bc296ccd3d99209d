package dev.streamtools.rabbitmq.impl;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.ShutdownSignalException;
import dev.streamtools.FailurePolicy;
import dev.streamtools.StreamtoolsException;
import dev.streamtools.Transports;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.util.Collection;
import java.util.HashMap;
import java.util.Map;

/**
 * Declares what a queue needs: the durable queue (classic or quorum) with broker-side dead-lettering to
 * {@code <queue>.dlq}, the durable dead-letter queue, and the optional exchange with its binding.
 *
 * <p>A queue or exchange that already exists is used as it is: a queue declared by another application
 * (or by an operator with other arguments) must not make streamtools fail with PRECONDITION_FAILED, and
 * RabbitMQ refuses to change a queue's arguments anyway. Each check runs on its own short-lived channel
 * because a failed passive declare closes the channel it ran on.
 *
 * <p>Blocking: runs on the connection's worker.
 */
final class Topology {

  private static final Logger LOG = LoggerFactory.getLogger(Topology.class);
  private static final int NOT_FOUND = 404;
  private static final int PRECONDITION_FAILED = 406;

  private Topology() {
  }

  /**
   * @param deadLetterQueues the dead-letter queues to declare besides the queue
   */
  static void declare(Connection c, RmqSettings s, String queue, Collection<String> deadLetterQueues) {
    if (s.exchange != null) {
      ensureExchange(c, s.exchange, s.exchangeType, queue);
    }
    Map<String, Object> args = typeArguments(s);
    // Broker-side dead-lettering catches what streamtools does not see: a message expired by its TTL, or
    // rejected by another client on the same queue, lands in the DLQ instead of vanishing.
    args.put("x-dead-letter-exchange", "");
    args.put("x-dead-letter-routing-key", queue + FailurePolicy.DEAD_LETTER_SUFFIX);
    ensureQueue(c, queue, args, queue);
    for (String dlq : deadLetterQueues) {
      ensureQueue(c, dlq, typeArguments(s), queue);
    }
    if (s.exchange != null) {
      String routingKey = s.routingKey != null ? s.routingKey : queue;
      run(c, queue, "bind queue '" + queue + "' to exchange '" + s.exchange + "' with routing key '" + routingKey + "'",
        ch -> ch.queueBind(queue, s.exchange, routingKey));
    }
  }

  /**
   * @return {@code true} if the exchange exists
   */
  static boolean exchangeExists(Connection c, String exchange) throws IOException {
    Channel ch = c.createChannel();
    try {
      ch.exchangeDeclarePassive(exchange);
      return true;
    } catch (IOException e) {
      if (replyCode(e) == NOT_FOUND) {
        return false;
      }
      throw e;
    } finally {
      RmqConnection.closeQuietly(ch);
    }
  }

  private static Map<String, Object> typeArguments(RmqSettings s) {
    Map<String, Object> args = new HashMap<>();
    if (s.queueType == RmqSettings.QueueType.QUORUM) {
      args.put("x-queue-type", "quorum");
    }
    return args;
  }

  private static void ensureQueue(Connection c, String name, Map<String, Object> args, String queue) {
    if (exists(c, name, queue, ch -> ch.queueDeclarePassive(name))) {
      LOG.debug("[rabbitmq queue '{}'] queue '{}' exists; using it as declared", queue, name);
      return;
    }
    try {
      runOnce(c, ch -> ch.queueDeclare(name, true, false, false, args));
    } catch (IOException e) {
      // declared meanwhile by someone else with other arguments: theirs stands
      if (replyCode(e) == PRECONDITION_FAILED && exists(c, name, queue, ch -> ch.queueDeclarePassive(name))) {
        return;
      }
      throw failure(queue, "declare durable queue '" + name + "'", e);
    }
  }

  private static void ensureExchange(Connection c, String exchange, String type, String queue) {
    if (exists(c, exchange, queue, ch -> ch.exchangeDeclarePassive(exchange))) {
      return;
    }
    try {
      runOnce(c, ch -> ch.exchangeDeclare(exchange, type, true));
    } catch (IOException e) {
      if (replyCode(e) == PRECONDITION_FAILED && exists(c, exchange, queue, ch -> ch.exchangeDeclarePassive(exchange))) {
        return;
      }
      throw failure(queue, "declare durable " + type + " exchange '" + exchange + "'", e);
    }
  }

  private static boolean exists(Connection c, String name, String queue, Op passive) {
    try {
      runOnce(c, passive);
      return true;
    } catch (IOException e) {
      if (replyCode(e) == NOT_FOUND) {
        return false;
      }
      throw failure(queue, "check whether '" + name + "' exists", e);
    }
  }

  private static void run(Connection c, String queue, String what, Op op) {
    try {
      runOnce(c, op);
    } catch (IOException e) {
      throw failure(queue, what, e);
    }
  }

  private static void runOnce(Connection c, Op op) throws IOException {
    Channel ch = c.createChannel();
    if (ch == null) {
      throw new IOException("no channel available on the connection (channel_max reached)");
    }
    try {
      op.run(ch);
    } finally {
      RmqConnection.closeQuietly(ch);
    }
  }

  private static StreamtoolsException failure(String queue, String what, Exception e) {
    Throwable sig = e.getCause() instanceof ShutdownSignalException ? e.getCause() : e;
    return new StreamtoolsException(Transports.RABBITMQ, queue, "cannot " + what + ": " + RmqConnection.describe(sig), e);
  }

  /** @return the AMQP reply code a broker error carries, or 0 */
  static int replyCode(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof ShutdownSignalException) {
        Object reason = ((ShutdownSignalException) t).getReason();
        if (reason instanceof AMQP.Channel.Close) {
          return ((AMQP.Channel.Close) reason).getReplyCode();
        }
        if (reason instanceof AMQP.Connection.Close) {
          return ((AMQP.Connection.Close) reason).getReplyCode();
        }
      }
      if (t.getCause() == t) {
        break;
      }
    }
    return 0;
  }

  @FunctionalInterface
  private interface Op {
    void run(Channel ch) throws IOException;
  }
}
