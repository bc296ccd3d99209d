package dev.streamtools.faults;

/** slf4j-simple settings for the harness's processes: timestamps, to stdout, quiet broker clients. */
final class Logging {

  private Logging() {
  }

  static void configure() {
    setDefault("org.slf4j.simpleLogger.logFile", "System.out");
    setDefault("org.slf4j.simpleLogger.showDateTime", "true");
    setDefault("org.slf4j.simpleLogger.dateTimeFormat", "HH:mm:ss.SSS");
    setDefault("org.slf4j.simpleLogger.showThreadName", "false");
    setDefault("org.slf4j.simpleLogger.showShortLogName", "true");
    setDefault("org.slf4j.simpleLogger.log.org.apache.kafka", "warn");
    setDefault("org.slf4j.simpleLogger.log.com.rabbitmq", "warn");
  }

  private static void setDefault(String key, String value) {
    if (System.getProperty(key) == null) {
      System.setProperty(key, value);
    }
  }
}
