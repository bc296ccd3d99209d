package dev.streamtools.testkit;

import dev.streamtools.Message;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;

/** Thread-safe record of the messages a handler saw, in arrival order. */
public final class Received {

  private final ConcurrentLinkedQueue<Message> messages = new ConcurrentLinkedQueue<>();

  /** @param message a message a handler saw */
  public void add(Message message) {
    messages.add(message);
  }

  /** @return how many messages were recorded, duplicates included */
  public int size() {
    return messages.size();
  }

  /** @return the messages in arrival order */
  public List<Message> messages() {
    return new ArrayList<>(messages);
  }

  /** @return the distinct ids, in first-arrival order */
  public Set<String> ids() {
    Set<String> ids = new LinkedHashSet<>();
    messages.forEach(m -> ids.add(m.id()));
    return ids;
  }

  /** @return how many recorded messages repeat an id seen before */
  public int duplicates() {
    return size() - ids().size();
  }
}
