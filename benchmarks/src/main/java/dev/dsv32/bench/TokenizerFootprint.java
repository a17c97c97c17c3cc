package dev.dsv32.bench;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import dev.dsv32.tokenizer.Tokenizer;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.util.Locale;

/**
 * Load time and retained heap of a tokenizer, measured in a fresh JVM (run it once per implementation):
 * {@code java -cp benchmarks.jar dev.dsv32.bench.TokenizerFootprint dsv32|dsv32-json|hf-rust}. {@code dsv32} loads the
 * bundled compiled form (what {@code Tokenizer.v32()} does), {@code dsv32-json} parses the bundled tokenizer.json.
 * Heap is the used heap after a full GC, minus the same before loading (the Rust side's native memory is not counted).
 */
public final class TokenizerFootprint {
    private TokenizerFootprint() {}

    public static void main(String[] args) throws Exception {
        String impl = args.length > 0 ? args[0] : "dsv32";
        MemoryMXBean mem = ManagementFactory.getMemoryMXBean();
        System.gc();
        long before = mem.getHeapMemoryUsage().getUsed();
        long t0 = System.nanoTime();
        Object tok;
        switch (impl) {
            case "dsv32":
                tok = Tokenizer.readBundled();
                break;
            case "dsv32-json":
                tok = Tokenizer.readBundledJson();
                break;
            case "hf-rust":
                tok = TokenizerBench.hfRust();
                break;
            default:
                throw new IllegalArgumentException("impl: dsv32, dsv32-json or hf-rust");
        }
        long t1 = System.nanoTime();
        if (tok instanceof Tokenizer) ((Tokenizer) tok).encode("warm up, 你好");
        else ((HuggingFaceTokenizer) tok).encode("warm up, 你好");
        long t2 = System.nanoTime();
        System.gc();
        long after = mem.getHeapMemoryUsage().getUsed();
        System.out.printf(Locale.ROOT, "%s: load %.0f ms, first encode %.1f ms, retained heap %.1f MB%n", impl, (t1 - t0) / 1e6,
                (t2 - t1) / 1e6, (after - before) / 1e6);
        if (tok instanceof HuggingFaceTokenizer) ((HuggingFaceTokenizer) tok).close();
        System.out.println(tok.hashCode() == 0 ? "" : "");
    }
}
