package dev.streamtools.runner.impl;

import dev.streamtools.runner.ConsumerRunner;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.lang.reflect.InvocationHandler;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

/**
 * How {@link ConsumerRunner#run()} learns it must stop.
 *
 * <p>SIGTERM and SIGINT get handlers of their own (JDK's {@code sun.misc.Signal}, reached reflectively:
 * javac flags it as internal API and the build treats warnings as errors). With them, a signal stops the
 * runner, {@code run()} returns and {@code main} ends normally: exit status 0, which is what process
 * supervisors read as a clean stop. The JVM's default would exit 143/130 from inside a shutdown hook.
 * A second signal exits at once. Where the handlers cannot be installed (another JVM, {@code -Xrs}), and
 * for every other way the JVM exits, a shutdown hook still stops the runner gracefully.
 */
public final class ShutdownSignals implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(ConsumerRunner.class);
  private static final String[] SIGNALS = {"TERM", "INT"};

  private final Consumer<String> onSignal;
  private final AtomicInteger received = new AtomicInteger();
  private final Map<Object, Object> previous = new LinkedHashMap<>();
  private final Thread hook;
  private Method handle;

  private ShutdownSignals(Consumer<String> onSignal, Runnable onJvmExit) {
    this.onSignal = onSignal;
    this.hook = new Thread(onJvmExit, "streamtools-shutdown");
  }

  /**
   * @param onSignal called with the signal's name (TERM, INT) on the first signal, from the JVM's
   *     signal thread; must not block
   * @param onJvmExit called from a shutdown hook when the JVM exits for another reason; may block,
   *     bounded, since the JVM halts when it returns
   * @return the installed handlers; {@link #close()} restores the previous ones
   */
  public static ShutdownSignals install(Consumer<String> onSignal, Runnable onJvmExit) {
    ShutdownSignals s = new ShutdownSignals(onSignal, onJvmExit);
    s.installSignalHandlers();
    Runtime.getRuntime().addShutdownHook(s.hook);
    return s;
  }

  private void installSignalHandlers() {
    try {
      Class<?> signalClass = Class.forName("sun.misc.Signal");
      Class<?> handlerClass = Class.forName("sun.misc.SignalHandler");
      handle = signalClass.getMethod("handle", signalClass, handlerClass);
      Method getName = signalClass.getMethod("getName");
      InvocationHandler dispatch = (proxy, method, args) -> {
        switch (method.getName()) {
          case "handle":
            received(String.valueOf(getName.invoke(args[0])));
            return null;
          case "hashCode":
            return System.identityHashCode(proxy);
          case "equals":
            return proxy == args[0];
          default:
            return "streamtools shutdown signal handler";
        }
      };
      Object handler = Proxy.newProxyInstance(ShutdownSignals.class.getClassLoader(), new Class<?>[] {handlerClass},
        dispatch);
      for (String name : SIGNALS) {
        Object signal = signalClass.getConstructor(String.class).newInstance(name);
        try {
          previous.put(signal, handle.invoke(null, signal, handler));
        } catch (ReflectiveOperationException | RuntimeException e) {
          // in use by the VM (-Xrs) or ignored by the launching shell: the shutdown hook covers it
          LOG.debug("cannot handle SIG{}: {}", name, e.toString());
        }
      }
    } catch (ReflectiveOperationException | RuntimeException | LinkageError e) {
      LOG.debug("no signal handlers ({}); relying on the JVM shutdown hook", e.toString());
    }
  }

  private void received(String signal) {
    if (received.incrementAndGet() == 1) {
      onSignal.accept(signal);
    } else {
      LOG.warn("received SIG{} again: exiting now, without waiting for in-flight messages", signal);
      Runtime.getRuntime().halt("INT".equals(signal) ? 130 : 143);
    }
  }

  /** Restores the previous signal handlers and removes the shutdown hook (unless the JVM is exiting). */
  @Override
  public void close() {
    previous.forEach((signal, old) -> {
      try {
        handle.invoke(null, signal, old);
      } catch (ReflectiveOperationException | RuntimeException e) {
        LOG.debug("cannot restore the handler of {}: {}", signal, e.toString());
      }
    });
    previous.clear();
    try {
      Runtime.getRuntime().removeShutdownHook(hook);
    } catch (IllegalStateException e) {
      // the JVM is already shutting down (the hook may be what ended run()): nothing to remove
    }
  }
}
