package dev.dsv32.bench;

import java.time.LocalDate;
import java.util.Collection;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import org.openjdk.jmh.results.Result;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.options.CommandLineOptions;

/**
 * Runs JMH with the usual command-line options and prints the results as a Markdown table in MB/s (UTF-8 bytes of
 * prompt produced or completion parsed, 10^6 bytes per MB):
 * {@code java -cp benchmarks/target/benchmarks.jar dev.dsv32.bench.BenchReport -f 1 -wi 8 -w 1s -i 5 -r 1s}.
 */
public final class BenchReport {
    private BenchReport() {}

    public static void main(String[] args) throws Exception {
        CommandLineOptions options = new CommandLineOptions(args);
        Collection<RunResult> results = new Runner(options).run();
        System.out.println();
        System.out.printf(Locale.ROOT, "Machine: %d CPUs, %s %s, %s %s; %s%n", Runtime.getRuntime().availableProcessors(),
                System.getProperty("os.name"), System.getProperty("os.arch"), System.getProperty("java.vm.name"),
                System.getProperty("java.version"), LocalDate.now());
        System.out.println();
        System.out.println("| Benchmark | Input | Bytes/op | ops/s | MB/s |");
        System.out.println("|---|---|---:|---:|---:|");
        for (RunResult r : results) {
            String name = r.getParams().getBenchmark();
            name = name.substring(name.lastIndexOf('.', name.lastIndexOf('.') - 1) + 1);
            Map<String, String> params = new TreeMap<>();
            for (String k : r.getParams().getParamsKeys()) {
                if (!k.equals("conversation") && !k.equals("corpus")) params.put(k, r.getParams().getParam(k));
            }
            Result<?> primary = r.getPrimaryResult();
            Result<?> bytes = r.getSecondaryResults().get("bytes");
            double ops = primary.getScore();
            String mbs = bytes == null ? "n/a" : String.format(Locale.ROOT, "%.1f ± %.1f", bytes.getScore() / 1e6,
                    Double.isNaN(bytes.getScoreError()) ? 0 : bytes.getScoreError() / 1e6);
            long perOp = bytes == null || ops == 0 ? 0 : Math.round(bytes.getScore() / ops);
            System.out.printf(Locale.ROOT, "| %s | %s | %,d | %.1f | %s |%n", name,
                    params.isEmpty() ? "search conversation" : params.toString(), perOp, ops, mbs);
        }
    }
}
