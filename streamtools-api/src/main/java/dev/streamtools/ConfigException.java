package dev.streamtools;

/** Configuration that cannot work: the message names the setting (queue, key) and what is wrong. */
public class ConfigException extends StreamtoolsException {

  private static final long serialVersionUID = 1L;

  /** @param message what is wrong and where */
  public ConfigException(String message) {
    super(null, null, message, null);
  }

  /**
   * @param message what is wrong and where
   * @param cause the underlying failure
   */
  public ConfigException(String message, Throwable cause) {
    super(null, null, message, cause);
  }
}
