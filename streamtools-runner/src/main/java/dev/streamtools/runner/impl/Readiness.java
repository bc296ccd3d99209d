package dev.streamtools.runner.impl;

import io.vertx.core.json.JsonObject;

/**
 * What the readiness endpoint answers.
 *
 * @param ready whether the runner is running and every loop is ready
 * @param body the JSON body: status, state, the queues not ready, and each queue's readiness
 */
record Readiness(boolean ready, JsonObject body) {
}
