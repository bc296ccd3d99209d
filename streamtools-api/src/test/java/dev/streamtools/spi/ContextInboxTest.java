package dev.streamtools.spi;

import io.vertx.core.Context;
import io.vertx.core.Vertx;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

class ContextInboxTest {

  private final Vertx vertx = Vertx.vertx();

  @AfterEach
  void close() {
    vertx.close().await();
  }

  @Test
  void eventsFromManyThreadsAllRunOnTheContextInEachThreadsOrder() throws Exception {
    int threads = 4;
    int eventsPerThread = 200_000;
    Context context = vertx.getOrCreateContext();
    ContextInbox inbox = new ContextInbox(context);
    // touched only on the context: the last sequence number each thread's events reached
    int[] lastSeen = new int[threads];
    List<String> outOfOrder = new ArrayList<>();
    AtomicInteger ran = new AtomicInteger();
    AtomicReference<Thread> foreignThread = new AtomicReference<>();
    CountDownLatch start = new CountDownLatch(1);
    List<Thread> senders = new ArrayList<>();
    for (int t = 0; t < threads; t++) {
      int thread = t;
      Thread sender = new Thread(() -> {
        try {
          start.await();
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          return;
        }
        for (int seq = 1; seq <= eventsPerThread; seq++) {
          int n = seq;
          inbox.submit(() -> {
            if (Vertx.currentContext() != context) {
              foreignThread.set(Thread.currentThread());
            }
            if (n != lastSeen[thread] + 1 && outOfOrder.size() < 10) {
              outOfOrder.add("thread " + thread + ": " + n + " after " + lastSeen[thread]);
            }
            lastSeen[thread] = n;
            ran.incrementAndGet();
          });
        }
      }, "inbox-sender-" + t);
      sender.start();
      senders.add(sender);
    }
    start.countDown();
    for (Thread sender : senders) {
      sender.join();
    }

    // a lost wake-up would leave events in the queue with no drain to run them
    await().atMost(Duration.ofSeconds(30)).until(() -> ran.get() == threads * eventsPerThread);
    CountDownLatch checked = new CountDownLatch(1);
    List<String> outOfOrderSeen = new ArrayList<>();
    context.runOnContext(v -> {
      outOfOrderSeen.addAll(outOfOrder);
      checked.countDown();
    });
    assertThat(checked.await(10, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
    assertThat(outOfOrderSeen).isEmpty();
    assertThat(foreignThread.get()).isNull();
  }

  @Test
  void anEventThatThrowsIsReportedAndTheNextStillRun() {
    Context context = vertx.getOrCreateContext();
    AtomicReference<Throwable> reported = new AtomicReference<>();
    context.exceptionHandler(reported::set);
    ContextInbox inbox = new ContextInbox(context);
    AtomicInteger ranAfter = new AtomicInteger();

    inbox.submit(() -> {
      throw new IllegalStateException("handler bug");
    });
    inbox.submit(ranAfter::incrementAndGet);

    await().atMost(Duration.ofSeconds(5)).until(() -> ranAfter.get() == 1);
    assertThat(reported.get()).isInstanceOf(IllegalStateException.class).hasMessage("handler bug");
  }
}
