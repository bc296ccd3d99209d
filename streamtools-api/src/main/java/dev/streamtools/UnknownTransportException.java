package dev.streamtools;

/** A transport name that no module on the classpath provides. */
public class UnknownTransportException extends ConfigException {

  private static final long serialVersionUID = 1L;

  private final String name;

  /**
   * @param name the name that was asked for
   * @param message the full explanation: known names and the module that adds the missing one
   */
  public UnknownTransportException(String name, String message) {
    super(message);
    this.name = name;
  }

  /** @return the transport name that was asked for */
  public String name() {
    return name;
  }
}
