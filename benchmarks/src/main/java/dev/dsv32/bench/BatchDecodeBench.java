package dev.dsv32.bench;

import dev.dsv32.api.GenerateRequest;
import dev.dsv32.api.GenerateResult;
import dev.dsv32.api.Metrics;
import dev.dsv32.api.Model;
import dev.dsv32.encoding.Message;
import dev.dsv32.nativ.Numerics;
import dev.dsv32.nativ.synth.SynthConfig;
import dev.dsv32.nativ.synth.SyntheticCheckpoint;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * Aggregate decode throughput of concurrent requests through the Java API (continuous batching): for each
 * concurrency C, C requests are submitted at once (each its own short prompt, {@code --tokens} completion tokens,
 * end-of-sentence ignored), and decode tokens/s = the completion tokens after each request's first, summed, over the
 * time from the first request's first token to the last request's end. Prints a markdown table.
 *
 * <pre>
 * java -cp benchmarks/target/benchmarks.jar dev.dsv32.bench.BatchDecodeBench [--config tiny_chat|mini | --model DIR]
 *      [--concurrency 1,4,16] [--tokens 32] [--numerics f32|fp8] [--threads N] [--rounds 2] [--greedy]
 * </pre>
 */
public final class BatchDecodeBench {
    private BatchDecodeBench() {}

    public static void main(String[] args) throws Exception {
        String config = "tiny_chat";
        Path dir = null;
        int[] concurrency = {1, 4, 16};
        int tokens = 32;
        int threads = 0;
        int rounds = 2;
        boolean greedy = false;
        Numerics numerics = Numerics.DEFAULT;
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            String v = i + 1 < args.length ? args[i + 1] : null;
            switch (a) {
                case "--config" -> { config = v; i++; }
                case "--model" -> { dir = Path.of(v); i++; }
                case "--concurrency" -> {
                    String[] parts = v.split(",");
                    concurrency = new int[parts.length];
                    for (int k = 0; k < parts.length; k++) concurrency[k] = Integer.parseInt(parts[k].trim());
                    i++;
                }
                case "--tokens" -> { tokens = Integer.parseInt(v); i++; }
                case "--threads" -> { threads = Integer.parseInt(v); i++; }
                case "--rounds" -> { rounds = Integer.parseInt(v); i++; }
                case "--greedy" -> greedy = true;
                case "--numerics" -> { numerics = Numerics.valueOf(v.toUpperCase(Locale.ROOT)); i++; }
                default -> throw new IllegalArgumentException("unknown option " + a
                        + " (expected --config, --model, --concurrency, --tokens, --threads, --rounds, --numerics, --greedy)");
            }
        }
        if (dir == null) {
            SynthConfig sc = null;
            for (SynthConfig c : SynthConfig.values()) if (c.id.equals(config)) sc = c;
            if (sc == null) throw new IllegalArgumentException("unknown --config " + config + " (tiny_chat or mini)");
            dir = SyntheticCheckpoint.cached(sc, 1);
        }
        int maxC = 1;
        for (int c : concurrency) maxC = Math.max(maxC, c);
        try (Model model = Model.builder().path(dir).numerics(numerics).threads(threads).maxSequences(maxC)
                .maxContext(Math.max(256, tokens + 64)).build()) {
            System.out.printf(Locale.ROOT, "model %s, numerics %s, %s sampling, %d completion tokens per request, %d cores%n%n", dir,
                    numerics, greedy ? "greedy" : "temperature 1.0 / top-p 0.95", tokens, Runtime.getRuntime().availableProcessors());
            run(model, 1, Math.min(tokens, 8), greedy); // warm-up
            System.out.println("| concurrent requests | decode tokens/s (aggregate) | per request | vs 1 | mean TTFT ms | forward steps |");
            System.out.println("|---:|---:|---:|---:|---:|---:|");
            double base = 0;
            for (int c : concurrency) {
                double best = 0;
                Result bestR = null;
                for (int r = 0; r < rounds; r++) {
                    Result res = run(model, c, tokens, greedy);
                    if (res.tokensPerSecond > best) {
                        best = res.tokensPerSecond;
                        bestR = res;
                    }
                }
                if (c == 1) base = best;
                System.out.printf(Locale.ROOT, "| %d | %.1f | %.1f | %s | %.0f | %d |%n", c, best, best / c,
                        base > 0 ? String.format(Locale.ROOT, "%.2fx", best / base) : "-", bestR.meanTtftMs, bestR.steps);
            }
        }
    }

    record Result(double tokensPerSecond, double meanTtftMs, long steps) {}

    static Result run(Model model, int c, int tokens, boolean greedy) throws Exception {
        long steps0 = model.metrics().steps();
        List<CompletableFuture<GenerateResult>> fs = new ArrayList<>();
        for (int i = 0; i < c; i++) {
            fs.add(model.generateAsync(GenerateRequest.builder().messages(Message.user("Request " + i + ": write a long story."))
                    .thinking(false).seed(i).temperature(greedy ? 0 : 1.0).maxTokens(tokens).ignoreEos(true).build()));
        }
        long firstToken = Long.MAX_VALUE;
        long end = 0;
        long decodeTokens = 0;
        double ttft = 0;
        for (CompletableFuture<GenerateResult> f : fs) {
            GenerateResult r = f.get(30, TimeUnit.MINUTES);
            firstToken = Math.min(firstToken, r.usage().timeToFirstToken().toNanos());
            end = Math.max(end, r.usage().totalTime().toNanos());
            decodeTokens += r.usage().completionTokens() - 1;
            ttft += r.usage().timeToFirstToken().toNanos() / 1e6;
        }
        Metrics m = model.metrics();
        double seconds = (end - firstToken) / 1e9; // submit times differ by microseconds: offsets from t0 are comparable
        return new Result(decodeTokens / seconds, ttft / c, m.steps() - steps0);
    }
}
