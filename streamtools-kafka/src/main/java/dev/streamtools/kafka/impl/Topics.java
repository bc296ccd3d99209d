package dev.streamtools.kafka.impl;

import dev.streamtools.StreamtoolsException;
import dev.streamtools.Transports;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.kafka.admin.KafkaAdminClient;
import org.apache.kafka.clients.admin.AdminClient;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.DescribeTopicsOptions;
import org.apache.kafka.clients.admin.ListOffsetsOptions;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.TopicPartitionInfo;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;

/** Creates missing topics through the Admin client, once per {@code init()}. */
final class Topics {

  private static final Logger LOG = LoggerFactory.getLogger(Topics.class);
  private static final int LEADER_WAIT_ATTEMPTS = 10;
  private static final int LEADER_WAIT_CALL_TIMEOUT_MS = 5_000;
  private static final long LEADER_WAIT_INTERVAL_MS = 100;

  private Topics() {
  }

  /**
   * Creates {@code topic} unless it exists or topic creation is off. A topic that already exists, or
   * appears while we create it, is success.
   *
   * @return a Future completed on {@code context} when the topic exists (or creation is off)
   */
  static Future<Void> ensure(Context context, KafkaClientConfig config, String topic) {
    if (!config.createTopics()) {
      return Future.succeededFuture();
    }
    return context.<AdminClient>executeBlocking(() -> {
      Map<String, Object> props = new TreeMap<>(config.adminProperties());
      // init() must answer in bounded time when the broker is away, not after Kafka's 60 s default
      props.putIfAbsent(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, "30000");
      props.putIfAbsent(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, "15000");
      return AdminClient.create(props);
    }).compose(raw -> {
      KafkaAdminClient admin = KafkaAdminClient.create(context.owner(), raw);
      return admin.describeTopics(List.of(topic))
        .<Void>map(d -> null)
        .recover(e -> {
          if (!(rootCause(e) instanceof UnknownTopicOrPartitionException)) {
            return Future.failedFuture(e);
          }
          // The vert.x wrapper's NewTopic cannot say "broker default"; the raw Admin can (-1 = Optional.empty)
          NewTopic newTopic = new NewTopic(topic,
            config.topicPartitions() > 0 ? Optional.of(config.topicPartitions()) : Optional.empty(),
            config.topicReplication() > 0 ? Optional.of(config.topicReplication()) : Optional.empty());
          return Future.fromCompletionStage(raw.createTopics(List.of(newTopic)).all().toCompletionStage(), context)
            .onSuccess(v -> LOG.info("[kafka queue '{}'] created topic with {} partition(s), replication factor {}",
              topic, describe(config.topicPartitions()), describe(config.topicReplication())))
            .recover(ce -> rootCause(ce) instanceof TopicExistsException ? Future.succeededFuture()
              : Future.failedFuture(ce))
            .compose(v -> leadersServe(context, raw, topic, LEADER_WAIT_ATTEMPTS));
        })
        .recover(e -> Future.failedFuture(new StreamtoolsException(Transports.KAFKA, topic,
          "could not make sure the topic exists (set KAFKA_CREATE_TOPICS=false if topics are managed elsewhere): "
            + rootCause(e), rootCause(e))))
        .eventually(() -> admin.close(5_000).recover(x -> Future.succeededFuture()));
    });
  }

  /**
   * Waits until the leader of every partition of a topic created a moment ago answers ListOffsets, which only a
   * partition's serving leader does. Producing earlier can lose records on brokers before KAFKA-15591's fix: a
   * produce request that arrives before the broker applied the new partition fails with NOT_LEADER_OR_FOLLOWER,
   * a later request of the same idempotent producer is appended, and the first one's retries then fail with
   * OUT_OF_ORDER_SEQUENCE_NUMBER until {@code delivery.timeout.ms} (seen in this project's tests on Kafka 4.1.1).
   * The wait is bounded (10 tries of at most 5 s); after it the topic is used anyway, with a warning.
   */
  private static Future<Void> leadersServe(Context context, AdminClient raw, String topic, int attemptsLeft) {
    return Future.fromCompletionStage(raw.describeTopics(List.of(topic),
        new DescribeTopicsOptions().timeoutMs(LEADER_WAIT_CALL_TIMEOUT_MS)).allTopicNames().toCompletionStage(), context)
      .compose(described -> {
        Map<TopicPartition, OffsetSpec> latest = new HashMap<>();
        for (TopicPartitionInfo p : described.get(topic).partitions()) {
          latest.put(new TopicPartition(topic, p.partition()), OffsetSpec.latest());
        }
        return Future.fromCompletionStage(raw.listOffsets(latest,
          new ListOffsetsOptions().timeoutMs(LEADER_WAIT_CALL_TIMEOUT_MS)).all().toCompletionStage(), context);
      })
      .<Void>mapEmpty()
      .recover(e -> {
        if (attemptsLeft > 1) {
          return context.owner().timer(LEADER_WAIT_INTERVAL_MS, TimeUnit.MILLISECONDS)
            .compose(t -> leadersServe(context, raw, topic, attemptsLeft - 1));
        }
        LOG.warn("[kafka queue '{}'] the new topic's partition leaders did not answer yet ({}); using it anyway",
          topic, rootCause(e).toString());
        return Future.succeededFuture();
      });
  }

  private static String describe(int n) {
    return n > 0 ? Integer.toString(n) : "broker default";
  }

  static Throwable rootCause(Throwable t) {
    Throwable c = t;
    while (c.getCause() != null && c.getCause() != c
      && (c instanceof java.util.concurrent.CompletionException || c instanceof java.util.concurrent.ExecutionException
      || c.getClass() == RuntimeException.class)) {
      c = c.getCause();
    }
    return c;
  }
}
