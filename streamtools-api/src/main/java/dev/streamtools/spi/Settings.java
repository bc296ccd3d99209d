package dev.streamtools.spi;

import dev.streamtools.ConfigException;
import io.vertx.core.json.JsonObject;

import java.util.Map;
import java.util.Objects;

/**
 * Reads settings by their environment names ({@code RMQ_HOST}, {@code KAFKA_BOOTSTRAP_SERVERS} ...):
 * the config object first, then the environment, then the documented default.
 */
public final class Settings {

  private final JsonObject config;
  private final Map<String, String> env;

  private Settings(JsonObject config, Map<String, String> env) {
    this.config = config == null ? new JsonObject() : config;
    this.env = env;
  }

  /**
   * @param config the config object given to a factory, may be {@code null}
   * @return settings over that config and the process environment
   */
  public static Settings of(JsonObject config) {
    return new Settings(config, System.getenv());
  }

  /**
   * @param config the config object
   * @param env the environment to fall back on
   * @return settings over that config and environment
   */
  public static Settings of(JsonObject config, Map<String, String> env) {
    return new Settings(config, Objects.requireNonNull(env, "env"));
  }

  /** @return the config object these settings read first */
  public JsonObject config() {
    return config;
  }

  /**
   * @param name the setting's environment name
   * @param defaultValue the documented default
   * @return the value: config, then environment, then default
   */
  public String string(String name, String defaultValue) {
    Object fromConfig = config.getValue(name);
    if (fromConfig != null) {
      return fromConfig.toString();
    }
    String fromEnv = env.get(name);
    return fromEnv != null && !fromEnv.isEmpty() ? fromEnv : defaultValue;
  }

  /**
   * @param name the setting's environment name
   * @param defaultValue the documented default
   * @return the value as an int
   * @throws ConfigException if the value is not an integer
   */
  public int integer(String name, int defaultValue) {
    String value = string(name, null);
    if (value == null) {
      return defaultValue;
    }
    try {
      return Integer.parseInt(value.trim());
    } catch (NumberFormatException e) {
      throw new ConfigException("setting " + name + " must be an integer, was '" + value + "'", e);
    }
  }

  /**
   * @param name the setting's environment name
   * @param defaultValue the documented default
   * @return the value as a boolean ({@code true}/{@code false}, {@code 1}/{@code 0}, {@code yes}/{@code no})
   * @throws ConfigException if the value is not a boolean
   */
  public boolean bool(String name, boolean defaultValue) {
    String value = string(name, null);
    if (value == null) {
      return defaultValue;
    }
    switch (value.trim().toLowerCase(java.util.Locale.ROOT)) {
      case "true": case "1": case "yes": return true;
      case "false": case "0": case "no": return false;
      default: throw new ConfigException("setting " + name + " must be true or false, was '" + value + "'");
    }
  }
}
