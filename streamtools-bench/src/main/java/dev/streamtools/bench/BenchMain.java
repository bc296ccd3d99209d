package dev.streamtools.bench;

import dev.streamtools.bench.impl.BenchOptions;
import dev.streamtools.bench.impl.Bench;

/**
 * Command-line entry of the benchmarks (not part of streamtools' API): {@code scripts/bench.sh} runs it. Prints
 * progress to stderr and the result tables to stdout; exits 0 when every comparison ran (goals met or not),
 * 1 when a comparison could not run, 2 on bad options.
 */
public final class BenchMain {

  private BenchMain() {
  }

  /**
   * @param args see {@link BenchOptions#usage()}
   */
  public static void main(String[] args) {
    BenchOptions options;
    try {
      options = BenchOptions.parse(args);
    } catch (IllegalArgumentException e) {
      System.err.println(e.getMessage());
      System.exit(2);
      return;
    }
    Bench.Outcome outcome = new Bench(options, System.err).run();
    System.out.println(outcome.markdown());
    System.exit(outcome.allRan() ? 0 : 1);
  }
}
